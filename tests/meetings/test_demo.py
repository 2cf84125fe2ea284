"""``flask --app portal demo`` adds suppliers, contracts in every state and past meetings."""

import sqlalchemy as sa

from portal.catalogue.models import ServiceCategory
from portal.extensions import db
from portal.i18n import local_today
from portal.meetings.models import ActionItem, ActionStatus, Meeting, MeetingStatus
from portal.suppliers.models import ContractState, ServiceContract, Supplier
from portal.validators import is_valid_uscc


def test_demo_adds_suppliers_contracts_and_meetings(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        today = local_today()
        suppliers = list(db.session.scalars(sa.select(Supplier)))
        assert len(suppliers) == 9 and all(is_valid_uscc(s.uscc) for s in suppliers)
        states = {c.state(today) for c in db.session.scalars(sa.select(ServiceContract))}
        assert states == set(ContractState.ALL)
        codes = set(db.session.scalars(sa.select(ServiceCategory.code).where(
            ServiceCategory.contract_id.is_not(None))))
        assert {"cleaning", "elevators", "vehicles", "exterior_walls"} <= codes  # the catalogue's
        statuses = sorted(db.session.scalars(sa.select(Meeting.status)))
        assert statuses.count(MeetingStatus.PUBLISHED) == 2
        assert MeetingStatus.PLANNED in statuses
        actions = {a.status for a in db.session.scalars(sa.select(ActionItem))}
        assert actions == set(ActionStatus.ALL)
        # The loop closes in the demo: a verified action answers an open feedback item.
        from portal.meetings import services

        ready = db.session.scalars(services.ready_to_resolve_stmt()).all()
        assert ready and all(item.supplier_id for item in ready)
