"""Survey pages say everything through the catalog: no English words outside ``_()`` and no
punctuation of one language hard-coded around translated text (the Chinese UI takes "：" and
"（）", the English one ": " and "()"), in the pages, the survey emails and the exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.feedback.factories import make_category
from tests.surveys.factories import invite, make_questionnaire, make_round

ROOT = Path(__file__).resolve().parents[2] / "templates"
TEMPLATES = sorted([*ROOT.glob("surveys/*.html"), *ROOT.glob("emails/survey_*")])


def _literal_text(source: str) -> list[str]:
    """The template's own text: what is left outside comments, tags, statements and
    expressions (an expression is kept as "{x}" so the text around it shows)."""
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", "\0", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", "{x}", source, flags=re.S)
    source = re.sub(r"<[^>]*>", "\0", source, flags=re.S)
    return [piece.strip() for piece in re.split(r"[\0\n]", source) if piece.strip()]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_survey_templates_have_no_untranslated_words_or_punctuation(path):
    assert TEMPLATES
    offending = [piece for piece in _literal_text(path.read_text(encoding="utf-8"))
                 if re.search(r"[A-Za-z\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]|[:()]",
                              piece.replace("{x}", ""))]
    assert offending == []


def test_the_round_pages_use_each_languages_punctuation(app, login_as):
    category = make_category(app, name="食堂餐饮", name_en="Canteen")
    round_id = make_round(app, make_questionnaire(app, [category]))
    invite(app, round_id, "a@example.com")
    staff = login_as("staff")
    chinese = staff.get(f"/surveys/rounds/{round_id}").get_data(as_text=True)
    assert "<strong>食堂餐饮</strong>：总体评价" in chinese
    assert "（满意度量表）" in chinese
    assert "</strong>: " not in chinese
    english = staff.get(f"/surveys/rounds/{round_id}?lang=en").get_data(as_text=True)
    assert "<strong>Canteen</strong>: 总体评价" in english
    assert "(Satisfaction scale)" in english and "（" not in english
    results = staff.get(f"/surveys/rounds/{round_id}/results?lang=en").get_data(as_text=True)
    assert "<h1>Results: 2026年上半年满意度调查" in results
    results = staff.get(f"/surveys/rounds/{round_id}/results?lang=zh").get_data(as_text=True)
    assert "：2026年上半年满意度调查" in results
    export = staff.get(f"/surveys/rounds/{round_id}/results/export?report=answers&format=csv")
    assert "食堂餐饮：总体评价" in export.get_data(as_text=True)
