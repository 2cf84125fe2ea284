"""The foundation's database rules: what the constraints refuse, whatever the code does."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.database import write_transaction
from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackStatus, SupervisorAppointment
from portal.suppliers.models import ContractState, ServiceContract
from tests.conftest import make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)
from tests.helpers import bureau_today


def test_closed_feedback_must_be_rated_and_a_refusal_needs_a_reason(app):
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    category = make_category(app)
    item_id = make_feedback(app, supervisor.id, category)
    for change in ({"status": FeedbackStatus.CLOSED}, {"status": FeedbackStatus.REJECTED},
                   {"service_rating": 6}, {"description": ""}):
        with pytest.raises(sa.exc.IntegrityError), app.test_request_context(), \
                write_transaction():
            item = db.session.get(Feedback, item_id)
            for name, value in change.items():
                setattr(item, name, value)
            db.session.flush()


def test_sla_conditions_count_open_overdue_items(app):
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    category = make_category(app, resolution_days=2)
    today = bureau_today(app)
    long_ago = today - timedelta(days=30)
    overdue = make_feedback(app, supervisor.id, category, status=FeedbackStatus.IN_PROGRESS,
                            submitted_on=long_ago)
    on_time = make_feedback(app, supervisor.id, category, status=FeedbackStatus.CLOSED,
                            submitted_on=long_ago, resolved_late=False)
    fresh = make_feedback(app, supervisor.id, category)
    with app.test_request_context():
        missed = set(db.session.scalars(sa.select(Feedback.id).where(Feedback.sla_missed(today))))
        decided = set(db.session.scalars(
            sa.select(Feedback.id).where(Feedback.sla_decided(today))))
    assert missed == {overdue}
    assert decided == {overdue, on_time}
    assert fresh not in decided


def test_appointment_active_on_follows_an_early_end(app):
    supervisor = make_user(app, "supervisor")
    today = bureau_today(app)
    ended = make_appointment(app, supervisor.id, ended_on=today - timedelta(days=1))
    with app.test_request_context():
        active = db.session.scalars(sa.select(SupervisorAppointment.id)
                                    .where(SupervisorAppointment.active_on(today))).all()
        assert ended not in active
        assert not db.session.get(SupervisorAppointment, ended).is_active_on(today)


def test_contract_state_is_derived_from_dates_and_successor(app):
    category = make_category(app)
    supplier = make_supplier(app, category_ids=(category,))
    today = bureau_today(app)
    expiring = make_contract(app, supplier, category, ends_on=today + timedelta(days=45))
    upcoming = make_contract(app, supplier, category, starts_on=today + timedelta(days=1),
                             ends_on=today + timedelta(days=400))
    renewed = make_contract(app, supplier, category, ends_on=today + timedelta(days=10),
                            successor_id=upcoming)
    with app.test_request_context():
        state = {cid: db.session.get(ServiceContract, cid).state(today)
                 for cid in (expiring, upcoming, renewed)}
    assert state == {expiring: ContractState.EXPIRING, upcoming: ContractState.UPCOMING,
                     renewed: ContractState.RENEWED}
    with pytest.raises(sa.exc.IntegrityError):
        make_contract(app, supplier, category, starts_on=date(2026, 5, 1),
                      ends_on=date(2026, 4, 30))


def test_a_renewal_chain_is_read_to_the_contract_in_force(app):
    category = make_category(app)
    supplier = make_supplier(app, category_ids=(category,))
    today = bureau_today(app)
    third = make_contract(app, supplier, category, starts_on=today + timedelta(days=400),
                          ends_on=today + timedelta(days=700))
    second = make_contract(app, supplier, category, starts_on=today - timedelta(days=10),
                           ends_on=today + timedelta(days=399), successor_id=third)
    first = make_contract(app, supplier, category, starts_on=today - timedelta(days=400),
                          ends_on=today - timedelta(days=11), successor_id=second)
    with app.test_request_context():
        contract = db.session.get(ServiceContract, first)
        assert contract.in_force_on(today).id == second  # the third has not started
        assert contract.in_force_on(today + timedelta(days=400)).id == third
        assert contract.in_force_on(today - timedelta(days=100)).id == first
