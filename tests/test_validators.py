from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from portal.validators import (
    USCC_ALPHABET,
    id_check_char,
    is_valid_resident_id,
    is_valid_uscc,
    uscc_check_char,
)


def test_known_credit_codes():
    assert is_valid_uscc("91350100M000100Y43")  # a published example code
    assert not is_valid_uscc("91350100M000100Y44")  # wrong check character
    assert not is_valid_uscc("91350100M000100Y4")  # 17 characters
    assert not is_valid_uscc("91350100M000100YI3")  # I is not in the alphabet


def test_known_resident_ids():
    assert is_valid_resident_id("11010519491231002X")  # the standard's example
    assert not is_valid_resident_id("110105194912310021")
    assert not is_valid_resident_id("110105194913310023")  # month 13
    assert is_valid_resident_id("11010519491231002x")  # lower-case x is accepted


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_every_code_with_its_check_character_is_valid(first17):
    code = first17 + uscc_check_char(first17)
    assert is_valid_uscc(code)
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 1) % 31]
    assert not is_valid_uscc(first17 + wrong)


@given(st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)),
       st.integers(0, 999))
def test_resident_ids_with_their_check_digit_are_valid(born, sequence):
    first17 = f"310116{born:%Y%m%d}{sequence:03d}"
    assert is_valid_resident_id(first17 + id_check_char(first17))
