"""Two staff accept the same feedback at the same instant, through real HTTP (SQLite and
PostgreSQL): one wins, the other is told clearly who took it; one event, one email."""

import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackEvent, FeedbackStatus
from portal.outbox.models import OutboxMessage
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.helpers import all_at_once
from tests.test_concurrency import _TOKEN, Browserless

_HEADER_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def _logged_in(base: str, account) -> Browserless:
    browser = Browserless(base)
    token = _TOKEN.search(browser.get("/auth/login?lang=en")).group(1)
    status, _ = browser.post("/auth/login", {"email": account.email, "password":
                                             account.password, "csrf_token": token})
    assert status == 200  # followed the redirect home
    return browser


@pytest.mark.live
def test_two_staff_accepting_one_item_at_once_one_wins_the_other_gets_a_conflict(live_server):
    app = live_server.app
    supervisor = make_user(app, "supervisor", email="jiandu@example.com")
    make_appointment(app, supervisor.id)
    item = make_feedback(app, supervisor.id, make_category(app))
    staff = [make_user(app, "staff", name=name) for name in ("王海燕", "陈晓丽")]
    browsers = [_logged_in(live_server.url, account) for account in staff]
    tokens = [_HEADER_TOKEN.search(b.get(f"/feedback/{item}")).group(1) for b in browsers]

    def accept(n):
        return browsers[n].post(f"/feedback/{item}/accept", {
            "csrf_token": tokens[n], "accept-expected_status": "submitted",
            "accept-assignee_id": str(staff[n].id)})

    results = all_at_once(2, accept)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 422], statuses  # the winner followed the redirect
    [winner] = [n for n, (status, _) in enumerate(results) if status == 200]
    loser_body = results[1 - winner][1]
    assert "changed a moment ago" in loser_body  # read in English (the language cookie)
    assert ("王海燕", "陈晓丽")[winner] in loser_body
    with app.app_context():
        row = db.session.get(Feedback, item)
        assert row.status == FeedbackStatus.ACCEPTED and row.assignee_id == staff[winner].id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent).where(
            FeedbackEvent.feedback_id == item, FeedbackEvent.action == "accept")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == "jiandu@example.com")) == 1
        db.session.remove()
