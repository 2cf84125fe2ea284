"""Rentals tiles on the staff and admin dashboard: expiring leases, overdue rent, deposits to
return and (admins) leases awaiting approval, all read in one query.

The figures use the conditions the alerts use (:mod:`portal.rentals.tasks`), so a tile and
its emails always agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core.dashboard import Tile, tile_provider
from ..extensions import db
from ..i18n import money
from ..roles import Role
from . import services
from .models import Lease, LeaseStatus, RentPeriod
from .tasks import WITHIN, deposit_open_condition, expiring_condition, overdue_condition


def figures(on=None) -> dict[str, int]:
    """The dashboard's rental figures (one query)."""
    on = on or services.today()

    def scalar(select):
        return select.scalar_subquery()

    overdue = sa.select((RentPeriod.amount_fen - RentPeriod.paid_fen).label("open_fen"),
                        Lease.tenant_id).join(
        Lease, Lease.id == RentPeriod.lease_id).where(overdue_condition(on)).subquery()
    deposit_open = (Lease.deposit_received_fen - Lease.deposit_returned_fen
                    - Lease.deposit_deducted_fen)
    row = db.session.execute(sa.select(
        scalar(sa.select(sa.func.count(Lease.id)).where(expiring_condition(on))),
        scalar(sa.select(sa.func.coalesce(sa.func.sum(overdue.c.open_fen), 0))),
        scalar(sa.select(sa.func.count(sa.distinct(overdue.c.tenant_id)))),
        scalar(sa.select(sa.func.count(Lease.id)).where(deposit_open_condition())),
        scalar(sa.select(sa.func.coalesce(sa.func.sum(deposit_open), 0))
               .where(deposit_open_condition())),
        scalar(sa.select(sa.func.count(Lease.id)).where(Lease.status == LeaseStatus.PENDING)),
    )).one()
    keys = ("expiring", "overdue_fen", "overdue_tenants", "deposits", "deposits_fen", "pending")
    return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}


@tile_provider
def rental_tiles(user) -> list[Tile]:
    if user.role not in Role.BUREAU:
        return []
    found = figures()

    def leases(status):
        return url_for("rentals.leases", status=status)

    tiles = [
        Tile(_l("Leases expiring within %(days)d days", days=WITHIN), str(found["expiring"]),
             leases(LeaseStatus.ACTIVE), tone="warning" if found["expiring"] else "good"),
        Tile(_l("Overdue rent"), money(found["overdue_fen"]),
             url_for("rentals.reports", _anchor="arrears"),
             tone="danger" if found["overdue_fen"] else "good",
             note=_l("Tenants in arrears: %(count)d", count=found["overdue_tenants"])),
        Tile(_l("Deposits to return"), str(found["deposits"]),
             leases(LeaseStatus.ENDED), tone="warning" if found["deposits"] else "good",
             note=money(found["deposits_fen"]) if found["deposits"] else ""),
    ]
    if user.role == Role.ADMIN:
        tiles.append(Tile(_l("Leases awaiting approval"), str(found["pending"]),
                          leases(LeaseStatus.PENDING),
                          tone="warning" if found["pending"] else "good"))
    return tiles
