"""Rental reports (issue 4, item 7): one page of five tables, each exported as CSV or XLSX.

For a month or a half-year (``?period=2026-07`` or ``2026-H2``: the venue reports' periods and
their parsing, imported from :mod:`portal.bookings.reports`):

* **income due against collected**, month by month: the rent periods *due* in the month (of
  active, ended and terminated leases), what has been *collected* against them (the payments
  allocated to them, whenever paid), what is *outstanding*, the collection rate, and the
  payments *received* in the month (their dates, including prepayments not yet allocated);
* **income by tenant** and **by room**: the rent due in the period and collected against it;
  a lease of several rooms is shared out over its rooms by area (largest remainder, so the
  rooms add up to the fen).

As of today:

* **occupancy by building** (:func:`services.occupancy`): leased area over lettable area
  (leased + idle), area-weighted; office space and rooms under renovation are not lettable;
* **arrears aging** (:func:`services.arrears`): per tenant, 0–30, 31–90 and over 90 days.

The page runs a fixed number of queries whatever the data size (two per period report, two
for occupancy, one for arrears); sums are grouped by day or by lease in SQL, and months and
rooms are formed in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from markupsafe import Markup, escape

from .. import stored_figures
from ..authz import staff_required
from ..core.nav import nav_item
from ..exports import Column, Kind, export_response, requested_format
from ..extensions import db
from ..htmx import render
from ..i18n import money, number, percent
from ..lists import join_names
from ..page_cache import cached_page
from ..reporting import Period, count_when, half_year_choices, months_of, period_from_request
from . import bp, services
from .models import (
    ROOMS_KEY,
    Building,
    Lease,
    LeaseRoom,
    LeaseStatus,
    Payment,
    ReceiptStatus,
    RentPeriod,
    Room,
    Tenant,
    lease_year_key,
    money_month_key,
)
from .tasks import BILLED

nav_item("rentals.reports", _l("Rental reports"), ("staff", "admin"), order=23)


@dataclass
class Table:
    key: str  # ?report= of its export, and the id of its section
    title: str
    columns: list[Column]
    rows: list[list]
    totals: list | None
    empty: str
    rows_in_all: int | None = None  # set when the page shows only some of the rows

    def top(self, limit: int, by: int = -1) -> Table:
        """The rows with the most outstanding (column ``by``) first, at most ``limit`` (for
        the page; the exports keep every row)."""
        if len(self.rows) <= limit:
            return self
        rows = sorted(self.rows, key=lambda row: row[by], reverse=True)[:limit]
        return Table(self.key, self.title, self.columns, rows, self.totals, self.empty,
                     rows_in_all=len(self.rows))


PAGE_ROWS = 50  # rows of a per-tenant or per-room table shown on the page


# --- figures ---------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def _in(column, period: Period):
    return sa.and_(column >= period.first, column < period.end)


def income_table(period: Period) -> Table:
    """Due, collected, outstanding and received, per month of the period (1 query)."""
    return income_tables([period])[0]


# The rent due, collected against it and received, of each month (the income table's rows),
# stored once the month has ended and read back while its money is unchanged: the work
# report's three half-years and the rental reports' current one then sum only the current
# month's lines, and a payment of old rent re-sums only the month that rent was due in.
RENT_INCOME = stored_figures.Source(
    "rentals.rent_income", "rentals",
    keys=lambda first, end: [money_month_key(month.first) for month in months_of(first, end)])


def income_tables(periods: list[Period]) -> list[Table]:
    """:func:`income_table` of each period, composed of its months' sums (stored for the
    months that have ended, :data:`RENT_INCOME`; the others summed in one query whatever the
    periods: the work report reads three)."""
    months = [months_of(period.first, period.end) for period in periods]
    spans = list(dict.fromkeys((month.first, month.end) for each in months for month in each))
    sums = dict(zip(spans, stored_figures.results(
        RENT_INCOME, [Period(first, end) for first, end in spans], _month_sums), strict=True))
    return [_income_table(period, [(month, sums[month.first, month.end]) for month in each])
            for period, each in zip(periods, months, strict=True)]


def _month_sums(months: list[Period]) -> list[list[int]]:
    """[due, collected, received] of each month, in one query: the schedule's sums and the
    payments' by day, one after the other, over the days of any of the months."""
    first, end = min(p.first for p in months), max(p.end for p in months)
    # The days between the months, if any, left out by a filter (the whole span stays the
    # index's range: an index-only scan); the months asked for mostly follow one another.
    gaps, reach = [], first
    for month in sorted(months, key=lambda p: p.first):
        if month.first > reach:
            gaps.append((reach, month.first))
        reach = max(reach, month.end)

    def within(column):
        return sa.and_(column >= first, column < end,
                       *(sa.or_(column < start, column >= stop) for start, stop in gaps))

    schedule = (sa.select(sa.literal(1).label("kind"), RentPeriod.due_on.label("day"),
                          sa.func.sum(RentPeriod.amount_fen).label("amount"),
                          sa.func.sum(RentPeriod.paid_fen).label("paid"))
                .where(RentPeriod.lease_id.not_in(_not_billed()), within(RentPeriod.due_on))
                .group_by(RentPeriod.due_on))
    payments = (sa.select(sa.literal(2), Payment.paid_on, sa.func.sum(Payment.amount_fen),
                          sa.literal(0))
                .where(within(Payment.paid_on),  # a voided receipt: money not kept
                       Payment.receipt_status != ReceiptStatus.VOIDED)
                .group_by(Payment.paid_on))
    sums = {(month.first, month.end): [0, 0, 0] for month in months}
    # Each span lies within one calendar month; a custom period's clipped month may overlap
    # another period's, and a day then counts in both.
    in_month = defaultdict(list)
    for span in sums:
        in_month[span[0].year, span[0].month].append(span)
    for kind, day, amount, paid in db.session.execute(sa.union_all(schedule, payments)):
        if isinstance(day, str):  # SQLite: a date through UNION comes back as text
            day = date.fromisoformat(day)
        for span in in_month[day.year, day.month]:
            if span[0] <= day < span[1]:
                entry = sums[span]
                if kind == 1:
                    entry[0] += int(amount or 0)
                    entry[1] += int(paid or 0)
                else:
                    entry[2] += int(amount or 0)
    return [sums[month.first, month.end] for month in months]


def _income_table(period: Period, months: list[tuple[Period, list[int]]]) -> Table:
    """The table of a period from its months' [due, collected, received]."""
    def cells(d, c, r):
        return [d, c, d - c, _ratio(c, d), r]

    rows = [[month.label, *cells(*sums)] for month, sums in months]
    totals = [_("Total"), *cells(*(sum(sums[i] for _month, sums in months) for i in range(3)))]
    return Table("income", _("Rent due against collected"), [
        Column(_("Month")), Column(_("Rent due (¥)"), Kind.MONEY_FEN),
        Column(_("Collected (¥)"), Kind.MONEY_FEN), Column(_("Outstanding (¥)"), Kind.MONEY_FEN),
        Column(_("Collection rate"), Kind.PERCENT), Column(_("Received in the month (¥)"),
                                                           Kind.MONEY_FEN),
    ], rows, totals, _("No rent was due in this period."))


def _split(amount: int, weights: list[Decimal]) -> list[int]:
    """``amount`` shared out in proportion to ``weights``, adding up exactly (largest
    remainder)."""
    if not weights:
        return []
    whole = sum(weights)
    if not whole:
        return [amount] + [0] * (len(weights) - 1)
    exact = [Decimal(amount) * weight / whole for weight in weights]
    shares = [int(value) for value in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[:amount - sum(shares)]:
        shares[index] += 1
    return shares


def _names(names: set[str]) -> str:
    """The tenants of a room, joined; a room has one tenant in a period almost always."""
    if len(names) == 1:
        return next(iter(names))
    return join_names(sorted(names))


def income_by(period: Period) -> tuple[Table, Table]:
    """Rent due in the period and collected, per tenant and per room (2 queries).

    The schedule lines are summed per lease before the join to leases and tenants (the
    half-year's tens of thousands of lines never meet the tenant table), and a lease of one
    room (nearly all of them) gives that room its sums without the share-out."""
    per_lease = (sa.select(RentPeriod.lease_id, sa.func.sum(RentPeriod.amount_fen).label("due"),
                           sa.func.sum(RentPeriod.paid_fen).label("paid"))
                 .where(_in(RentPeriod.due_on, period)).group_by(RentPeriod.lease_id)
                 .subquery())
    leases = db.session.execute(
        sa.select(Lease.id, Tenant.id, Tenant.name, per_lease.c.due, per_lease.c.paid)
        .select_from(per_lease).join(Lease, Lease.id == per_lease.c.lease_id)
        .join(Tenant, Tenant.id == Lease.tenant_id)
        .where(Lease.status.in_(BILLED))).all()
    due_in_period = (sa.select(RentPeriod.lease_id)
                     .where(_in(RentPeriod.due_on, period)).distinct())
    rooms_of = defaultdict(list)
    for lease_id, room_id, code, area, building in db.session.execute(
            sa.select(LeaseRoom.lease_id, Room.id, Room.code, Room.area_m2, Building.name)
            .join(Room, Room.id == LeaseRoom.room_id)
            .join(Building, Building.id == Room.building_id)
            .where(LeaseRoom.lease_id.in_(due_in_period))
            .order_by(LeaseRoom.lease_id, Room.id)):
        rooms_of[lease_id].append((room_id, code, area, building))

    tenants: dict[int, list] = {}
    rooms: dict[int, list] = {}
    for lease_id, tenant_id, tenant_name, amount, paid in leases:
        amount, paid = int(amount or 0), int(paid or 0)
        entry = tenants.setdefault(tenant_id, [tenant_name, set(), 0, 0])
        entry[1].add(lease_id)
        entry[2] += amount
        entry[3] += paid
        lease_rooms = rooms_of.get(lease_id, [])
        if len(lease_rooms) == 1:  # one room: all of it, nothing to share out
            shares = ((lease_rooms[0], amount, paid),)
        else:
            weights = [Decimal(area) for _room_id, _code, area, _building in lease_rooms]
            shares = zip(lease_rooms, _split(amount, weights), _split(paid, weights),
                         strict=True)
        for (room_id, code, area, building), share_due, share_paid in shares:
            item = rooms.get(room_id)
            if item is None:
                item = rooms[room_id] = [building, code, Decimal(area), set(), 0, 0]
            item[3].add(tenant_name)
            item[4] += share_due
            item[5] += share_paid

    tenant_rows = [[name, len(ids), due, paid, due - paid]
                   for name, ids, due, paid in sorted(tenants.values(), key=lambda e: e[0])]
    room_rows = [[building, code, area, _names(names), due, paid, due - paid]
                 for building, code, area, names, due, paid in sorted(
                     rooms.values(), key=lambda e: (e[0], e[1]))]
    return _income_tables(tenant_rows, room_rows, len(leases),
                          sum(entry[2] for entry in tenants.values()),
                          sum(entry[3] for entry in tenants.values()))


def _income_tables(tenant_rows, room_rows, leases: int, due_total: int,
                   paid_total: int) -> tuple[Table, Table]:
    def money_cells(due, paid):
        return [due, paid, due - paid]

    money_columns = [Column(_("Rent due (¥)"), Kind.MONEY_FEN),
                     Column(_("Collected (¥)"), Kind.MONEY_FEN),
                     Column(_("Outstanding (¥)"), Kind.MONEY_FEN)]
    empty = _("No rent was due in this period.")
    by_tenant = Table(
        "income_tenant", _("Income by tenant"),
        [Column(_("Tenant")), Column(_("Leases"), Kind.INT), *money_columns], tenant_rows,
        [_("Total"), leases, *money_cells(due_total, paid_total)] if leases else None,
        empty)
    by_room = Table(
        "income_room", _("Income by room"),
        [Column(_("Building")), Column(_("Room")), Column(_("Area (m²)"), Kind.DECIMAL, 2),
         Column(_("Tenant")), *money_columns], room_rows,
        [_("Total"), "", "", "", *money_cells(due_total, paid_total)] if leases else None,
        empty)
    return by_tenant, by_room


def _not_billed():
    """The leases whose schedule is not owed (drafts, awaiting approval): few, found through
    the status index, so that the lines need no join to every lease to leave them out."""
    return sa.select(Lease.id).where(Lease.status.in_(
        [status for status in LeaseStatus.ALL if status not in BILLED]))


def _billed(period: Period, only=None, tenant: bool = True):
    """Per billed lease with rent due in the period: the rent due and collected, and its
    tenant (``tenant``), summed before any join. ``only``: a subquery of the lease ids
    wanted."""
    lines = sa.select(RentPeriod.lease_id, sa.func.sum(RentPeriod.amount_fen).label("due"),
                      sa.func.sum(RentPeriod.paid_fen).label("paid")).where(
        _in(RentPeriod.due_on, period))
    if only is not None:
        lines = lines.where(RentPeriod.lease_id.in_(only))
    if not tenant:
        return sa.select(lines.where(RentPeriod.lease_id.not_in(_not_billed()))
                         .group_by(RentPeriod.lease_id).subquery())
    per_lease = lines.group_by(RentPeriod.lease_id).subquery()
    return (sa.select(per_lease.c.lease_id, Lease.tenant_id, per_lease.c.due, per_lease.c.paid)
            .join(Lease, Lease.id == per_lease.c.lease_id).where(Lease.status.in_(BILLED)))


def _codepoint(column):
    """``column`` ordered as Python orders strings (by code point) on both engines: SQLite's
    default collation already does; PostgreSQL's "C" collation does for UTF-8."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.collate(column, "C")
    return column


def _several_rooms():
    return (sa.select(LeaseRoom.lease_id).group_by(LeaseRoom.lease_id)
            .having(sa.func.count() > 1))


def income_top(period: Period, limit: int = PAGE_ROWS) -> tuple[Table, Table]:
    """The page's income by tenant and by room: the same tables as :func:`income_by` followed
    by ``.top(limit)``, without reading every tenant and room (4 queries; 3 when no lease
    has several rooms).

    Tenants are summed, ranked and cut in SQL, with their totals (window functions). Rooms of
    one-room leases likewise; the few leases of several rooms are shared out here as in
    :func:`income_by`, and every room they touch is read too, so the cut stays exact."""
    billed = _billed(period).subquery()
    due, paid, leases = (sa.func.sum(billed.c.due), sa.func.sum(billed.c.paid),
                         sa.func.count())
    tenant_rows = db.session.execute(
        sa.select(Tenant.name, leases, due, paid, sa.func.count().over(),
                  sa.func.sum(leases).over(), sa.func.sum(due).over(), sa.func.sum(paid).over())
        .select_from(billed).join(Tenant, Tenant.id == billed.c.tenant_id)
        .group_by(Tenant.id, Tenant.name)
        .order_by((due - paid).desc(), _codepoint(Tenant.name), Tenant.id)
        .limit(limit)).all()
    tenants_in_all, leases_in_all, due_total, paid_total = (
        (int(value or 0) for value in tenant_rows[0][4:]) if tenant_rows else (0, 0, 0, 0))

    # The leases of several rooms, read once: few, and a subquery in their place was grouped
    # again by each of the statements below (a third of the page's SQL time).
    several = list(db.session.scalars(_several_rooms()))
    shared: dict[int, list] = {}  # rooms of leases of several rooms, shared out here
    lease_rooms: dict[int, list] = defaultdict(list)
    sums = {}
    multi = _billed(period, only=several).subquery()
    multi_rows = db.session.execute(
        sa.select(multi.c.lease_id, Tenant.name, multi.c.due, multi.c.paid, Room.id,
                  Room.code, Room.area_m2, Building.name)
        .select_from(multi).join(Tenant, Tenant.id == multi.c.tenant_id)
        .join(LeaseRoom, LeaseRoom.lease_id == multi.c.lease_id)
        .join(Room, Room.id == LeaseRoom.room_id)
        .join(Building, Building.id == Room.building_id)
        .order_by(multi.c.lease_id, Room.id)) if several else ()
    for lease_id, name, amount, collected, room_id, code, area, building in multi_rows:
        lease_rooms[lease_id].append((room_id, code, Decimal(area), building))
        sums[lease_id] = (name, int(amount or 0), int(collected or 0))
    for lease_id, rooms_of_lease in lease_rooms.items():
        name, amount, collected = sums[lease_id]
        weights = [area for _room_id, _code, area, _building in rooms_of_lease]
        for (room_id, code, area, building), share_due, share_paid in zip(
                rooms_of_lease, _split(amount, weights), _split(collected, weights),
                strict=True):
            item = shared.setdefault(room_id, [building, code, area, set(), 0, 0])
            item[3].add(name)
            item[4] += share_due
            item[5] += share_paid

    per_lease = _billed(period, tenant=False).subquery()  # no tenant needed
    room_sums = (sa.select(LeaseRoom.room_id, sa.func.sum(per_lease.c.due).label("due"),
                           sa.func.sum(per_lease.c.paid).label("paid"))
                 .select_from(per_lease)
                 .join(LeaseRoom, LeaseRoom.lease_id == per_lease.c.lease_id)
                 .where(per_lease.c.lease_id.not_in(several))
                 .group_by(LeaseRoom.room_id).subquery())  # by the room's id: a narrow key
    per_room = (sa.select(Room.id.label("room_id"), Building.name.label("building"),
                          Room.code.label("code"), Room.area_m2.label("area"),
                          room_sums.c.due, room_sums.c.paid,
                          sa.func.count().over().label("rooms"))
                .select_from(room_sums).join(Room, Room.id == room_sums.c.room_id)
                .join(Building, Building.id == Room.building_id))
    # The most outstanding (a LIMIT: the planner then looks up their tenants one by one),
    # and every room a shared lease touches.
    candidates = sa.select(per_room.order_by(
        (room_sums.c.due - room_sums.c.paid).desc(), _codepoint(Building.name),
        _codepoint(Room.code), Room.id).limit(limit + len(shared)).subquery())
    if shared:
        candidates = sa.union(candidates, per_room.where(Room.id.in_(list(shared))))
    candidates = candidates.subquery()
    rooms: dict[int, list] = {}
    rooms_in_all = 0
    # The candidates, each with the tenants of its one-room leases (a row per tenant).
    for room_id, building, code, area, amount, collected, count, name in \
            db.session.execute(
                sa.select(candidates, Tenant.name).select_from(candidates)
                .join(LeaseRoom, LeaseRoom.room_id == candidates.c.room_id)
                .join(Lease, Lease.id == LeaseRoom.lease_id)
                .join(Tenant, Tenant.id == Lease.tenant_id)
                .where(Lease.status.in_(BILLED), Lease.id.not_in(several),
                       sa.exists().where(RentPeriod.lease_id == Lease.id,
                                         _in(RentPeriod.due_on, period)))):
        item = rooms.get(room_id)
        if item is None:
            item = rooms[room_id] = [building, code, Decimal(area), set(), int(amount or 0),
                                     int(collected or 0)]
        item[3].add(name)
        rooms_in_all = int(count)
    rooms_in_all += len(shared.keys() - rooms.keys())
    for room_id, (building, code, area, names, amount, collected) in shared.items():
        item = rooms.setdefault(room_id, [building, code, area, set(), 0, 0])
        item[3] |= names
        item[4] += amount
        item[5] += collected
    chosen = sorted(rooms.items(), key=lambda entry: (entry[1][0], entry[1][1]))
    if rooms_in_all > limit:
        chosen = sorted(chosen, key=lambda entry: entry[1][4] - entry[1][5],
                        reverse=True)[:limit]

    by_tenant, by_room = _income_tables(
        [[name, int(n), int(d or 0), int(p or 0), int(d or 0) - int(p or 0)]
         for name, n, d, p, *_totals in tenant_rows],
        [[building, code, area, _names(names), amount, collected, amount - collected]
         for _room_id, (building, code, area, names, amount, collected) in chosen],
        leases_in_all, due_total, paid_total)
    if tenants_in_all > limit:
        by_tenant.rows_in_all = tenants_in_all
    else:
        by_tenant.rows.sort(key=lambda row: row[0])
    if rooms_in_all > limit:
        by_room.rows_in_all = rooms_in_all
    return by_tenant, by_room


def occupancy_table() -> Table:
    """Leased area over lettable (leased + idle) area per building, today (2 queries)."""
    rows, sums = [], defaultdict(Decimal)
    for entry in services.occupancy():
        areas = [entry[kind] for kind in ("office", "leased", "idle", "other")]
        for kind, area in zip(("office", "leased", "idle", "other"), areas, strict=True):
            sums[kind] += area
        sums["rooms"] += entry["rooms"]
        rows.append([entry["building"].name, entry["rooms"], *areas, entry["occupancy"]])
    lettable = sums["leased"] + sums["idle"]
    totals = [_("Total"), int(sums["rooms"]), sums["office"], sums["leased"], sums["idle"],
              sums["other"], sums["leased"] / lettable if lettable else None] if rows else None
    area = Kind.DECIMAL
    return Table("occupancy", _("Occupancy by building"), [
        Column(_("Building")), Column(pgettext("count", "Rooms"), Kind.INT),
        Column(_("Office space (m²)"), area, decimals=2), Column(_("Leased (m²)"), area, 2),
        Column(_("Idle (m²)"), area, 2), Column(_("Under renovation (m²)"), area, 2),
        Column(_("Occupancy rate"), Kind.PERCENT),
    ], rows, totals, _("No buildings yet."))


def arrears_table(on: date | None = None) -> Table:
    """Overdue rent per tenant by age, today (1 query)."""
    entries = services.arrears(on)
    rows = [[e["tenant"], *e["buckets"], e["total"], e["oldest_days"]] for e in entries]
    totals = [_("Total"), *(sum(e["buckets"][i] for e in entries) for i in range(3)),
              sum(e["total"] for e in entries), ""] if entries else None
    return Table("arrears", _("Arrears aging"), [
        Column(_("Tenant")), Column(_("0–30 days (¥)"), Kind.MONEY_FEN),
        Column(_("31–90 days (¥)"), Kind.MONEY_FEN),
        Column(_("Over 90 days (¥)"), Kind.MONEY_FEN), Column(_("Total (¥)"), Kind.MONEY_FEN),
        Column(_("Oldest (days overdue)"), Kind.INT),
    ], rows, totals, _("No rent is overdue."))


# ?report= of the export: the table for a period (occupancy and arrears are as of today).
REPORTS = {
    "income": income_table,
    "income_tenant": lambda period: income_by(period)[0],
    "income_room": lambda period: income_by(period)[1],
    "occupancy": lambda _period: occupancy_table(),
    "arrears": lambda _period: arrears_table(),
}


# --- the page and the exports ----------------------------------------------------------------


def cell(column: Column, value) -> str:
    """A value as the page shows it (the exports format their own)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if column.kind == Kind.MONEY_FEN:
        return money(value)
    if column.kind == Kind.PERCENT:
        return percent(value, 1)
    if column.kind == Kind.DECIMAL:
        return number(value, column.decimals)
    if column.kind == Kind.INT:
        return number(value)
    return str(value)


def row_cells(columns: list[Column], row: list, total: bool = False) -> Markup:
    """A table row's cells as the page shows them: the first a row heading, numbers aligned,
    percentages with a meter, a totals row's figures in bold.  Written here rather than by a
    macro per cell: a report page has about 1,700 cells."""
    parts = []
    for index, (column, value) in enumerate(zip(columns, row, strict=True)):
        shown = escape(cell(column, value))  # str formatting below: Markup's % escapes again
        if total and index:  # the row's heading says "Total" in plain
            shown = f"<strong>{shown}</strong>"
        if index == 0:
            parts.append(f'<th scope="row">{shown}</th>')
        elif column.kind == Kind.PERCENT:
            meter = ('<meter min="0" max="1" low="0.5" high="0.9" optimum="1" '
                     f'value="{float(value):.4f}" aria-hidden="true"></meter> '
                     if value is not None else "")
            parts.append(f"<td>{meter}{shown}</td>")
        elif column.kind != Kind.TEXT:
            parts.append(f'<td class="num">{shown}</td>')
        else:
            parts.append(f"<td>{shown}</td>")
    return Markup("".join(parts))  # noqa: S704  (every value escaped above)


@bp.route("/reports")
@staff_required
@cached_page("rentals")
def reports():
    period, error = period_from_request()
    by_tenant, by_room = income_top(period, PAGE_ROWS)
    tables = [income_table(period), by_tenant, by_room,
              occupancy_table(), arrears_table().top(PAGE_ROWS, by=-2)]  # -2: the total
    return render("rentals/reports.html", "report", tables=tables, period=period,
                  period_error=error, row_cells=row_cells, Kind=Kind, today=services.today(),
                  half_years=half_year_choices(period))


@bp.route("/reports/export")
@staff_required
@cached_page("rentals")
def reports_export():
    fmt = requested_format()
    key = request.args.get("report", "")
    if key not in REPORTS:
        abort(400, description=f"report must be one of {', '.join(REPORTS)}")
    period, error = period_from_request()
    if error:
        abort(400, description=error)
    table = REPORTS[key](period)
    # Occupancy and arrears are as of today; the others are for the period.
    when = services.today().isoformat() if key in ("occupancy", "arrears") else period.key
    stem = f"{table.title}-{when}"
    return export_response(stem, table.columns, table.rows, totals=table.totals, fmt=fmt)


# --- lease movements (for the work report) ---------------------------------------------------


@dataclass
class LeaseMovements:
    new: int = 0  # leases (not renewals) starting in the period
    renewed: int = 0  # renewals (a lease with a predecessor) starting in the period
    terminated: int = 0  # leases terminated early within the period
    rooms_leased: int = 0  # rooms held by a lease on some day of the period
    area_leased: Decimal = Decimal(0)


def lease_movements(period: Period) -> LeaseMovements:
    """New leases, renewals and terminations in the period, and the rooms and area held by a
    lease during it (2 queries)."""
    return lease_movements_of([period])[0]


# A period's lease movements, stored once it has ended and read back while no lease running
# in its years, and no room, has changed (the work report's two earlier half-years).
LEASE_MOVEMENTS = stored_figures.Source(
    "rentals.lease_movements", "rentals",
    keys=lambda first, end: [ROOMS_KEY, *(lease_year_key(year) for year in range(
        first.year, (end - timedelta(days=1)).year + 1))])


def lease_movements_of(periods: list[Period]) -> list[LeaseMovements]:
    """:func:`lease_movements` of each period: stored for the periods that have ended
    (:data:`LEASE_MOVEMENTS`), the others counted in 2 queries whatever their number."""
    return [LeaseMovements(new, renewed, terminated, rooms, Decimal(area))
            for new, renewed, terminated, rooms, area in stored_figures.results(
                LEASE_MOVEMENTS, periods, _lease_movements)]


def _lease_movements(periods: list[Period]) -> list[list]:
    """[new, renewed, terminated, rooms held, area held (text)] of each period, in 2 queries
    whatever the periods: the leases' counts, a column per period and figure, and the rooms
    held, each room once with a flag per period."""
    holding = Lease.status.in_(BILLED)
    counts = []
    for period in periods:
        starts = _in(Lease.start_date, period)
        counts += [count_when(sa.and_(holding, starts, Lease.predecessor_id.is_(None))),
                   count_when(sa.and_(holding, starts, Lease.predecessor_id.is_not(None))),
                   count_when(_in(Lease.terminated_on, period))]
    counted = [int(n) for n in db.session.execute(sa.select(*counts)).one()]
    first, end = min(p.first for p in periods), max(p.end for p in periods)
    # Per room: was it held by a lease on some day of each period (each room once, however
    # many leases held it).
    flags = (sa.select(LeaseRoom.room_id, *(
        sa.func.max(sa.case((sa.and_(Lease.start_date < period.end,
                                     Lease.end_date >= period.first), 1), else_=0))
        .label(f"held_{idx}") for idx, period in enumerate(periods)))
        .join(Lease, Lease.id == LeaseRoom.lease_id)
        .where(holding, Lease.start_date < end, Lease.end_date >= first)
        .group_by(LeaseRoom.room_id).subquery())
    held = db.session.execute(
        sa.select(*(column for idx in range(len(periods)) for column in (
            sa.func.coalesce(sa.func.sum(flags.c[f"held_{idx}"]), 0),
            sa.func.coalesce(sa.func.sum(flags.c[f"held_{idx}"] * Room.area_m2), 0))))
        .select_from(flags).join(Room, Room.id == flags.c.room_id)).one()
    return [[*counted[3 * idx:3 * idx + 3], int(held[2 * idx]),
             str(Decimal(held[2 * idx + 1] or 0))]
            for idx in range(len(periods))]
