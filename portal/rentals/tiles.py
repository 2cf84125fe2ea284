"""Rentals on the staff and admin home: the overdue-rent figure (a tile, one query) and, on
the work list, leases expiring, leases in arrears, deposits to return and (admins) leases
awaiting approval; on a tenant's, their rent due.

The figures use the conditions the alerts use (:mod:`portal.rentals.tasks`), so a tile and
its emails always agree.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from ..core.dashboard import (
    Tile,
    WorkItem,
    count_and_first,
    day_label,
    days_ago,
    tile_provider,
    work_provider,
)
from ..extensions import db
from ..i18n import money
from ..roles import Role
from . import services
from .models import Lease, LeaseStatus, RentPeriod, Tenant
from .tasks import BILLED, WITHIN, overdue_condition

RENT_DUE_WITHIN = 14  # days: a tenant's bill shows on their work list from this far ahead


def figures(on=None) -> dict[str, int]:
    """The arrears figure: rent overdue in all (fen) and the tenants owing it (one query)."""
    on = on or services.today()
    overdue = sa.select((RentPeriod.amount_fen - RentPeriod.paid_fen).label("open_fen"),
                        Lease.tenant_id).join(
        Lease, Lease.id == RentPeriod.lease_id).where(overdue_condition(on)).subquery()
    row = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(overdue.c.open_fen), 0),
        sa.func.count(sa.distinct(overdue.c.tenant_id)))).one()
    return {"overdue_fen": int(row[0] or 0), "overdue_tenants": int(row[1] or 0)}


@tile_provider
def rental_tiles(user) -> list[Tile]:
    """The arrears figure (what leases need doing is on the work list)."""
    if user.role not in Role.BUREAU:
        return []
    found = figures()
    return [Tile(_l("Overdue rent"), money(found["overdue_fen"]),
                 url_for("rentals.reports", _anchor="arrears"),
                 tone="danger" if found["overdue_fen"] else "good",
                 note=_l("Tenants in arrears: %(count)d", count=found["overdue_tenants"]))]


# --- "My work" -------------------------------------------------------------------------------


def _lease_lines(condition, order_by, when):
    """Leases meeting ``condition``: how many, and the first in ``order_by`` order with its
    tenant (one query)."""
    return count_and_first(
        sa.select(Lease.id, Tenant.name.label("tenant"), when.label("when"))
        .join(Tenant, Tenant.id == Lease.tenant_id).where(condition), order_by, Lease.id)


def _what(row) -> str:
    return f"{Lease.reference_of(row.id)} {row.tenant}"


@work_provider
def rental_work(user) -> list[WorkItem]:
    if user.role in Role.BUREAU:
        return _desk_work(user)
    if user.role == Role.CLIENT:
        return _tenant_work(user)
    return []


def _desk_work(user) -> list[WorkItem]:
    on = services.today()
    needs = services.attention_conditions(on)

    def leases(**args):
        return url_for("rentals.leases", **args)

    count, first = _lease_lines(needs["expiring"], Lease.end_date, Lease.end_date)
    items = [WorkItem(
        ngettext("%(num)d lease expiring within %(days)d days",
                 "%(num)d leases expiring within %(days)d days", count, days=WITHIN),
        count, leases(need="expiring"),
        gettext("First to end %(when)s: %(what)s", when=day_label(first.when),
                what=_what(first)) if first else "", "warning", "rentals")]
    # Each lease in arrears once, with its oldest unpaid period's due date.
    oldest_due = (sa.select(sa.func.min(RentPeriod.due_on))
                  .where(RentPeriod.lease_id == Lease.id, overdue_condition(on))
                  .scalar_subquery())
    count, first = _lease_lines(needs["overdue"], oldest_due, oldest_due)
    items.append(WorkItem(
        ngettext("%(num)d lease with rent overdue", "%(num)d leases with rent overdue", count),
        count, leases(need="overdue"),
        gettext("Oldest due %(when)s: %(what)s", when=day_label(first.when),
                what=_what(first)) if first else "", "danger", "rentals"))
    count, first = _lease_lines(needs["deposit"], Lease.end_date, Lease.end_date)
    items.append(WorkItem(
        ngettext("%(num)d deposit to return", "%(num)d deposits to return", count),
        count, leases(need="deposit"),
        gettext("Ended %(when)s: %(what)s", when=day_label(first.when),
                what=_what(first)) if first else "", "warning", "rentals"))
    if user.role == Role.ADMIN:
        count, first = _lease_lines(Lease.status == LeaseStatus.PENDING, Lease.created_at,
                                    Lease.created_at)
        items.append(WorkItem(
            ngettext("%(num)d lease awaiting your approval",
                     "%(num)d leases awaiting your approval", count),
            count, leases(status=LeaseStatus.PENDING),
            gettext("Oldest drafted %(ago)s: %(what)s", ago=days_ago(first.when),
                    what=_what(first)) if first else "", "warning", "rentals"))
    return items


def _tenant_work(user) -> list[WorkItem]:
    """A tenant's rent due within :data:`RENT_DUE_WITHIN` days or overdue (one query)."""
    on = services.today()
    count, first = count_and_first(
        sa.select(RentPeriod.due_on, (RentPeriod.amount_fen - RentPeriod.paid_fen).label("open"))
        .join(Lease, Lease.id == RentPeriod.lease_id)
        .where(Lease.visible_to(user), Lease.status.in_(BILLED),
               RentPeriod.paid_fen < RentPeriod.amount_fen,
               RentPeriod.due_on <= on + timedelta(days=RENT_DUE_WITHIN)),
        RentPeriod.due_on, RentPeriod.id)
    if not first:
        return []
    overdue = first.due_on < on
    lead = (gettext("Overdue since %(when)s: %(amount)s", when=day_label(first.due_on),
                    amount=money(first.open)) if overdue else
            gettext("Due %(when)s: %(amount)s", when=day_label(first.due_on),
                    amount=money(first.open)))
    return [WorkItem(
        ngettext("%(num)d rent bill due or overdue", "%(num)d rent bills due or overdue", count),
        count, url_for("rentals.my_leases"), lead, "danger" if overdue else "warning",
        "rentals")]
