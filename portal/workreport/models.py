"""A written work report: one version of the report of a period, a draft staff edit and an
admin issues. Issuing freezes the figures and the text (``frozen``), so a later data change
does not alter it; re-issuing makes a new version (a new draft, then issued)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..audit.vocabulary import describe
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..page_cache import cache_scope
from ..roles import Role
from ..workflow import Transition, Workflow


class ReportStatus:
    DRAFT = "draft"
    ISSUED = "issued"
    ALL = (DRAFT, ISSUED)
    LABELS = {
        DRAFT: lazy_pgettext("work report status", "Draft"),
        ISSUED: lazy_pgettext("work report status", "Issued"),
    }


REPORT_FLOW = Workflow(
    ReportStatus.ALL,
    [Transition("issue", (ReportStatus.DRAFT,), ReportStatus.ISSUED, ("admin",),
                _l("Issue the report"))],
    labels=ReportStatus.LABELS, noun=_l("The work report"))


class WorkReport(Audited, db.Model):
    __tablename__ = "work_report"
    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'issued')", name="status_known"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("status != 'issued' OR issued_at IS NOT NULL", name="issued_at_known"),
        sa.UniqueConstraint("period_key", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_key: Mapped[str] = mapped_column(sa.String(40), index=True)  # 2026-H1, 2026, a..b
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(10), default=ReportStatus.DRAFT)
    # The staff's narrative per section: {"venues": "…", …} (plain text).
    narratives: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Issued: the figures and sentences in both languages, as shown ({locale: snapshot}).
    frozen: Mapped[dict | None] = mapped_column(sa.JSON)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issued_by = relationship("User", foreign_keys=[issued_by_id])

    @classmethod
    def visible_to(cls, user):
        """Staff and admins read every version (drafts included); nobody else any."""
        return sa.true() if user.role in Role.BUREAU else sa.false()

    @property
    def issued(self) -> bool:
        return self.status == ReportStatus.ISSUED


class WorkReportRevision(db.Model):
    """One saved change of a section's narrative in a draft: who, when, before and after."""

    __tablename__ = "work_report_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("work_report.id", ondelete="CASCADE"),
                                           index=True)
    section: Mapped[str] = mapped_column(sa.String(20))
    before: Mapped[str] = mapped_column(sa.Text, default="")
    after: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")


cache_scope("workreport", WorkReport, WorkReportRevision)


describe(WorkReport, _l("Work report"), labels={
    "period_key": _l("Report period"), "version": _l("Report version"),
    "narratives": _l("Narrative text"), "issued_at": _l("Issued on"),
    "issued_by_id": _l("Issued by")},
    choices={"status": ReportStatus.LABELS}, hidden=("frozen",),
    display=lambda report: f"{report.period_key} v{report.version}")
