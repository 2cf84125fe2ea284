"""``flask --app portal demo`` adds the catalogue, the roster and feedback in every state."""

import sqlalchemy as sa

from portal.catalogue.models import ServiceCategory
from portal.extensions import db
from portal.feedback import demo, services
from portal.feedback.models import (
    Feedback,
    FeedbackPhoto,
    FeedbackStatus,
    SupervisorAppointment,
)
from tests.feedback.factories import make_category, make_contract, make_supplier


def test_demo_adds_catalogue_roster_and_feedback_in_every_state(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        today = services.today()
        codes = set(db.session.scalars(sa.select(ServiceCategory.code)))
        assert len(codes) == 12 and {"cleaning", "elevators", "vehicles", "other"} <= codes
        terms = db.session.scalars(sa.select(SupervisorAppointment)).all()
        assert any(t.ended_on is not None and t.replaces_id is None
                   and not t.is_active_on(today) for t in terms)  # ended early
        replacement = [t for t in terms if t.replaces_id is not None]
        assert len(replacement) == 1 and replacement[0].is_active_on(today)
        assert len([t for t in terms if t.is_active_on(today)]) >= 4
        statuses = set(db.session.scalars(sa.select(Feedback.status)))
        assert statuses == set(FeedbackStatus.ALL)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback).where(
            Feedback.escalated_at.is_not(None))) >= 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback).where(
            Feedback.resolution_overdue(today))) >= 1
        # the supervisor's water on the floor and the diner's tray area (QR code)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackPhoto)) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback).where(
            Feedback.source == "public")) == 2
        months = {item.submitted_at.strftime("%Y-%m") for item in
                  db.session.scalars(sa.select(Feedback))}
        assert len(months) >= 3  # a history for the dashboard


def test_categories_are_linked_to_a_contract_of_their_service_in_force(app, ctx):
    cleaning = make_category(app)
    greening = make_category(app, name="绿化", name_en="Greening")
    supplier = make_supplier(app, category_ids=(cleaning,))
    contract = make_contract(app, supplier, cleaning)
    with ctx():
        assert demo.link_contracts(services.today()) == 1
        assert db.session.get(ServiceCategory, cleaning).contract_id == contract
        assert db.session.get(ServiceCategory, greening).contract_id is None
