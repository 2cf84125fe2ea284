"""Drafts and issuing of work reports: every change locks the report and re-checks it; the
issue step goes through :data:`REPORT_FLOW` (lock, re-check, audit)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..database import utcnow, write_transaction
from ..errors import Conflict, ServiceError
from ..extensions import db
from ..workflow import locked
from .figures import SECTIONS
from .models import REPORT_FLOW, ReportStatus, WorkReport, WorkReportRevision
from .periods import ReportPeriod
from .snapshot import freeze

NARRATIVE_LIMIT = 20_000


class IssuedReport(Conflict):
    """An issued report is frozen: editing it is refused with 409."""

    status_code = 409


def versions(period_key: str) -> list[WorkReport]:
    return list(db.session.scalars(sa.select(WorkReport)
                                   .where(WorkReport.period_key == period_key)
                                   .order_by(WorkReport.version.desc())))


def open_draft(period: ReportPeriod, actor) -> WorkReport:
    """The period's draft, or a new one (the next version after the latest, issued or not).
    The unique (period, version) constraint keeps two drafts from being made at once."""
    with write_transaction():
        latest = db.session.scalar(sa.select(WorkReport)
                                   .where(WorkReport.period_key == period.key)
                                   .order_by(WorkReport.version.desc()).limit(1)
                                   .with_for_update())
        if latest is not None and latest.status == ReportStatus.DRAFT:
            return latest
        report = WorkReport(period_key=period.key,
                            version=(latest.version + 1) if latest else 1,
                            narratives=dict(latest.narratives) if latest else {},
                            created_by_id=actor.id)
        db.session.add(report)
        db.session.flush()
        return report


def _refuse_issued(report: WorkReport) -> None:
    if report.issued:
        raise IssuedReport(_l("Version %(version)d of this report has been issued and can no "
                              "longer be edited. Start a new version to change it.",
                              version=report.version))


def save_narrative(report: WorkReport, section: str, text: str, actor) -> WorkReport:
    """Save a section's narrative (a revision keeps the text before and after)."""
    if section not in SECTIONS:
        raise ServiceError(_l("There is no such section."), "section")
    text = (text or "").strip().replace("\r\n", "\n")
    if len(text) > NARRATIVE_LIMIT:
        raise ServiceError(_l("Keep the text under %(limit)d characters.",
                              limit=NARRATIVE_LIMIT), "text")
    with write_transaction():
        fresh = locked(report)
        _refuse_issued(fresh)
        before = (fresh.narratives or {}).get(section, "")
        if before != text:
            fresh.narratives = {**(fresh.narratives or {}), section: text}
            db.session.add(WorkReportRevision(report_id=fresh.id, section=section,
                                              before=before, after=text, actor_id=actor.id))
        return fresh


def issue(report: WorkReport, period: ReportPeriod, actor,
          expected: str | None = ReportStatus.DRAFT) -> WorkReport:
    """Issue the draft (admins only): the figures and sentences are frozen in both
    languages with the narratives. A second admin issuing at the same moment finds it issued
    (409)."""
    def change(record, _step):
        record.frozen = freeze(period)
        record.issued_at = utcnow()
        record.issued_by_id = actor.id
    return REPORT_FLOW.apply(report, "issue", actor, expected=expected, change=change)


def revisions(report: WorkReport) -> list[WorkReportRevision]:
    return list(db.session.scalars(sa.select(WorkReportRevision)
                                   .where(WorkReportRevision.report_id == report.id)
                                   .order_by(WorkReportRevision.id.desc()).limit(50)))
