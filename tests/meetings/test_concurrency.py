"""Conflicting steps on one meeting or one action item at the same instant, through real HTTP
(separate signed-in sessions released by a barrier), on SQLite and PostgreSQL: exactly one
status change in the audit trail, one set of mails, every loser told who changed it (409)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.i18n import local_today
from portal.meetings.models import ActionItem, Meeting
from tests.conftest import make_user
from tests.feedback.factories import make_category, make_supplier
from tests.meetings.factories import make_action, make_meeting
from tests.races import Attempt, assert_one_step, outbox_count, race, signed_in

SUPPLIER_EMAIL = "wang@cleaning.example.com"


def _setting(live_server, clerks: int, status: str, action_status: str | None = None):
    """A meeting of yesterday in ``status`` with ``clerks`` staff attendees (each signed in)
    and one supplier whose primary contact has an email; with ``action_status``, an action
    item of the supplier in that state."""
    app = live_server.app
    category = make_category(app)
    supplier = make_supplier(app, category_ids=(category,), email=SUPPLIER_EMAIL)
    accounts = [make_user(app, "staff", email=f"clerk{n}@example.com", name=f"科员{n}")
                for n in range(clerks)]
    with app.app_context():
        yesterday = local_today() - timedelta(days=1)
    meeting_id = make_meeting(app, [supplier], status=status, day=yesterday,
                              staff_ids=tuple(a.id for a in accounts))
    action_id = make_action(app, meeting_id, supplier_id=supplier,
                            status=action_status or "open")
    page = f"/meetings/{meeting_id}"
    browsers = [signed_in(live_server, account, page) for account in accounts]
    return app, meeting_id, action_id, accounts, browsers


def _race(app, browsers, path: str, state: str, moves, object_type: str, object_id: int):
    """Each browser posts its (step, fields) on ``path`` at once, all having seen ``state``;
    exactly one took effect: its (old, new) status."""
    attempts = [Attempt(browser, path.format(step=name), {"expected_status": state, **fields})
                for browser, (name, fields) in zip(browsers, moves, strict=True)]
    [(old, new)] = assert_one_step(race(attempts), app, object_type, object_id)
    assert old == state
    return new


def _mails(app, accounts) -> list[int]:
    return [outbox_count(app, account.email) for account in accounts] + [
        outbox_count(app, SUPPLIER_EMAIL)]


@pytest.mark.live
@pytest.mark.parametrize("moves", [
    [("publish", {})] * 3,
    [("hold", {}), ("cancel", {"reason": "供应商无法到会"})] * 2,
], ids=["three-publish", "hold-and-cancel"])
def test_conflicting_steps_on_one_meeting_take_effect_once(live_server, moves):
    first = moves[0][0]
    before = "held" if first == "publish" else "planned"
    app, meeting_id, _action, accounts, browsers = _setting(live_server, len(moves), before)
    new = _race(app, browsers, f"/meetings/{meeting_id}/act/{{step}}", before, moves,
                "meeting", meeting_id)
    assert new in ("minutes_published", "held", "cancelled")
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.status == new
        assert (meeting.published_at is not None) == (new == "minutes_published")
        assert (meeting.cancel_reason == "供应商无法到会") == (new == "cancelled")
        db.session.remove()
    # Publishing and cancelling tell every attendee and the supplier once; holding, nobody.
    expected = 0 if new == "held" else 1
    assert _mails(app, accounts) == [expected] * (len(accounts) + 1)


@pytest.mark.live
@pytest.mark.parametrize("state, moves", [
    ("done", [("verify", {})] * 3),
    ("done", [("verify", {}), ("reopen", {"reason": "复查仍有积水"})] * 2),
    ("open", [("complete", {})] * 2 + [("verify", {})]),
], ids=["three-verify", "verify-and-reopen", "done-and-verify"])
def test_conflicting_steps_on_one_action_item_take_effect_once(live_server, state, moves):
    app, _meeting, action_id, accounts, browsers = _setting(
        live_server, len(moves), "minutes_published", action_status=state)
    new = _race(app, browsers, f"/meetings/actions/{action_id}/act/{{step}}", state, moves,
                "action_item", action_id)
    assert new in ("verified", "open", "done")
    with app.app_context():
        action = db.session.get(ActionItem, action_id)
        assert action.status == new
        assert (action.verified_by_id is not None) == (new == "verified")
        db.session.remove()
    # Verifying or reopening tells the supplier once; marking done tells nobody.
    assert outbox_count(app, SUPPLIER_EMAIL) == (0 if new == "done" else 1)
    assert all(outbox_count(app, account.email) == 0 for account in accounts)
