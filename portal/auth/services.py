"""Accounts: registration, verification, login, password reset, admin-created accounts.

Every function that changes data commits through :func:`write_transaction`, so a change, its
audit rows and its outbox email are saved together or not at all.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from ..database import is_unique_violation, utcnow, write_transaction
from ..errors import Conflict, ServiceError
from ..extensions import db
from ..outbox.services import queue_email
from ..urls import base_url
from .models import Role, TokenPurpose, User, UserToken
from .passwords import dummy_verify, hash_password, needs_rehash, password_problem, verify_password

security_log = logging.getLogger("portal.security")
INVALID_LINK = _l("This link is invalid, has expired or has already been used.")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def _token_lifetime(purpose: str) -> timedelta:
    config = current_app.config
    if purpose == TokenPurpose.VERIFY_EMAIL:
        return timedelta(hours=config["EMAIL_VERIFY_HOURS"])
    if purpose == TokenPurpose.INVITATION:
        return timedelta(hours=config["INVITATION_HOURS"])
    return timedelta(minutes=config["PASSWORD_RESET_MINUTES"])


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue_token(user: User, purpose: str) -> str:
    """Add a new one-time token to the session; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    db.session.add(
        UserToken(
            user=user,
            purpose=purpose,
            token_hash=_hash_token(raw),
            expires_at=utcnow() + _token_lifetime(purpose),
        )
    )
    return raw


def _link(endpoint: str, **values) -> str:
    """An absolute link for an email (BASE_URL outside requests, e.g. from the CLI)."""
    path = url_for(endpoint, **values)
    return base_url() + path


def _valid_token(raw: str, purposes: tuple[str, ...]) -> UserToken | None:
    token = db.session.scalar(
        sa.select(UserToken).where(
            UserToken.token_hash == _hash_token(raw or ""), UserToken.purpose.in_(purposes)
        )
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    if not token.user.active:
        return None
    return token


def peek_token(raw: str, *purposes: str) -> UserToken | None:
    """The token if it is still usable (to decide whether to show the form)."""
    return _valid_token(raw, purposes)


def _consume_token(raw: str, *purposes: str) -> User:
    """Mark a token used, exactly once even under concurrent requests; return its user."""
    token = _valid_token(raw, purposes)
    if token is None:
        raise ServiceError(INVALID_LINK)
    used = db.session.execute(
        sa.update(UserToken)
        .where(UserToken.id == token.id, UserToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise ServiceError(INVALID_LINK)
    return token.user


def _revoke_tokens(user: User, *purposes: str) -> None:
    """Unused links of these kinds stop working (after a reset, a password change...)."""
    db.session.execute(
        sa.update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.purpose.in_(purposes),
               UserToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _recently_sent(user: User, purpose: str) -> bool:
    """A link of this kind went out less than RESEND_COOLDOWN ago (throttles mail bombing)."""
    since = utcnow() - timedelta(seconds=current_app.config["TOKEN_RESEND_SECONDS"])
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(UserToken).where(
            UserToken.user_id == user.id, UserToken.purpose == purpose,
            UserToken.created_at > since)
    ) > 0


def check_password_policy(password: str, *, email: str, name: str = "", phone: str = "") -> None:
    problem = password_problem(password, email, name, phone)
    if problem:
        raise ServiceError(problem, field="password")


def register_client(*, name: str, organisation: str, phone: str, email: str, password: str) -> User:
    """An outside client registers; the account works once the emailed link is opened."""
    email = normalise_email(email)
    check_password_policy(password, email=email, name=name, phone=phone)
    password_hash = hash_password(password)  # before the write lock: hashing is slow
    with _email_must_be_free(email):
        user = User(
            email=email, name=name.strip(), organisation=organisation.strip(),
            phone=phone.strip(), role=Role.CLIENT, password_hash=password_hash,
        )
        db.session.add(user)
        _send_verification(user)
    return user


@contextmanager
def _email_must_be_free(email: str):
    """A write transaction that refuses an email already in use.

    The check inside the transaction explains the usual case; when two requests race, the
    unique index refuses the second and it gets the same message (never a 500).
    """
    taken = Conflict(_l("An account with this email already exists."), field="email")
    try:
        with write_transaction():
            if find_by_email(email) is not None:
                raise taken
            yield
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise taken from None
        raise


def _send_verification(user: User) -> None:
    raw = _issue_token(user, TokenPurpose.VERIFY_EMAIL)
    queue_email(
        user.email,
        "verify_email",
        locale=user.locale,
        user=user,
        link=_link("auth.verify_email", token=raw),
        hours=current_app.config["EMAIL_VERIFY_HOURS"],
    )


def resend_verification(email: str) -> None:
    """Send a fresh link if such an unverified account exists; say nothing either way."""
    user = find_by_email(email)
    if user is None or user.email_verified_at is not None or not user.active:
        return
    if _recently_sent(user, TokenPurpose.VERIFY_EMAIL):
        security_log.info("verification link for user %s not resent: cooldown", user.id)
        return
    with write_transaction():
        _send_verification(user)


def verify_email(raw: str) -> User:
    with write_transaction():
        user = _consume_token(raw, TokenPurpose.VERIFY_EMAIL)
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
    return user


class LoginRefused(ServiceError):
    """Right password, but the account cannot log in yet (email not verified)."""


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; the failure never says which part was wrong."""
    user = find_by_email(email)
    if user is None:
        dummy_verify()
        security_log.warning("login failed: unknown account %r", normalise_email(email)[:254])
        return None
    if user.password_hash is None:
        dummy_verify()  # an invited account without a password must not answer faster
    if not verify_password(user.password_hash, password):
        security_log.warning("login failed: wrong password for user %s", user.id)
        return None
    if not user.active:
        security_log.warning("login failed: inactive user %s", user.id)
        return None
    if user.role == Role.CLIENT and user.email_verified_at is None:
        raise LoginRefused(_l("Please verify your email first: open the link we sent you."))
    return user


def record_login(user: User, password: str) -> None:
    with write_transaction():
        user.last_login_at = utcnow()
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)


def end_all_sessions(user: User) -> None:
    """Logout everywhere: every session and remember-me cookie of this user stops working."""
    with write_transaction():
        user.session_epoch = user.session_epoch + 1


def request_password_reset(email: str) -> None:
    """Email a reset link if the account exists; the caller shows the same message anyway."""
    user = find_by_email(email)
    if user is None or not user.active:
        security_log.info("password reset requested for unknown or inactive %r", email[:254])
        return
    if _recently_sent(user, TokenPurpose.RESET_PASSWORD):
        security_log.info("password reset for user %s not sent again: cooldown", user.id)
        return
    with write_transaction():
        raw = _issue_token(user, TokenPurpose.RESET_PASSWORD)
        queue_email(
            user.email,
            "reset_password",
            locale=user.locale,
            user=user,
            link=_link("auth.reset_password", token=raw),
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
        )


def reset_password(raw: str, password: str) -> User:
    """Set a new password from a reset or invitation link; all other sessions end."""
    token = _valid_token(raw, (TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION))
    if token is None:
        raise ServiceError(INVALID_LINK)
    user = token.user
    check_password_policy(password, email=user.email, name=user.name, phone=user.phone)
    with write_transaction():
        user = _consume_token(raw, TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION)
        _revoke_tokens(user, TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION)
        user.password_hash = hash_password(password)
        user.session_epoch = user.session_epoch + 1
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()  # the link itself proved the address
    return user


def create_account(
    *, role: str, email: str, name: str, organisation: str = "", phone: str = "",
    password: str | None = None, supplier_id: int | None = None,
    supplier_contact_id: int | None = None,
) -> User:
    """An admin (or the CLI) creates an account; without a password an invitation is sent.

    A supplier account (``supplier_id``, and the contact it is made for) is created by staff
    from the supplier's contact (:func:`portal.partners.services.invite_contact`)."""
    if role not in Role.ALL:
        raise ServiceError(_l("Unknown role."), field="role")
    if (role in Role.FROM_CONTACT) != (supplier_id is not None):
        raise ServiceError(_l("Supplier accounts are created from a contact on the "
                              "supplier's page."), field="role")
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ServiceError(_l("Enter a valid email address."), field="email") from None
    if password is not None:
        check_password_policy(password, email=email, name=name, phone=phone)
    password_hash = hash_password(password) if password else None
    with _email_must_be_free(email):
        user = User(
            email=email, name=name.strip(), organisation=organisation.strip(),
            phone=phone.strip(), role=role, password_hash=password_hash,
            email_verified_at=utcnow() if password else None, supplier_id=supplier_id,
            supplier_contact_id=supplier_contact_id,
        )
        db.session.add(user)
        if password is None:
            raw = _issue_token(user, TokenPurpose.INVITATION)
            queue_email(
                user.email, "invitation", locale=user.locale, user=user,
                link=_link("auth.reset_password", token=raw),
                hours=current_app.config["INVITATION_HOURS"],
            )
    return user


def update_account(user: User, *, role: str, active: bool, acting_user: User) -> None:
    """An admin changes a user's role or deactivates them (which ends their sessions)."""
    if role not in Role.ALL:
        raise ServiceError(_l("Unknown role."), field="role")
    if user.id == acting_user.id and (not active or role != user.role):
        raise ServiceError(_l("You cannot demote or deactivate yourself."), field="role")
    if role != user.role and Role.SUPPLIER in (role, user.role):
        raise ServiceError(_l("Supplier accounts are created from a contact on the "
                              "supplier's page."), field="role")
    with write_transaction():
        ended = (user.active and not active) or role != user.role
        user.role = role
        user.active = active
        if ended:
            user.session_epoch = user.session_epoch + 1
        if not active:
            _revoke_tokens(user, *TokenPurpose.ALL)


def update_profile(user: User, *, name: str, organisation: str, phone: str, locale: str) -> None:
    with write_transaction():
        user.name = name.strip()
        user.organisation = organisation.strip()
        user.phone = phone.strip()
        user.locale = locale


def change_password(user: User, *, current: str, new: str) -> None:
    """Change one's own password; every other session of the user ends."""
    if not verify_password(user.password_hash, current):
        raise ServiceError(_l("The current password is not correct."), field="current_password")
    problem = password_problem(new, user.email, user.name, user.phone)
    if problem:
        raise ServiceError(problem, field="new_password")
    with write_transaction():
        _revoke_tokens(user, TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION)
        user.password_hash = hash_password(new)
        user.session_epoch = user.session_epoch + 1


def purge_expired_tokens() -> int:
    """Delete tokens that expired over a week ago (run by ``tick``)."""
    with write_transaction():
        result = db.session.execute(
            sa.delete(UserToken).where(UserToken.expires_at < utcnow() - timedelta(days=7))
        )
    return result.rowcount


def users_stmt(query: str = "", role: str = ""):
    stmt = sa.select(User).order_by(User.id.desc())
    if role:
        stmt = stmt.where(User.role == role)
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(
            sa.or_(User.email.ilike(like), User.name.ilike(like), User.organisation.ilike(like))
        )
    return stmt


def staff_accounts(ids: list[int] | None = None) -> list[User]:
    """Active staff and admin accounts, by name (only ``ids`` when given): the one query
    behind every "assign to" or "staff present" picker and its check."""
    if ids is not None and not ids:
        return []
    stmt = sa.select(User).where(User.role.in_(Role.BUREAU), User.active)
    if ids is not None:
        stmt = stmt.where(User.id.in_(ids))
    return list(db.session.scalars(stmt.order_by(User.name, User.id)))
