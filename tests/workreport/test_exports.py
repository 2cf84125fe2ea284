"""The work report as DOCX and PDF (the official-document checks) and its figures as XLSX,
one sheet per section; an issued report's downloads keep its frozen figures."""

from __future__ import annotations

import io
import re
import subprocess

from openpyxl import load_workbook

from portal.extensions import db
from portal.workreport import periods, services
from portal.workreport.models import WorkReport
from tests.conftest import csrf_token, make_user
from tests.documents import assert_a4, assert_word_layout, headings, word, word_texts
from tests.workreport.test_drafts import _feedback_in_h1


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



def _images(document) -> list[bytes]:
    return sorted(rel.target_part.blob for rel in document.part.rels.values()
                  if rel.reltype.endswith("/image"))


def _table_headers(document) -> list[list[str]]:
    return [[cell.text for cell in table.rows[0].cells] for table in document.tables]


def test_docx_carries_the_charts_as_images_with_their_tables(app, login_as):
    report_id = _report(app, narrative="")
    staff = login_as("staff")
    document = word(staff.get(f"/work-report/{report_id}/report.docx").data)
    # satisfaction per round, feedback per service, income per month: pictures across the text
    assert len(document.inline_shapes) == 3
    captions = [p.text for p in document.paragraphs if re.match(r"图\d", p.text)]
    assert captions == ["图1\u3000各轮调查满意率", "图2\u3000各服务项目收到的反馈",
                        "图3\u3000每月创收（元）"], captions
    headers = _table_headers(document)
    assert ["调查轮次", "满意率"] in headers and ["服务项目", "件数"] in headers, headers
    assert any(header[:2] == ["月", "创收"] for header in headers), headers
    # each image is followed by its caption, then its table
    body = [child.tag.rsplit("}", 1)[1] + ("-picture" if "graphicData" in child.xml else "")
            for child in document.element.body]
    assert body.count("p-picture") == 3
    for at in [n for n, kind in enumerate(body) if kind == "p-picture"]:
        assert body[at + 1] == "p" and body[at + 2] == "tbl"
    english = word(staff.get(f"/work-report/{report_id}/report.docx?lang=en").data)
    assert len(english.inline_shapes) == 3
    assert [p.text for p in english.paragraphs if p.text.startswith("Figure ")][0] == \
        "Figure 1. Satisfaction rate per survey round"


def test_pdf_carries_the_charts_as_images(app, login_as, tmp_path):
    report_id = _report(app, narrative="")
    pdf = login_as("staff").get(f"/work-report/{report_id}/report.pdf").data
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    images = subprocess.run(["pdfimages", "-list", str(source)], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]
    assert len(images) == 3, images
    text = re.sub(r"\s", "", subprocess.run(["pdftotext", str(source), "-"],
                                             capture_output=True, text=True, check=True).stdout)
    assert "图1各轮调查满意率" in text and "图3每月创收（元）" in text, text


def test_a_period_without_data_exports_charts_that_say_so(app, login_as):
    staff = make_user(app, "staff")
    with app.test_request_context():
        report_id = services.open_draft(periods.parse("2001"), staff).id
    client = login_as("staff")
    page = client.get(f"/work-report/{report_id}")
    assert page.status_code == 200 and 'id="no-data"' in page.text
    assert 'id="chart-satisfaction-title"' in page.text and "暂无数据。" in page.text
    response = client.get(f"/work-report/{report_id}/report.docx")
    assert response.status_code == 200
    document = word(response.data)
    assert len(document.inline_shapes) == 3  # the charts are there and say "no data"
    assert "本期没有数据，各项数字均为零。" in word_texts(document)
    pdf = client.get(f"/work-report/{report_id}/report.pdf")
    assert pdf.status_code == 200 and assert_a4(pdf.data) >= 1


def test_an_issued_reports_charts_do_not_change_with_the_data(app, login_as):
    report_id = _report(app, narrative="")
    admin = login_as("admin")
    token = csrf_token(admin, f"/work-report/{report_id}")
    issued = admin.post(f"/work-report/{report_id}/issue",
                        data={"csrf_token": token, "expected": "draft"})
    assert issued.status_code == 302, issued.text[:2000]
    draft_id = _report(app, narrative="")  # the draft of version 2 shows live figures

    def images(report: int) -> list[bytes]:
        return _images(word(admin.get(f"/work-report/{report}/report.docx").data))

    before, draft_before = images(report_id), images(draft_id)
    assert draft_id != report_id and draft_before == before
    _feedback_in_h1(app)  # an item for a new service, after issue
    assert images(report_id) == before
    assert images(draft_id) != draft_before


def test_charts_frozen_before_notes_still_draw(app):
    """A report issued before the satisfaction series carried notes and a target
    ([title, rate] pairs) draws the same chart, without them."""
    from portal.workreport.snapshot import charts

    with app.test_request_context("/?lang=zh"):
        drawn = charts({"charts": {"satisfaction": [["第一轮", 80.0], ["第二轮", None]],
                                   "feedback_by_service": [], "rent_by_month": []}})
    (line, *_titles), (bars, *_rest) = drawn["supervision"]
    assert [(p.label, p.value) for p in line.points] == [("第一轮", 80.0), ("第二轮", None)]
    assert not line.has_notes and line.target is None
    assert bars.empty and drawn["income"][0][0].empty  # no data: the charts say so
