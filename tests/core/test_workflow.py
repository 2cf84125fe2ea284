"""The one transition mechanism on its own: the table, its rules, and the fresh re-read."""

import pytest

from portal.errors import NotAllowed, ServiceError
from portal.workflow import StaleRecord, Transition, Workflow, locked


def _refuse_on_friday(record, actor, details):
    if details.get("friday"):
        raise ServiceError("not on Friday", field="day")


FLOW = Workflow(("draft", "open", "done"), [
    Transition("open", ("draft",), "open", ("staff",), "Open", rule=_refuse_on_friday),
    Transition("finish", ("open",), "done", ("staff", "client"), "Finish",
               owner_only=("client",), needs_reason=True),
], owner=lambda record, actor: record.owner_id == actor.id)


class Record:
    def __init__(self, status, owner_id=1):
        self.status, self.owner_id = status, owner_id


class Actor:
    def __init__(self, role, id=1):
        self.role, self.id = role, id


def test_offered_follows_state_role_owner_and_rules():
    assert [t.name for t in FLOW.offered(Record("draft"), Actor("staff"))] == ["open"]
    assert FLOW.offered(Record("draft"), Actor("staff"), friday=True) == []
    assert [t.name for t in FLOW.offered(Record("open"), Actor("client", 1))] == ["finish"]
    assert FLOW.offered(Record("open"), Actor("client", 2)) == []  # not its own
    assert FLOW.offered(Record("done"), Actor("staff")) == []


def test_check_refuses_unknown_steps_and_a_missing_reason():
    with pytest.raises(NotAllowed):
        FLOW.check("open", "open", "staff")
    with pytest.raises(NotAllowed, match="reason|原因") as refused:
        FLOW.check("finish", "open", "staff")
    assert refused.value.field == "reason"


def test_unknown_states_are_refused_when_declared():
    with pytest.raises(ValueError):
        Workflow(("a",), [Transition("x", ("a",), "b", ("staff",), "X")])


def test_locked_belongs_inside_a_write_transaction(app, ctx):
    from portal.auth.models import User
    from tests.conftest import make_user

    account = make_user(app, "staff")
    with ctx():
        from portal.database import write_transaction
        from portal.extensions import db

        user = db.session.get(User, account.id)
        with pytest.raises(RuntimeError):
            locked(user)
        with write_transaction():
            assert locked(user) is user  # the same identity, re-read


def test_stale_record_is_refused_with_who_changed_it(app, ctx):
    from portal.bookings.models import Booking
    from portal.bookings.services import WORKFLOW
    from portal.extensions import db
    from tests.bookings.factories import make_booking, make_venue
    from tests.conftest import make_user

    booking_id = make_booking(app, make_user(app, "client").id, make_venue(app))
    staff = make_user(app, "staff", name="李主任")
    with ctx(staff.id):
        from portal.auth.models import User

        actor = db.session.get(User, staff.id)
        booking = db.session.get(Booking, booking_id)
        WORKFLOW.apply(booking, "approve", actor)
        with pytest.raises(StaleRecord, match="李主任"):
            WORKFLOW.apply(booking, "reject", actor, reason="x")
        with pytest.raises(StaleRecord):
            WORKFLOW.apply(booking, "cancel", actor, expected="requested")
        assert db.session.get(Booking, booking_id).status == "approved"
