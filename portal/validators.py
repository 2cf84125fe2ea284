"""Checks of Chinese identifiers with check digits, shared by every module.

* Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
  31-character alphabet; the last is a check character (weighted sum modulo 31).
* Resident identity card number (居民身份证号码, GB 11643-1999): 17 digits and a check
  character (ISO 7064 MOD 11-2, 'X' for 10), with a valid birth date.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def normalise_code(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    code = normalise_code(value)
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def is_valid_resident_id(value: str) -> bool:
    code = normalise_code(value)
    if len(code) != 18 or not code[:17].isdigit() or code[17] not in "0123456789X":
        return False
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    return id_check_char(code[:17]) == code[17]


class UnifiedSocialCreditCode:
    def __call__(self, form, field):
        if field.data and not is_valid_uscc(field.data):
            raise ValidationError(_l(
                "Not a valid unified social credit code: 18 characters whose last one is "
                "the check character."))


class ResidentId:
    def __call__(self, form, field):
        if field.data and not is_valid_resident_id(field.data):
            raise ValidationError(_l(
                "Not a valid resident ID number: 18 characters with a valid birth date and "
                "check digit."))
