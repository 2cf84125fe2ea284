"""The minutes as an official document (portal/documents.py), PDF and Word, in both languages:
A4 in the GB/T layout, every agenda item with its tables (the satisfaction table of the
满意度数据 item too), the action table readable, the Markdown as structure, nothing overprinted."""

from __future__ import annotations

from datetime import date

import pytest

from portal.database import write_transaction
from portal.extensions import db
from portal.meetings.models import AgendaItem, AgendaKind
from portal.suppliers.models import Supplier
from tests.documents import (
    assert_a4,
    assert_no_overlap,
    assert_page_numbers,
    assert_word_layout,
    headings,
    page_images,
    red_pixels,
    text_lines,
    word,
)
from tests.meetings.factories import make_action, make_agenda_item, make_meeting

DISCUSSION = """## 议题讨论

监督员反映**2号楼三楼**卫生间午间积水，供应商项目经理**王建华**说明了原因。

- 供应商说明：午间人员不足
- 机管局要求：高峰时段增加巡查

| 时段 | 巡查次数 |
|---|--:|
| 11:30–13:30 | 2 |
"""
FIGURES = [
    {"round_id": 7, "round_title": "2026年上半年满意度调查", "closes_on": "2026-06-30",
     "category_label": "保洁", "rate": 93.5, "valid_responses": 41},
    {"round_id": 6, "round_title": "2025年下半年满意度调查", "closes_on": "2025-12-31",
     "category_label": "保洁", "rate": 88.0, "valid_responses": 39},
]
ACTIONS = [("午间增派一名保洁员，建立卫生间巡查记录表并每周报送机关事务管理局", date(2026, 12, 20)),
           ("制定并执行会议中心地毯季度清洗计划", date(2027, 1, 15)),
           ("完善夜间值班记录并每月报送机管局", date(2027, 2, 28))]


def _minutes(app, world) -> tuple[int, str]:
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    item_id = make_agenda_item(app, meeting_id, "办公楼卫生间保洁不及时",
                               supplier_id=world.supplier_id)
    figures_id = make_agenda_item(app, meeting_id, "", supplier_id=world.supplier_id,
                                  position=2)
    with app.test_request_context(), write_transaction():
        item = db.session.get(AgendaItem, item_id)
        item.discussion = DISCUSSION
        item.decisions = "午间（11:30–13:30）增加一名保洁员巡查。"
        figures = db.session.get(AgendaItem, figures_id)
        figures.kind = AgendaKind.SATISFACTION
        figures.figures = FIGURES
        figures.discussion = "满意率较上期提高5.5个百分点。"
        supplier = db.session.get(Supplier, world.supplier_id).name
    for description, due_on in ACTIONS:
        make_action(app, meeting_id, supplier_id=world.supplier_id, agenda_item_id=item_id,
                    description=description, person="王建华", due_on=due_on)
    return meeting_id, supplier


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_minutes_pdf(app, login_as, world, tmp_path, lang):
    meeting_id, supplier = _minutes(app, world)
    response = login_as("staff").get(f"/meetings/{meeting_id}/minutes.pdf?lang={lang}")
    assert response.status_code == 200
    pdf = response.data
    pages = assert_a4(pdf)
    assert pages == 2
    lines = text_lines(pdf, tmp_path)
    assert_no_overlap(lines)
    assert_page_numbers(lines, pages)
    texts = [line.text for line in lines]
    joined = "\n".join(texts)
    zh = lang == "zh"
    assert ("第三季度服务质量联席会议纪要" if zh
            else "Minutes of 第三季度服务质量联席会议") in texts
    assert ("区机关事务管理局" if zh else "District Administrative Affairs") in texts[0]
    # every agenda item, the satisfaction one with its table
    figures_heading = (f"（二）满意度数据（{supplier}）" if zh
                       else f"2.2 Satisfaction figures ({supplier})")
    assert figures_heading in texts
    for figure in FIGURES:
        assert figure["round_title"] in joined and f"{figure['rate']:.1f}%" in joined
    assert "满意率较上期提高5.5个百分点。" in joined
    # the Markdown as structure: a numbered heading, bold without asterisks, the table
    assert ("1.议题讨论" if zh else "2.1.1 议题讨论") in texts
    assert "**" not in joined and "## " not in joined and "11:30–13:30" in joined
    # the action table: a date on one line, descriptions in lines of many characters
    for description, due_on in ACTIONS:
        assert any(due_on.isoformat() in text for text in texts), due_on
        first = [text for text in texts if text.startswith(description[:4])]
        assert first and len(first[0]) >= 12, first
    # the bureau's red mark on the first page
    images = page_images(pdf, tmp_path)
    assert red_pixels(images[0], 0.1, 0.25) > 50


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_minutes_in_word(app, login_as, world, lang):
    meeting_id, supplier = _minutes(app, world)
    response = login_as("staff").get(f"/meetings/{meeting_id}/minutes.docx?lang={lang}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    document = word(response.data)
    assert_word_layout(document)
    found = headings(document)
    zh = lang == "zh"
    assert ("Heading 2", f"（一）办公楼卫生间保洁不及时（{supplier}）" if zh
            else f"2.1 办公楼卫生间保洁不及时 ({supplier})") in found
    assert ("Heading 2", f"（二）满意度数据（{supplier}）" if zh
            else f"2.2 Satisfaction figures ({supplier})") in found
    assert ("Heading 3", "1.议题讨论" if zh else "2.1.1 议题讨论") in found
    paragraph = next(p for p in document.paragraphs if p.text.startswith("监督员反映"))
    assert [r.text for r in paragraph.runs if r.bold] == ["2号楼三楼", "王建华"]
    # the Markdown table, the satisfaction table and the action table
    tables = [[[cell.text for cell in row.cells] for row in table.rows]
              for table in document.tables]
    assert len(tables) == 3
    assert tables[0] == [["时段", "巡查次数"], ["11:30–13:30", "2"]]
    assert tables[1][1] == ["2026年上半年满意度调查", "2026-06-30", "保洁", "93.5%", "41"]
    assert [row[1] for row in tables[2][1:]] == [d for d, _ in ACTIONS]
    assert [row[4] for row in tables[2][1:]] == [d.isoformat() for _, d in ACTIONS]
