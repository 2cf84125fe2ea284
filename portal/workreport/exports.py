"""The work report as an official document (公文: DOCX and PDF through
:mod:`portal.documents`) and its figures as XLSX, one sheet per section.

Both draw the report's snapshot (frozen once issued), so what is downloaded is what the page
shows; the narratives are read as Markdown by :func:`portal.documents.markdown_blocks`, so
Word gets structure, never Markdown source.
"""

from __future__ import annotations

from flask import Response
from flask_babel import gettext as _

from ..authz import staff_required, visible_or_404
from ..documents import (
    PDF_LIMIT,
    Document,
    Paragraph,
    Section,
    Signature,
    Table,
    bureau_name,
    chart_figure,
    document_response,
    markdown_blocks,
    runs,
)
from ..exports import XLSX_MIMETYPE, Column, content_disposition, safe_stem, to_xlsx_sheets
from ..extensions import limiter
from ..i18n import local_today, to_local
from . import bp
from .models import WorkReport
from .snapshot import charts
from .views import snapshot_of

FIGURE_WIDTHS = (3.2, 1.6, 1.6, 1.1, 1.6, 1.1)
FIGURE_ALIGN = ("left", "right", "right", "right", "right", "right")


def _headings(snapshot: dict) -> tuple[str, ...]:
    return (_("Figure"), snapshot["period"], _("Previous period"),
            _("Change on previous period"), _("Same period last year"),
            _("Change year on year"))


def _row(row: dict) -> tuple:
    return (row["label"], row["current"], row["previous"], row["vs_previous"]["text"],
            row["year_ago"], row["vs_year_ago"]["text"])


def report_document(report: WorkReport) -> Document:
    """The report in 公文 layout: a section per part (一、…), its generated sentences, the
    staff's narrative, the table of its figures and its charts (the page's, as images with
    their tables, numbered 图1 …)."""
    snapshot = snapshot_of(report)
    narratives = report.narratives or {}
    drawn = charts(snapshot)
    sections = []
    if snapshot["empty"]:
        sections.append(Section(None, (Paragraph(runs(
            _("There is no data for this period: every figure is zero."))),)))
    for section in snapshot["sections"]:
        blocks = [Paragraph(runs(sentence)) for sentence in section["sentences"]]
        # One point a line, as the text area asks: each line its own paragraph.
        blocks += markdown_blocks(narratives.get(section["key"], "").replace("\n", "\n\n"),
                                  level=2)
        blocks.append(Table(tuple(runs(h) for h in _headings(snapshot)),
                            tuple(tuple(runs(cell) for cell in _row(row))
                                  for row in section["figures"]),
                            widths=FIGURE_WIDTHS, align=FIGURE_ALIGN))
        # the page's charts, drawn as images, each with its table
        blocks += [chart_figure(chart, title, label_heading, value_heading)
                   for chart, title, label_heading, value_heading, _id
                   in drawn.get(section["key"], [])]
        sections.append(Section(section["title"], tuple(blocks)))
    on = to_local(report.issued_at).date() if report.issued_at else local_today()
    return Document(title=_("Work report: %(period)s", period=snapshot["period"]),
                    sections=tuple(sections), signature=Signature(bureau_name(), on))


def _stem(report: WorkReport) -> str:
    return _("work-report-%(period)s-v%(version)d", period=report.period_key,
             version=report.version)


@bp.route("/<int:report_id>/report.pdf", defaults={"kind": "pdf"})
@bp.route("/<int:report_id>/report.docx", defaults={"kind": "docx"},
          endpoint="document_docx")
@staff_required
@limiter.limit(PDF_LIMIT)
def document_pdf(report_id: int, kind: str):
    """The report as PDF or Word, from one document."""
    report = visible_or_404(WorkReport, report_id)
    return document_response(report_document(report), safe_stem(_stem(report)), kind)


def figures_workbook(snapshot: dict) -> bytes:
    """The figures as XLSX: one sheet per section (the values as shown)."""
    columns = [Column(heading) for heading in _headings(snapshot)]
    return to_xlsx_sheets((section["title"], columns,
                           [_row(row) for row in section["figures"]], None)
                          for section in snapshot["sections"])


@bp.route("/<int:report_id>/figures.xlsx")
@staff_required
def figures_xlsx(report_id: int):
    report = visible_or_404(WorkReport, report_id)
    response = Response(figures_workbook(snapshot_of(report)), content_type=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(
        f"{safe_stem(_stem(report))}.xlsx")
    response.headers["Cache-Control"] = "private, no-store"
    return response
