"""The supplier's side of a transferred feedback item, and photos of its done action items.

* :class:`SupplierNote` — a note a supplier's account posts on an item transferred to its
  supplier: a progress note (shown to staff), or a proposed resolution, which stays
  ``pending`` until staff confirm it (the confirmation takes the feedback's own ``resolve``
  step, so the supervisor sees it resolved only then) or decline it with a reason.
* :class:`ActionItemPhoto` — photos a supplier adds when it marks an action item done.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..page_cache import cache_scope, key
from ..roles import Role
from ..uploads import PhotoColumns


class NoteKind:
    PROGRESS = "progress"
    PROPOSAL = "proposal"
    ALL = (PROGRESS, PROPOSAL)
    LABELS = {PROGRESS: _l("Progress note"), PROPOSAL: _l("Proposed resolution")}


class ProposalStatus:
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    ALL = (PENDING, CONFIRMED, DECLINED)
    LABELS = {
        PENDING: lazy_pgettext("proposal status", "Waiting for the bureau"),
        CONFIRMED: lazy_pgettext("proposal status", "Confirmed"),
        DECLINED: lazy_pgettext("proposal status", "Declined"),
    }


class SupplierNote(Audited, db.Model):
    __tablename__ = "feedback_supplier_note"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('progress', 'proposal')", name="kind_known"),
        sa.CheckConstraint("length(body) > 0", name="body_given"),
        sa.CheckConstraint(
            "(kind = 'progress' AND status IS NULL) OR "
            "(kind = 'proposal' AND status IN ('pending', 'confirmed', 'declined'))",
            name="proposal_has_status"),
        sa.CheckConstraint("status IS NULL OR status != 'declined' OR decision_note != ''",
                           name="decline_has_reason"),
        sa.Index("ix_feedback_supplier_note_feedback", "feedback_id", "id"),
        sa.Index("ix_feedback_supplier_note_supplier_status", "supplier_id", "status"),
    )

    MAX_BODY = 4000

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback.id", ondelete="CASCADE"))
    # The supplier the item was transferred to when the note was posted.
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str | None] = mapped_column(sa.String(10))  # proposals only
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feedback = relationship("Feedback")
    supplier = relationship("Supplier")
    author = relationship("User", foreign_keys=[author_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @classmethod
    def visible_to(cls, user):
        """Staff see every note; a supplier's account its own supplier's."""
        if user.role in Role.BUREAU:
            return sa.true()
        if user.role == Role.SUPPLIER:
            return cls.supplier_id == user.supplier_id
        return sa.false()


class ActionItemPhoto(Audited, PhotoColumns, db.Model):
    __tablename__ = "action_item_photo"

    action_item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action_item.id", ondelete="CASCADE"), index=True)

    @property
    def action_id(self) -> int:
        """The action item, as its photo's URL names it."""
        return self.action_item_id


def feedback_key(feedback_id: int) -> str:
    """The suppliers' notes part of one feedback item's page (portal/page_cache.py)."""
    return key("partners", "feedback", feedback_id)


# A supplier's note changes its item's page; an action item's photo is on no cached page but
# the spanning ones (search), which follow the whole scope.
cache_scope("partners", SupplierNote, ActionItemPhoto,
            keys={SupplierNote: lambda note, session: {feedback_key(note.feedback_id)},
                  ActionItemPhoto: lambda photo, session: set()})
