"""The minutes as a print-ready PDF (WeasyPrint, :mod:`portal.documents`) and as DOCX
(python-docx), both in Chinese layout; the iCal invitation of a planned meeting (the one iCal
header and response of :mod:`portal.ical`)."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from flask import Response, current_app, render_template, url_for
from flask_babel import gettext as _
from icalendar import Event

from ..authz import staff_required
from ..database import utcnow
from ..documents import PDF_LIMIT, html_to_pdf, pdf_response
from ..exports import content_disposition
from ..extensions import limiter
from ..i18n import format_time_range, local_zone
from ..ical import ics_response, new_calendar, time_line, uid_domain
from ..markdown import render_markdown
from ..suppliers.lists import join_names
from . import bp
from .models import MeetingStatus
from .views import _actions_by_item, _labels, _meeting

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CJK_FONT = "Noto Serif CJK SC"


def _stem(meeting) -> str:
    day = meeting.starts_at.astimezone(local_zone()).date().isoformat()
    return _("Minutes %(day)s %(title)s", day=day, title=meeting.title)


@bp.route("/<int:meeting_id>/minutes.pdf")
@staff_required
@limiter.limit(PDF_LIMIT)
def minutes_pdf(meeting_id: int):
    meeting = _meeting(meeting_id)
    html = render_template("meetings/minutes_print.html", meeting=meeting, md=render_markdown,
                           by_item=_actions_by_item(meeting), **_labels())
    return pdf_response(html_to_pdf(html), f"{_stem(meeting)}.pdf")


def _cjk(run, size: float | None = None, bold: bool = False) -> None:
    run.font.name = CJK_FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def _paragraph(doc, text: str, size: float = 12, bold: bool = False, center: bool = False,
               style: str | None = None):
    paragraph = doc.add_paragraph(style=style)
    _cjk(paragraph.add_run(text), size, bold)
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def _with_organisation(name: str, supplier) -> str:
    return _("%(name)s (%(organisation)s)", name=name, organisation=supplier.name) \
        if supplier is not None else name


def minutes_docx(meeting) -> bytes:
    """The minutes as a Word document (plain text of the Markdown: Word has no Markdown)."""
    labels = _labels()
    doc = Document()
    _paragraph(doc, _("Minutes of the joint service-quality meeting"), 18, True, True)
    _paragraph(doc, meeting.title, 14, True, True)
    facts = [
        (_("Time"), format_time_range(meeting.starts_at, meeting.ends_at)),
        (_("Location"), meeting.location or "—"),
        (_("Chair"), meeting.chair or "—"),
        (_("Minutes taken by"), meeting.recorder or "—"),
        (_("Invited suppliers"), join_names(s.name for s in meeting.suppliers) or "—"),
    ]
    for label, value in facts:
        _paragraph(doc, _("%(label)s: %(value)s", label=label, value=value))
    present = [a for a in meeting.attendees if a.attended is not False]
    absent = [a for a in meeting.attendees if a.attended is False]
    _paragraph(doc, _("Attendees"), 14, True)
    _paragraph(doc, join_names(_with_organisation(a.display_name, a.supplier)
                               for a in present) or "—")
    if absent:
        _paragraph(doc, _("%(label)s: %(value)s", label=_("Absent"),
                          value=join_names(a.display_name for a in absent)))
    if meeting.summary:
        _paragraph(doc, _("General remarks"), 14, True)
        _paragraph(doc, meeting.summary)
    _paragraph(doc, _("Agenda"), 14, True)
    for number, item in enumerate(meeting.agenda, start=1):
        _paragraph(doc, f"{number}. {_with_organisation(item.label, item.supplier)}", 12, True)
        if item.discussion:
            _paragraph(doc, _("%(label)s: %(value)s", label=_("Discussion"),
                              value=item.discussion))
        if item.decisions:
            _paragraph(doc, _("Decisions: %(text)s", text=item.decisions))
    _paragraph(doc, _("Action items"), 14, True)
    headings = [_("No."), _("What is to be done"), _("Responsible supplier"),
                _("Responsible person"), _("Complete by"), _("Status")]
    table = doc.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings, strict=True):
        cell.text = ""
        _cjk(cell.paragraphs[0].add_run(str(heading)), 10.5, True)
    for number, action in enumerate(meeting.actions, start=1):
        values = [str(number), action.description,
                  action.supplier.name if action.supplier else "—",
                  action.responsible_person or "—",
                  action.due_on.isoformat() if action.due_on else "—",
                  str(labels["action_labels"][action.status])]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = ""
            _cjk(cell.paragraphs[0].add_run(value), 10.5)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


@bp.route("/<int:meeting_id>/minutes.docx")
@staff_required
def minutes_docx_download(meeting_id: int):
    meeting = _meeting(meeting_id)
    response = Response(minutes_docx(meeting), mimetype=DOCX_MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(f"{_stem(meeting)}.docx")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def invitation(meeting) -> bytes:
    calendar = new_calendar(meeting.title)
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{uid_domain()}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", meeting.title)
    event.add("location", meeting.location)
    link = current_app.config["BASE_URL"] + url_for("meetings.meeting", meeting_id=meeting.id)
    lines = [_("Joint service-quality meeting"), time_line(meeting.starts_at, meeting.ends_at),
             _("%(label)s: %(value)s", label=_("Invited suppliers"),
               value=join_names(s.name for s in meeting.suppliers))]
    lines += [f"{n}. {item.label}" for n, item in enumerate(meeting.agenda, start=1)]
    lines.append(link)
    event.add("description", "\n".join(lines))
    event.add("url", link)
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED
              else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


@bp.route("/<int:meeting_id>/invitation.ics")
@staff_required
def invitation_ics(meeting_id: int):
    meeting = _meeting(meeting_id)
    # Staff-only content: browsers may keep it, shared caches must not.
    return ics_response(invitation(meeting), f"meeting-{meeting.id}.ics", cache_control="private")

