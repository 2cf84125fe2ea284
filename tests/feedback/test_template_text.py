"""Every word the feedback pages show goes through the catalogue, punctuation included: no
English text or ASCII brackets and commas hard-coded between values (they read wrongly in
Chinese), and no Chinese punctuation hard-coded into the English pages."""

import re
from pathlib import Path

from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.rentals.factories import make_building, make_room

ROOT = Path(__file__).resolve().parents[2]
# Marks that read the same in both languages (separators, arrows, dashes for "none").
NEUTRAL = {"·", "←", "–", "—", "‹", "›", "▲", "/ 5", "CSV"}


def _literal_text(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = re.sub(r"<style.*?</style>", "", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "\0", text, flags=re.S)
    text = re.sub(r"<[^>]*>", "\0", text)
    return [part.strip() for part in text.split("\0") if part.strip()]


def test_feedback_templates_hard_code_no_words_or_punctuation():
    paths = sorted((ROOT / "templates" / "feedback").glob("*.html"))
    paths += sorted((ROOT / "templates" / "emails").glob("feedback_*"))
    found = {str(path.relative_to(ROOT)): [t for t in _literal_text(path) if t not in NEUTRAL]
             for path in paths}
    assert {path: texts for path, texts in found.items() if texts} == {}


def test_brackets_and_commas_follow_the_language(app, login_as):
    staff = login_as("staff", name="陈晓丽")
    english = login_as("staff", name="Chen Xiaoli", locale="en")
    supervisor = login_as("supervisor", name="李明华")
    make_appointment(app, supervisor.account.id, unit="区财政局办公室")
    category = make_category(app, team="物业管理科")
    item = make_feedback(app, supervisor.account.id, category, status="accepted",
                         assignee_id=staff.account.id)
    page = staff.get(f"/feedback/{item}").get_data(as_text=True)
    assert "陈晓丽（物业管理科）" in page and "李明华，区财政局办公室" in page
    english_page = english.get(f"/feedback/{item}").get_data(as_text=True)
    assert "陈晓丽 (物业管理科)" in english_page and "李明华, 区财政局办公室" in english_page
    assert "（" not in english_page and "，" not in english_page

    building = make_building(app)
    make_room(app, building_id=building, code="301", floor="3F")
    rooms = supervisor.get(f"/feedback/rooms?building_id={building}",
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "301（3F）" in rooms
