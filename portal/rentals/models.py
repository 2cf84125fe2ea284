"""Idle-room rentals: buildings, rooms, tenants, leases, rent schedules and payments.

A lease occupies its rooms through :class:`LeaseRoom` rows; one database guard
(:data:`LEASE_ROOM_GUARD`, the same mechanism as venue slots) forbids two active leases of a
room from overlapping.  Money is integer fen.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..page_cache import cache_scope, key
from ..periods import PeriodGuard
from ..roles import Role
from ..uploads import PhotoColumns

# Half-open [starts_on, ends_before): ends_before is the day after the lease's last day.
LEASE_ROOM_GUARD = PeriodGuard(
    table="lease_room", resource="room_id", start="starts_on", end="ends_before",
    active="active", range_type="daterange",
)


class RoomStatus:
    RESERVED_FOR_OFFICE = "reserved_for_office"
    IDLE = "idle"
    UNDER_RENOVATION = "under_renovation"
    DISPOSED = "disposed"
    LEASED = "leased"  # derived from an active lease, never stored
    STORED = (RESERVED_FOR_OFFICE, IDLE, UNDER_RENOVATION, DISPOSED)
    LABELS = {
        RESERVED_FOR_OFFICE: lazy_pgettext("room status", "Office space"),
        IDLE: lazy_pgettext("room status", "Idle"),
        LEASED: lazy_pgettext("room status", "Leased"),
        UNDER_RENOVATION: lazy_pgettext("room status", "Under renovation"),
        DISPOSED: lazy_pgettext("room status", "Disposed"),
    }


class UseType:
    ALL = ("office", "shop", "storage", "canteen", "other")
    LABELS = {"office": _l("Office"), "shop": _l("Shop"), "storage": _l("Storage"),
              "canteen": _l("Canteen"), "other": _l("Other")}


class LeaseStatus:
    DRAFT = "draft"
    PENDING = "pending_approval"
    ACTIVE = "active"
    ENDED = "ended"
    TERMINATED = "terminated"
    ALL = (DRAFT, PENDING, ACTIVE, ENDED, TERMINATED)
    # The states whose rooms are held over the lease's period (lease_room.active).  An ended
    # or terminated lease keeps its true period: a termination shortens it to the last day
    # instead of switching it off, so the rooms stay leased until then.
    HOLDING = (ACTIVE, ENDED, TERMINATED)
    VISIBLE_TO_TENANT = (ACTIVE, ENDED, TERMINATED)  # drafts and pending leases are staff's
    LABELS = {
        DRAFT: lazy_pgettext("lease status", "Draft"),
        PENDING: lazy_pgettext("lease status", "Awaiting approval"),
        ACTIVE: lazy_pgettext("lease status", "Active"),
        ENDED: lazy_pgettext("lease status", "Ended"),
        TERMINATED: lazy_pgettext("lease status", "Terminated"),
    }


class DepositStatus:
    """A lease's deposit: not received yet, received (and held), settled (returned and/or
    deducted).  Its steps go through the rentals' DEPOSIT_FLOW, like every lifecycle."""

    NONE = "none"
    RECEIVED = "received"
    SETTLED = "settled"
    ALL = (NONE, RECEIVED, SETTLED)
    LABELS = {NONE: lazy_pgettext("deposit status", "Not received"),
              RECEIVED: lazy_pgettext("deposit status", "Received"),
              SETTLED: lazy_pgettext("deposit status", "Settled")}


class PaymentCycle:
    MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
    LABELS = {"monthly": _l("Monthly"), "quarterly": _l("Quarterly"),
              "half_yearly": _l("Half-yearly"), "yearly": _l("Yearly")}


class ReceiptStatus:
    """A payment's receipt (收据): issued with the payment, maybe voided later (with a reason);
    a voided receipt keeps its number, and its number is never issued again."""

    ISSUED = "issued"
    VOIDED = "voided"
    ALL = (ISSUED, VOIDED)
    LABELS = {ISSUED: lazy_pgettext("receipt status", "Issued"),
              VOIDED: lazy_pgettext("receipt status", "Voided")}


class PaymentMethod:
    ALL = ("bank_transfer", "cash", "cheque", "other")
    LABELS = {"bank_transfer": _l("Bank transfer"), "cash": _l("Cash"), "cheque": _l("Cheque"),
              "other": _l("Other")}


class Building(Audited, db.Model):
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    address: Mapped[str] = mapped_column(sa.String(200), default="")

    rooms: Mapped[list[Room]] = relationship(back_populates="building", order_by="Room.code")


class Room(Audited, db.Model):
    __tablename__ = "room"
    __table_args__ = (
        sa.UniqueConstraint("building_id", "code", name="uq_room_building_code"),
        sa.CheckConstraint("area_m2 > 0", name="area_positive"),
        sa.CheckConstraint("rent_standard_fen >= 0", name="standard_not_negative"),
        sa.CheckConstraint(
            "status IN ('reserved_for_office', 'idle', 'under_renovation', 'disposed')",
            name="status_known"),
        sa.CheckConstraint("use_type IN ('office', 'shop', 'storage', 'canteen', 'other')",
                           name="use_known"),
        sa.CheckConstraint("status != 'reserved_for_office' OR office_department != ''",
                           name="office_has_department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("building.id", ondelete="RESTRICT"),
                                             index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    floor: Mapped[str] = mapped_column(sa.String(10), default="")
    area_m2: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    use_type: Mapped[str] = mapped_column(sa.String(20), default="office")
    # Rent standard: fen per m² per month.
    rent_standard_fen: Mapped[int] = mapped_column(default=0)
    facilities: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(30), default=RoomStatus.IDLE, index=True)
    office_department: Mapped[str] = mapped_column(sa.String(200), default="")

    building: Mapped[Building] = relationship(back_populates="rooms")
    photos: Mapped[list[RoomPhoto]] = relationship(cascade="all, delete-orphan",
                                                   order_by="RoomPhoto.id")

    @property
    def label(self) -> str:
        return f"{self.building.name} {self.code}" if self.building else self.code

    def standard_rent_fen(self) -> int:
        """Area × standard, rounded to the fen."""
        return int((Decimal(self.area_m2) * self.rent_standard_fen).quantize(Decimal(1)))


class RoomPhoto(Audited, PhotoColumns, db.Model):
    __tablename__ = "room_photo"

    room_id: Mapped[int] = mapped_column(sa.ForeignKey("room.id", ondelete="CASCADE"),
                                         index=True)


class Tenant(Audited, db.Model):
    __tablename__ = "tenant"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('organisation', 'person')", name="kind_known"),
        sa.CheckConstraint(
            "(kind = 'organisation' AND uscc IS NOT NULL AND id_number IS NULL) OR "
            "(kind = 'person' AND id_number IS NOT NULL AND uscc IS NULL)",
            name="identified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    uscc: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    id_number: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    contact_name: Mapped[str] = mapped_column(sa.String(100), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    # The client account that may see this tenant's leases, schedules and payments.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")  # the linked client account, if any
    leases: Mapped[list[Lease]] = relationship(back_populates="tenant",
                                               order_by="Lease.start_date.desc()")

    @classmethod
    def visible_to(cls, user):
        if user.role in Role.BUREAU:
            return sa.true()
        return cls.user_id == user.id


class Lease(Audited, db.Model):
    __tablename__ = "lease"
    __audit_status__ = ("status", "deposit_status")  # two lifecycles: WORKFLOW, DEPOSIT_FLOW
    __table_args__ = (
        sa.CheckConstraint("start_date <= end_date", name="dates_ordered"),
        sa.CheckConstraint("monthly_rent_fen >= 0", name="rent_not_negative"),
        sa.CheckConstraint(
            "status IN ('draft', 'pending_approval', 'active', 'ended', 'terminated')",
            name="status_known"),
        sa.CheckConstraint("payment_cycle IN ('monthly', 'quarterly', 'half_yearly', 'yearly')",
                           name="cycle_known"),
        sa.CheckConstraint("yearly_increase_pct >= 0 AND yearly_increase_pct <= 100",
                           name="increase_range"),
        sa.CheckConstraint(
            "deposit_due_fen >= 0 AND deposit_received_fen >= 0 AND deposit_returned_fen >= 0 "
            "AND deposit_deducted_fen >= 0", name="deposit_not_negative"),
        sa.CheckConstraint("deposit_returned_fen + deposit_deducted_fen <= deposit_received_fen",
                           name="deposit_settled_within_received"),
        sa.CheckConstraint("deposit_status IN ('none', 'received', 'settled')",
                           name="deposit_status_known"),
        # A terminated lease knows its last day: its rooms' periods end the day after it.
        sa.CheckConstraint("status != 'terminated' OR terminated_on IS NOT NULL",
                           name="terminated_on_known"),
        sa.Index("ix_lease_status_end", "status", "end_date"),
        # The lease list's order (latest end first): a page without sorting every lease.
        sa.Index("ix_lease_end_id", "end_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.id", ondelete="RESTRICT"),
                                           index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=LeaseStatus.DRAFT)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)  # the last day of the lease
    monthly_rent_fen: Mapped[int]
    rent_override_reason: Mapped[str] = mapped_column(sa.Text, default="")
    payment_cycle: Mapped[str] = mapped_column(sa.String(20), default="monthly")
    rent_free_until: Mapped[date | None] = mapped_column(sa.Date)  # fit-out, inclusive
    yearly_increase_pct: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=0)
    deposit_due_fen: Mapped[int] = mapped_column(default=0)
    deposit_received_fen: Mapped[int] = mapped_column(default=0)
    deposit_received_on: Mapped[date | None] = mapped_column(sa.Date)
    deposit_returned_fen: Mapped[int] = mapped_column(default=0)
    deposit_deducted_fen: Mapped[int] = mapped_column(default=0)
    deposit_deduction_reason: Mapped[str] = mapped_column(sa.Text, default="")
    deposit_settled_on: Mapped[date | None] = mapped_column(sa.Date)
    deposit_status: Mapped[str] = mapped_column(sa.String(20), default=DepositStatus.NONE,
                                                server_default=DepositStatus.NONE)
    terminated_on: Mapped[date | None] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # termination or rejection
    predecessor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lease.id"), index=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="leases")
    rooms: Mapped[list[LeaseRoom]] = relationship(back_populates="lease",
                                                  cascade="all, delete-orphan")
    periods: Mapped[list[RentPeriod]] = relationship(
        back_populates="lease", cascade="all, delete-orphan", order_by="RentPeriod.starts_on")
    payments: Mapped[list[Payment]] = relationship(back_populates="lease",
                                                   order_by="Payment.paid_on")
    predecessor: Mapped[Lease | None] = relationship(remote_side=[id])

    @property
    def reference(self) -> str:
        return self.reference_of(self.id)

    @staticmethod
    def reference_of(record_id: int) -> str:
        """The reference of the record with this id (lists that read only its columns)."""
        return f"ZL{record_id:06d}"

    @property
    def last_day(self) -> date:
        return self.terminated_on or self.end_date

    @classmethod
    def visible_to(cls, user):
        if user.role in Role.BUREAU:
            return sa.true()
        return sa.and_(cls.status.in_(LeaseStatus.VISIBLE_TO_TENANT),
                       cls.tenant_id.in_(sa.select(Tenant.id).where(Tenant.user_id == user.id)))


class LeaseRoom(db.Model):
    __tablename__ = "lease_room"
    __table_args__ = (
        sa.CheckConstraint("starts_on < ends_before", name="period"),
        sa.UniqueConstraint("lease_id", "room_id", name="uq_lease_room_lease_room"),
        sa.Index("ix_lease_room_room_period", "room_id", "starts_on", "ends_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(sa.ForeignKey("lease.id", ondelete="CASCADE"),
                                          index=True)
    room_id: Mapped[int] = mapped_column(sa.ForeignKey("room.id", ondelete="RESTRICT"))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_before: Mapped[date] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(default=False)

    lease: Mapped[Lease] = relationship(back_populates="rooms")
    room: Mapped[Room] = relationship()


class RentPeriod(db.Model):
    """One line of a lease's rent schedule."""

    __tablename__ = "rent_period"
    __table_args__ = (
        sa.CheckConstraint("starts_on <= ends_on", name="period"),
        sa.CheckConstraint("amount_fen >= 0 AND paid_fen >= 0 AND paid_fen <= amount_fen",
                           name="paid_within_amount"),
        sa.UniqueConstraint("lease_id", "starts_on", name="uq_rent_period_lease_start"),
        sa.Index("ix_rent_period_due_open", "due_on", "paid_fen"),
        # The rental reports (issue 17): a period's sums read from the index alone, and the
        # rent still open (arrears) without the paid lines.
        sa.Index("ix_rent_period_due_sums", "due_on", "lease_id", "amount_fen", "paid_fen"),
        sa.Index("ix_rent_period_overdue", "due_on", "lease_id",
                 postgresql_where=sa.text("paid_fen < amount_fen"),
                 sqlite_where=sa.text("paid_fen < amount_fen")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(sa.ForeignKey("lease.id", ondelete="CASCADE"),
                                          index=True)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)  # inclusive
    due_on: Mapped[date] = mapped_column(sa.Date)
    amount_fen: Mapped[int]
    paid_fen: Mapped[int] = mapped_column(default=0)
    billed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the bill went out

    lease: Mapped[Lease] = relationship(back_populates="periods")

    @property
    def open_fen(self) -> int:
        return self.amount_fen - self.paid_fen

    @property
    def locked(self) -> bool:
        """Billed or (partly) paid lines are never regenerated."""
        return self.billed_at is not None or self.paid_fen > 0


class ReceiptCounter(db.Model):
    """The last receipt number issued in a year: the row is locked by the payment that takes
    the next number, in the payment's own transaction, so numbers run without gaps (a payment
    that rolls back gives its number back with it) and never twice."""

    __tablename__ = "receipt_counter"
    __table_args__ = (sa.CheckConstraint("last_number >= 0", name="last_not_negative"),)

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Payment(Audited, db.Model):
    __tablename__ = "payment"
    __audit_status__ = ("receipt_status",)  # the receipt's lifecycle: RECEIPT_FLOW
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("receipt_number >= 1", name="receipt_number_positive"),
        sa.CheckConstraint("receipt_status IN ('issued', 'voided')", name="receipt_status_known"),
        sa.CheckConstraint("receipt_status != 'voided' OR void_reason != ''",
                           name="void_has_reason"),
        # The portal's receipt numbers: one per year and number, whatever happens.
        sa.UniqueConstraint("receipt_year", "receipt_number",
                            name="uq_payment_receipt_year_number"),
        sa.CheckConstraint("credit_fen >= 0 AND credit_fen <= amount_fen", name="credit_range"),
        sa.CheckConstraint("method IN ('bank_transfer', 'cash', 'cheque', 'other')",
                           name="method_known"),
        # The bank's or another external reference (the transfer's serial number, a paper
        # receipt of before the portal issued them) names one payment ("" when none).
        sa.Index("uq_payment_receipt_no", "receipt_no", unique=True,
                 postgresql_where=sa.text("receipt_no != ''"),
                 sqlite_where=sa.text("receipt_no != ''")),
        # The payments received per day of a report period (money kept), from the index.
        sa.Index("ix_payment_paid_on", "paid_on", "amount_fen",
                 postgresql_where=sa.text("receipt_status != 'voided'"),
                 sqlite_where=sa.text("receipt_status != 'voided'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(sa.ForeignKey("lease.id", ondelete="RESTRICT"),
                                          index=True)
    paid_on: Mapped[date] = mapped_column(sa.Date)
    amount_fen: Mapped[int]
    method: Mapped[str] = mapped_column(sa.String(20))
    receipt_no: Mapped[str] = mapped_column(sa.String(50), default="")  # external reference
    # The portal's receipt (收据): year, number in that year, and the number as printed
    # (with the prefix of the time it was issued: a reprint never changes it).
    receipt_year: Mapped[int]
    receipt_number: Mapped[int]
    receipt_code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    receipt_status: Mapped[str] = mapped_column(sa.String(10), default=ReceiptStatus.ISSUED,
                                                server_default=ReceiptStatus.ISSUED)
    void_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # Not yet allocated to any period: a prepayment, used by the next periods that come due.
    credit_fen: Mapped[int] = mapped_column(default=0)
    # A double-submitted form carries the same key: the second submission records nothing.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lease: Mapped[Lease] = relationship(back_populates="payments")
    voided_by = relationship("User", foreign_keys=[voided_by_id])

    @property
    def voided(self) -> bool:
        return self.receipt_status == ReceiptStatus.VOIDED

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", cascade="all, delete-orphan")


class PaymentAllocation(db.Model):
    __tablename__ = "payment_allocation"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id", ondelete="CASCADE"),
                                            index=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("rent_period.id", ondelete="RESTRICT"),
                                           index=True)
    amount_fen: Mapped[int]

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    period: Mapped[RentPeriod] = relationship()


# --- the page cache's keys (portal/page_cache.py) ---------------------------------------------
# The room register (buildings, rooms, which lease holds which room) and the leases' money
# (tenants, leases, rent periods, payments and their voiding) change apart: a payment leaves
# the room list and the pages of other modules that name a building or a room alone. The
# money is also keyed by month and the leases by year, for the stored figures of periods
# that have ended (rentals.reports).
ROOMS_KEY = key("rentals", "rooms")
LEASES_KEY = key("rentals", "leases")


def money_month_key(day: date) -> str:
    """The leases' money of one month: the rent due in it (and collected against it) and the
    payments received in it. The rental reports' income table of a month that has ended is
    stored under it (``reports.RENT_INCOME``), so a payment of this month's rent leaves the
    stored months before it alone."""
    return key("rentals", "money", day.strftime("%Y-%m"))


def lease_year_key(year: int) -> str:
    """The leases running in a year (their dates, status, predecessors and rooms): the lease
    movements of a period that has ended are stored under the keys of its years
    (``reports.LEASE_MOVEMENTS``)."""
    return key("rentals", "lease-year", year)


def _constant(*keys: str):
    return lambda row, session: set(keys)


def _lease_years(lease) -> set[str]:
    """The years from a lease's first day to its last (or its termination, if later)."""
    days = [day for day in (lease.start_date, lease.end_date, lease.terminated_on) if day]
    if not days:
        return set()
    return {lease_year_key(year) for year in range(min(days).year, max(days).year + 1)}


def _lease_keys(lease, session) -> set[str]:
    """A lease: the lists, the years it runs (lease movements) and the months its rent is due
    in (its status decides whether that rent counts as due)."""
    keys = {LEASES_KEY} | _lease_years(lease)
    if lease.id is not None:
        keys |= {money_month_key(day) for day in session.scalars(
            sa.select(RentPeriod.due_on).where(RentPeriod.lease_id == lease.id).distinct())}
    return keys


def _lease_room_keys(lease_room, session) -> set[str]:
    lease = lease_room.lease or (session.get(Lease, lease_room.lease_id)
                                 if lease_room.lease_id is not None else None)
    return {ROOMS_KEY, LEASES_KEY} | (_lease_years(lease) if lease is not None else set())


def _allocation_keys(allocation, session) -> set[str]:
    """An allocation moves money between a payment and the rent it pays: both months."""
    keys = {LEASES_KEY}
    if allocation.period is not None:
        keys.add(money_month_key(allocation.period.due_on))
    if allocation.payment is not None:
        keys.add(money_month_key(allocation.payment.paid_on))
    return keys


# Cached pages drawn from these models are rendered afresh after any change to them: the
# reports (the whole scope) after any; the lists after one of their keys'.
cache_scope("rentals", Building, Room, RoomPhoto, Tenant, Lease, LeaseRoom, RentPeriod, Payment,
            PaymentAllocation, ReceiptCounter,
            keys={Building: _constant(ROOMS_KEY), Room: _constant(ROOMS_KEY),
                  RoomPhoto: _constant(ROOMS_KEY), LeaseRoom: _lease_room_keys,
                  Tenant: _constant(LEASES_KEY), Lease: _lease_keys,
                  RentPeriod: lambda line, session: {LEASES_KEY, money_month_key(line.due_on)},
                  Payment: lambda payment, session: {LEASES_KEY,
                                                     money_month_key(payment.paid_on)},
                  PaymentAllocation: _allocation_keys,
                  ReceiptCounter: _constant()})  # on no page: the reports' scope only
