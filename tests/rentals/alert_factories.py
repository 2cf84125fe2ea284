"""Tenants with addresses, payments, deposits and ended leases for the alert, report and
tile tests (rooms and leases come from tests/rentals/factories.py)."""

from __future__ import annotations

from datetime import date
from itertools import count
from uuid import uuid4

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.rentals import services
from portal.rentals.models import Lease
from tests.conftest import make_user
from tests.helpers import bureau_today as local_today  # noqa: F401  (the alert tests import it)
from tests.rentals.factories import make_lease, make_room, valid_uscc

_sequence = count(1)




def make_tenant_with_email(app, email: str | None = None, name: str | None = None,
                           user_id: int | None = None) -> int:
    number = next(_sequence)
    with app.test_request_context():
        tenant = services.save_tenant(None, services.TenantInput(
            kind="organisation", name=name or f"提醒测试租户{number}",
            code=valid_uscc(500_000 + number),
            email=email if email is not None else f"tenant{number}@example.com",
            user_id=user_id))
        return tenant.id


def leased_room_lease(app, tenant_id: int, start: date, end: date, status: str = "active",
                      area="50", standard_fen: int = 10_000, room_ids=None, **fields) -> int:
    """A lease (by default of one new room of ``area`` m² at ``standard_fen`` per m²)."""
    room_ids = room_ids or [make_room(app, area=area, standard_fen=standard_fen)]
    return make_lease(app, tenant_id, room_ids, start=start, end=end, status=status, **fields)


def pay(app, lease_id: int, amount_fen: int, on: date) -> int:
    staff = make_user(app, "staff")
    with app.test_request_context():
        payment, _created = services.record_payment(
            db.session.get(User, staff.id), db.session.get(Lease, lease_id), on, amount_fen,
            "bank_transfer", f"R{next(_sequence)}", uuid4().hex)
        return payment.id


def receive_deposit(app, lease_id: int, amount_fen: int, on: date) -> None:
    staff = make_user(app, "staff")
    with app.test_request_context():
        services.record_deposit(db.session.get(User, staff.id), db.session.get(Lease, lease_id),
                                amount_fen, on)


def end_lease(app, lease_id: int) -> None:
    """Record an active lease whose last day has passed as ended."""
    with app.test_request_context():
        services.transition(db.session.get(Lease, lease_id), "end")


def all_mail(app) -> list[OutboxMessage]:
    """Every message in the outbox (tests.helpers.outbox_for reads one recipient's)."""
    with app.app_context():
        messages = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return messages
