"""The service catalogue: the bureau's services (canteen, cleaning, elevators...), each with the
responsible staff team, SLA deadlines in Chinese working days and, where the service is
outsourced, the service contract (and so the supplier) that covers it.

The catalogue sits below the modules that use it (suppliers, feedback, surveys, meetings): it
imports none of them.  The contract is named by its table and class name only; the suppliers
module, which owns contracts, tells the catalogue's pages about them through
:mod:`portal.catalogue.services` (``contract_source``).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..extensions import db
from ..page_cache import cache_scope
from ..workdays import add_workdays


class ServiceCategory(Audited, db.Model):
    __tablename__ = "service_category"
    __table_args__ = (
        sa.CheckConstraint("response_days > 0", name="response_days_positive"),
        sa.CheckConstraint("resolution_days >= response_days", name="resolution_after_response"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))  # Chinese
    name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    team: Mapped[str] = mapped_column(sa.String(100), default="")  # responsible staff team
    default_assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # Outsourced services: the contract that covers the service (its supplier follows).
    contract_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_contract.id", ondelete="SET NULL", use_alter=True), index=True)
    # SLA in Chinese working days: first response, and resolution, after submission.
    response_days: Mapped[int] = mapped_column(default=1)
    resolution_days: Mapped[int] = mapped_column(default=5)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    # By name: the suppliers module sits above the catalogue (see the module docstring).
    contract = relationship("ServiceContract", foreign_keys=[contract_id])
    default_assignee = relationship("User", foreign_keys=[default_assignee_id])

    @property
    def label(self) -> str:
        english = str(get_locale() or "zh").startswith("en")
        return (self.name_en or self.name) if english else self.name

    @property
    def supplier(self):
        return self.contract.supplier if self.contract is not None else None

    def contract_on(self, day: date):
        """The contract that covers the service on ``day``: the category's contract followed
        through its renewals (:meth:`ServiceContract.in_force_on`); None when the service is
        not outsourced, or when that contract has ended with no successor in force (or has
        not begun yet)."""
        if self.contract is None:
            return None
        contract = self.contract.in_force_on(day)
        return contract if contract.covers(day) else None

    def deadlines(self, submitted_on: date) -> dict[str, date]:
        """The SLA deadlines of an item submitted on ``submitted_on``, in Chinese working days
        (the Feedback columns they fill)."""
        return {"response_due_on": add_workdays(submitted_on, self.response_days),
                "resolution_due_on": add_workdays(submitted_on, self.resolution_days)}


# Cached pages drawn from the catalogue are the feedback pages' (and those that list feedback
# with it): a change of a category renders them afresh.
cache_scope("feedback", ServiceCategory)
