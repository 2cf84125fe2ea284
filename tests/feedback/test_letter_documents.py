"""The appointment letter (聘书) as an official document, PDF and Word, in both languages: A4,
one page, its number under the bureau's red mark, the term and the issuer never printed over
each other."""

from __future__ import annotations

from datetime import date

import pytest

from tests.documents import (
    assert_a4,
    assert_no_overlap,
    assert_page_numbers,
    assert_word_layout,
    page_images,
    red_pixels,
    text_lines,
    word,
    word_texts,
)
from tests.feedback.factories import make_appointment


@pytest.fixture
def letter(app, login_as):
    """A supervisor (logged in) with an appointment whose term is in 2026-2027."""
    person = login_as("supervisor", name="张卫东")
    appointment_id = make_appointment(app, person.account.id, unit="区财政局办公室",
                                      title="主任", start=date(2026, 3, 1),
                                      end=date(2027, 2, 28))
    return person, appointment_id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_letter_pdf(letter, tmp_path, lang):
    person, appointment_id = letter
    response = person.get(f"/feedback/roster/{appointment_id}/letter.pdf?lang={lang}")
    assert response.status_code == 200
    pdf = response.data
    assert assert_a4(pdf) == 1
    lines = text_lines(pdf, tmp_path)
    assert_no_overlap(lines)
    assert_page_numbers(lines, 1)
    texts = [line.text for line in lines]
    joined = "\n".join(texts)
    assert any(text.startswith("监督聘〔2026〕") for text in texts)
    if lang == "zh":
        assert texts[0] == "区机关事务管理局"
        title = [line for line in lines if line.text in ("聘", "书")]  # 聘　书, spaced out
        assert len(title) == 2 and title[0].y0 == title[1].y0
        assert "聘期：2026年3月1日至2027年2月28日。" in joined.replace("\n", "")
        assert texts[-3:-1] == ["区机关事务管理局", "2026年3月1日"]
    else:
        assert "Appointment letter" in texts
        assert "Term: March 1, 2026 to February 28, 2027." in texts
        assert texts[-2] == "March 1, 2026"
    # the signature stands below the term, inside the text block, its right edge four
    # characters (64 pt) in from the right edge, the date centred under the issuer
    term = next(line for line in lines if "2027" in line.text)
    issuer, issued = lines[-3], lines[-2]
    assert issuer.y0 > term.y1 + 20 and issued.y0 > issuer.y1
    text_right = 595.276 - 26 * 72 / 25.4
    assert issuer.x0 >= 28 * 72 / 25.4 - 0.5 and max(issuer.x1, issued.x1) <= text_right
    if lang == "zh":  # (the English name is too long to stand four characters in)
        assert abs(max(issuer.x1, issued.x1) - (text_right - 4 * 16)) < 3
    assert abs((issuer.x0 + issuer.x1) / 2 - (issued.x0 + issued.x1) / 2) < 3
    images = page_images(pdf, tmp_path)
    assert red_pixels(images[0], 0.1, 0.25) > 50


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_letter_in_word(letter, lang):
    person, appointment_id = letter
    response = person.get(f"/feedback/roster/{appointment_id}/letter.docx?lang={lang}")
    assert response.status_code == 200
    document = word(response.data)
    assert_word_layout(document)
    texts = [text for text in word_texts(document) if text]
    assert texts[1].startswith("监督聘〔2026〕")
    if lang == "zh":
        assert texts[2] == "聘　书" and texts[3] == "张卫东同志（区财政局办公室主任）："
        assert texts[-2:] == ["区机关事务管理局", "2026年3月1日"]
    else:
        assert texts[2] == "Appointment letter"
        assert texts[-1] == "March 1, 2026"


def test_only_their_own_letter_for_a_supervisor(app, letter, login_as):
    _person, appointment_id = letter
    other = login_as("supervisor")
    for suffix in ("pdf", "docx"):
        assert other.get(f"/feedback/roster/{appointment_id}/letter.{suffix}").status_code == 404
    assert login_as("staff").get(f"/feedback/roster/{appointment_id}/letter.docx") \
        .status_code == 200
