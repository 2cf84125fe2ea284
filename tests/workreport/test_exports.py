"""The work report as DOCX and PDF (the official-document checks) and its figures as XLSX,
one sheet per section; an issued report's downloads keep its frozen figures."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from portal.extensions import db
from portal.workreport import periods, services
from portal.workreport.models import WorkReport
from tests.conftest import make_user
from tests.documents import assert_a4, assert_word_layout, headings, word, word_texts


def _report(app, narrative="**重点**：完成人代会会务保障。\n\n- 食堂改造\n- 车辆管理") -> int:
    staff = make_user(app, "staff")
    with app.test_request_context():
        report = services.open_draft(periods.parse("2026-H1"), staff)
        services.save_narrative(report, "venues", narrative, staff)
        return report.id


def test_docx_is_an_official_document_without_markdown(app, login_as):
    report_id = _report(app)
    response = login_as("staff").get(f"/work-report/{report_id}/report.docx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    document = word(response.data)
    assert_word_layout(document)  # A4, GB/T 9704 margins, no Markdown left
    texts = "\n".join(word_texts(document))
    assert "工作总结" in texts and "完成人代会会务保障" in texts and "食堂改造" in texts
    titles = [text for _style, text in headings(document)]
    assert any(text.startswith("一、") for text in titles), titles
    assert any("创收" in text for text in titles), titles


def test_pdf_is_a4(app, login_as):
    report_id = _report(app)
    response = login_as("staff").get(f"/work-report/{report_id}/report.pdf")
    assert response.status_code == 200
    assert assert_a4(response.data) >= 1


def test_english_docx(app, login_as):
    report_id = _report(app, narrative="")
    response = login_as("staff").get(f"/work-report/{report_id}/report.docx?lang=en")
    texts = "\n".join(word_texts(word(response.data)))
    assert "Work report" in texts and "Income" in texts


def test_figures_xlsx_has_one_sheet_per_section(app, login_as):
    report_id = _report(app)
    response = login_as("staff").get(f"/work-report/{report_id}/figures.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 5
    with app.app_context():
        assert db.session.get(WorkReport, report_id).status == "draft"
