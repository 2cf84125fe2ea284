"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 8
MAX_LENGTH = 256  # long passphrases are welcome; the cap only bounds hashing work

# zxcvbn's 30,000 most common passwords plus patterns common in Chinese-speaking countries.
_COMMON = frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(
    {
        "woaini1314", "5201314", "woaini520", "a123456", "a12345678", "qq123456",
        "1qaz2wsx", "1q2w3e4r", "abc12345", "aa123456", "88888888", "66666666",
        "123456aa", "zxcvbnm123", "password123", "admin123", "admin888", "iloveyou1314",
        "woaini123", "qwe123456", "asd123456", "z123456789", "wang123456", "li123456",
    }
)


def _hasher() -> PasswordHasher:
    cached = current_app.extensions.get("portal.password_hasher")
    if cached is None:
        config = current_app.config
        cached = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_KIB"],
            parallelism=config["ARGON2_PARALLELISM"],
            type=Type.ID,
        )
        current_app.extensions["portal.password_hasher"] = cached
    return cached


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problem(password: str, *personal: str):
    """Why this password is refused, or None.  ``personal``: the user's email, name, phone."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) <= 2:
        return _l("This password is too common; choose a less guessable one.")
    for item in personal:
        item = (item or "").lower()
        if item and (lowered == item or lowered == item.split("@")[0]):
            return _l("Do not use your name, email or phone number as your password.")
    return None


def dummy_verify() -> None:
    """Spend the same time as a real check, so timing does not reveal unknown accounts."""
    verify_password(_dummy_hash(), "not the password")


def _dummy_hash() -> str:
    cached = current_app.extensions.get("portal.dummy_hash")
    if cached is None:
        cached = hash_password("a dummy password nobody uses")
        current_app.extensions["portal.dummy_hash"] = cached
    return cached
