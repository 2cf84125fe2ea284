"""The minutes as an official document (:mod:`portal.documents`: one structure, rendered to a
print-ready PDF and to Word); the iCal invitation of a planned meeting (the one iCal header and
response of :mod:`portal.ical`)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from icalendar import Event

from ..authz import staff_required
from ..database import utcnow
from ..documents import (
    PDF_LIMIT,
    Document,
    Heading,
    Paragraph,
    Section,
    Signature,
    Table,
    bureau_name,
    document_response,
    markdown_blocks,
    runs,
)
from ..extensions import limiter
from ..i18n import format_time_range, local_zone
from ..ical import ics_response, new_calendar, time_line, uid_domain
from ..lists import join_names
from ..urls import base_url
from . import bp
from .models import MeetingStatus
from .views import _labels, _meeting

# Column widths of the action table (No., what, supplier, person, due, status): the text
# column takes what the short ones leave, a date stays on one line.
ACTION_WIDTHS = (8, 32, 19, 12, 17, 12)
SATISFACTION_WIDTHS = (35, 17, 18, 14, 16)


def _stem(meeting) -> str:
    day = meeting.starts_at.astimezone(local_zone()).date().isoformat()
    return _("Minutes %(day)s %(title)s", day=day, title=meeting.title)


def _with_organisation(name: str, supplier) -> str:
    return _("%(name)s (%(organisation)s)", name=name, organisation=supplier.name) \
        if supplier is not None else name


def _fact(label: str, value: str) -> Paragraph:
    """"时间：…" ("Time: …") with its label in bold."""
    return Paragraph((*runs(_("%(label)s: %(value)s", label=label, value=""), bold=True),
                      *runs(value or "—")))


def satisfaction_table(figures: list[dict]) -> Table:
    """The satisfaction figures of an agenda item (the snapshot taken with the agenda)."""
    return Table(
        tuple(runs(h) for h in (_("Survey round"), _("Closed on"), _("Service"),
                                _("Satisfaction rate"), _("Valid responses"))),
        tuple((runs(f.get("round_title") or "—"), runs(f.get("closes_on") or "—"),
               runs(f.get("category_label") or "—"),
               runs("—" if f.get("rate") is None else f"{f['rate']:.1f}%"),
               runs(str(f.get("valid_responses", 0)))) for f in figures),
        widths=SATISFACTION_WIDTHS, align=("left", "center", "left", "right", "right"))


def minutes_document(meeting) -> Document:
    """The minutes (会议纪要): facts, general remarks, every agenda item with its satisfaction
    table, its discussion (Markdown, as real structure) and decisions, then the action table."""
    zone = local_zone()
    labels = _labels()
    present = [a for a in meeting.attendees if a.attended is not False]
    absent = [a for a in meeting.attendees if a.attended is False]
    facts = [
        _fact(_("Time"), format_time_range(meeting.starts_at, meeting.ends_at)),
        _fact(_("Location"), meeting.location),
        _fact(_("Chair"), meeting.chair),
        _fact(_("Minutes taken by"), meeting.recorder),
        _fact(_("Invited suppliers"), join_names(s.name for s in meeting.suppliers)),
        _fact(_("Attendees"), join_names(_with_organisation(a.display_name, a.supplier)
                                         for a in present)),
    ]
    if absent:
        facts.append(_fact(_("Absent"), join_names(a.display_name for a in absent)))
    agenda = []
    for item in meeting.agenda:
        agenda.append(Heading(_with_organisation(item.label, item.supplier), 2))
        if item.figures:
            agenda.append(satisfaction_table(item.figures))
        agenda += markdown_blocks(item.discussion, level=3)
        if item.decisions:
            agenda.append(_fact(_("Decisions"), item.decisions))
    actions = Table(
        tuple(runs(h) for h in (_("No."), _("What is to be done"), _("Responsible supplier"),
                                _("Responsible person"), _("Complete by"), _("Status"))),
        tuple((runs(str(n)), runs(a.description), runs(a.supplier.name if a.supplier else "—"),
               runs(a.responsible_person or "—"),
               runs(a.due_on.isoformat() if a.due_on else "—"),
               runs(str(labels["action_labels"][a.status])))
              for n, a in enumerate(meeting.actions, start=1)),
        widths=ACTION_WIDTHS, align=("center", "left", "left", "left", "center", "center"))
    sections = [Section(_("Meeting information"), tuple(facts))]
    if meeting.summary:
        sections.append(Section(_("General remarks"), tuple(markdown_blocks(meeting.summary))))
    sections.append(Section(_("Agenda"), tuple(agenda) or (Paragraph(runs("—")),)))
    sections.append(Section(_("Action items"), (actions,) if meeting.actions
                            else (Paragraph(runs("—")),)))
    issued = (meeting.published_at or meeting.starts_at).astimezone(zone).date()
    return Document(title=_("Minutes of %(title)s", title=meeting.title),
                    sections=tuple(sections), signature=Signature(bureau_name(), issued))


@bp.route("/<int:meeting_id>/minutes.pdf", defaults={"kind": "pdf"})
@bp.route("/<int:meeting_id>/minutes.docx", defaults={"kind": "docx"},
          endpoint="minutes_docx_download")
@staff_required
@limiter.limit(PDF_LIMIT)
def minutes_pdf(meeting_id: int, kind: str):
    """The minutes as PDF or as Word, from one document."""
    meeting = _meeting(meeting_id)
    return document_response(minutes_document(meeting), _stem(meeting), kind)


def invitation(meeting) -> bytes:
    calendar = new_calendar(meeting.title)
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{uid_domain()}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", meeting.title)
    event.add("location", meeting.location)
    link = base_url() + url_for("meetings.meeting", meeting_id=meeting.id)
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

