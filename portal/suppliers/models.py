"""Suppliers (合作单位) and their service contracts.

A contract's state (upcoming, active, expiring, ended, renewed) is derived from its dates and
its successor, never stored, so it cannot go stale. "Expiring" is defined once: within
:data:`EXPIRING_WITHIN` days of the end (the earliest warning of :mod:`portal.alerts`), in
Python (:meth:`ServiceContract.state`) and in SQL (:meth:`ServiceContract.state_condition`, used
by the contract list, the expiry alerts and the home-page tile). Expiry warnings use the one
mechanism in :mod:`portal.alerts` that leases use too.  Money is integer fen.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..alerts import EXPIRY_THRESHOLDS, days_left, expiry_marks, is_expiring
from ..audit.services import Audited
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..page_cache import cache_scope
from ..roles import Role

if TYPE_CHECKING:
    from ..catalogue.models import ServiceCategory

# The services a supplier provides: categories of the service catalogue.
supplier_service = sa.Table(
    "supplier_service", db.metadata,
    sa.Column("supplier_id", sa.ForeignKey("supplier.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("service_category.id", ondelete="CASCADE"),
              primary_key=True),
)


class Supplier(Audited, db.Model):
    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)  # unified social credit code
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Integrity agreement (廉政协议): when it was signed and the signed document, if uploaded.
    integrity_signed_on: Mapped[date | None] = mapped_column(sa.Date)
    integrity_file: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    integrity_file_label: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    services: Mapped[list[ServiceCategory]] = relationship(
        secondary=supplier_service, order_by="ServiceCategory.sort_order")
    contracts: Mapped[list[ServiceContract]] = relationship(
        back_populates="supplier", foreign_keys="ServiceContract.supplier_id",
        order_by="ServiceContract.starts_on.desc()")
    # Its contact people; the first one is the primary contact.
    contacts: Mapped[list[SupplierContact]] = relationship(
        back_populates="supplier", cascade="all, delete-orphan",
        order_by="(SupplierContact.position, SupplierContact.id)")

    @property
    def primary_contact(self) -> SupplierContact | None:
        return self.contacts[0] if self.contacts else None

    @classmethod
    def visible_to(cls, user):
        """Staff see every supplier; a supplier's account only its own."""
        if user.role in Role.BUREAU:
            return sa.true()
        if user.role == Role.SUPPLIER:
            return cls.id == user.supplier_id
        return sa.false()


class SupplierContact(Audited, db.Model):
    """One of a supplier's contact people (name, role, phone, email); no account."""

    __tablename__ = "supplier_contact"
    __table_args__ = (sa.CheckConstraint("name != ''", name="named"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(100), default="")  # role or job title
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supplier: Mapped[Supplier] = relationship(back_populates="contacts")


class ContractState:
    UPCOMING = "upcoming"
    ACTIVE = "active"
    EXPIRING = "expiring"
    ENDED = "ended"
    RENEWED = "renewed"
    ALL = (UPCOMING, ACTIVE, EXPIRING, ENDED, RENEWED)
    LABELS = {
        UPCOMING: lazy_pgettext("contract status", "Upcoming"),
        ACTIVE: lazy_pgettext("contract status", "Active"),
        EXPIRING: lazy_pgettext("contract status", "Expiring"),
        ENDED: lazy_pgettext("contract status", "Ended"),
        RENEWED: lazy_pgettext("contract status", "Renewed"),
    }


# A contract "expires" within this many days of its end: the earliest expiry warning.
EXPIRING_WITHIN = max(EXPIRY_THRESHOLDS)


class ServiceContract(Audited, db.Model):
    __tablename__ = "service_contract"
    __table_args__ = (
        sa.CheckConstraint("starts_on <= ends_on", name="dates_ordered"),
        sa.CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        sa.CheckConstraint("response_hours IS NULL OR response_hours > 0",
                           name="response_hours_positive"),
        sa.CheckConstraint("fix_hours IS NULL OR fix_hours > 0", name="fix_hours_positive"),
        sa.CheckConstraint("successor_id IS NULL OR successor_id != id", name="not_own_successor"),
        sa.Index("ix_service_contract_ends_on", "ends_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="RESTRICT"),
                                             index=True)
    # The service type: a category of the service catalogue.
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_category.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(sa.String(50), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)  # the contract's last day
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    payment_terms: Mapped[str] = mapped_column(sa.Text, default="")
    # SLA clauses: hours to respond to and to fix a problem.
    response_hours: Mapped[int | None]
    fix_hours: Mapped[int | None]
    document_file: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    document_file_label: Mapped[str] = mapped_column(sa.String(200), default="")
    # A renewal links the contract that follows this one.
    successor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_contract.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supplier: Mapped[Supplier] = relationship(back_populates="contracts",
                                              foreign_keys=[supplier_id])
    category: Mapped[ServiceCategory] = relationship(foreign_keys=[category_id])
    successor: Mapped[ServiceContract | None] = relationship(
        remote_side=[id], foreign_keys=[successor_id])

    @classmethod
    def visible_to(cls, user):
        """Staff see every contract; a supplier's account only its own supplier's."""
        if user.role in Role.BUREAU:
            return sa.true()
        if user.role == Role.SUPPLIER:
            return cls.supplier_id == user.supplier_id
        return sa.false()

    @classmethod
    def in_force(cls, on: date):
        """SQL: the contract covers ``on`` (whatever its renewal: the supplier still serves)."""
        return sa.and_(cls.starts_on <= on, cls.ends_on >= on)

    def state(self, today: date) -> str:
        if self.successor_id is not None:
            return ContractState.RENEWED
        if today < self.starts_on:
            return ContractState.UPCOMING
        if today > self.ends_on:
            return ContractState.ENDED
        return ContractState.EXPIRING if is_expiring(self.ends_on, today, EXPIRING_WITHIN) \
            else ContractState.ACTIVE

    @classmethod
    def state_condition(cls, state: str, on: date):
        """SQL: contracts in this derived state on ``on`` (the same rules as :meth:`state`)."""
        not_renewed = cls.successor_id.is_(None)
        within = on + timedelta(days=EXPIRING_WITHIN)
        return {
            ContractState.RENEWED: cls.successor_id.is_not(None),
            ContractState.UPCOMING: sa.and_(not_renewed, cls.starts_on > on),
            ContractState.ENDED: sa.and_(not_renewed, cls.ends_on < on),
            ContractState.EXPIRING: sa.and_(not_renewed, cls.starts_on <= on, cls.ends_on >= on,
                                            cls.ends_on <= within),
            ContractState.ACTIVE: sa.and_(not_renewed, cls.starts_on <= on, cls.ends_on > within),
        }[state]

    def expiry(self, today: date) -> tuple[int, int] | None:
        """For an expiring contract: (days left, the most urgent warning mark reached)."""
        if self.state(today) != ContractState.EXPIRING:
            return None
        marks = expiry_marks(self.ends_on, today)
        return days_left(self.ends_on, today), min(marks) if marks else EXPIRING_WITHIN

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def in_force_on(self, day: date) -> ServiceContract:
        """Follow renewals to the latest contract that has started by ``day`` (the one way
        to read a renewal chain: feedback routing and category hand-over both use it)."""
        contract, seen = self, {self.id}
        while (contract.successor is not None and contract.successor.starts_on <= day
               and contract.successor.id not in seen):
            contract = contract.successor
            seen.add(contract.id)
        return contract


# Cached pages drawn from these models are rendered afresh after any change to them.
cache_scope("suppliers", Supplier, SupplierContact, ServiceContract)
