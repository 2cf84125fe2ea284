"""Conflicting steps on one feedback item (and on one supervisor term) at the same instant,
through real HTTP with separate sessions (SQLite and PostgreSQL): exactly one takes effect —
one status change in the audit trail, one timeline event, one mail — and every loser is told
clearly who changed it (409), never a 500."""

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditAction, AuditLog
from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackEvent, FeedbackStatus, SupervisorAppointment
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.races import Attempt, assert_one_step, outbox_count, race, signed_in

S = FeedbackStatus


def _events(app, item_id: int, *actions: str) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent).where(
            FeedbackEvent.feedback_id == item_id, FeedbackEvent.action.in_(actions)))
        db.session.remove()
        return count


@pytest.mark.live
def test_two_staff_accepting_one_item_at_once_one_wins_the_other_gets_a_conflict(live_server):
    app = live_server.app
    supervisor = make_user(app, "supervisor", email="jiandu@example.com")
    make_appointment(app, supervisor.id)
    item = make_feedback(app, supervisor.id, make_category(app))
    staff = [make_user(app, "staff", name=name) for name in ("王海燕", "陈晓丽")]
    page = f"/feedback/{item}"
    browsers = [signed_in(live_server, account, page) for account in staff]
    for browser in browsers:  # the loser reads its message in English
        browser.get(f"{page}?lang=en")
    results = race([Attempt(browser, f"{page}/accept", {
        "accept-expected_status": "submitted", "accept-assignee_id": str(account.id)})
        for browser, account in zip(browsers, staff, strict=True)])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], statuses  # the winner followed the redirect
    [winner] = [n for n, (status, _) in enumerate(results) if status == 200]
    loser_body = results[1 - winner][1]
    assert "This feedback changed a moment ago" in loser_body
    assert ("王海燕", "陈晓丽")[winner] in loser_body
    with app.app_context():
        row = db.session.get(Feedback, item)
        assert row.status == S.ACCEPTED and row.assignee_id == staff[winner].id
        db.session.remove()
    assert _events(app, item, "accept") == 1
    assert outbox_count(app, "jiandu@example.com") == 1


@pytest.mark.live
def test_two_resolutions_and_a_rejection_at_once_take_effect_once(live_server):
    app = live_server.app
    supervisor = make_user(app, "supervisor", email="jiandu2@example.com")
    make_appointment(app, supervisor.id)
    handler = make_user(app, "staff", name="赵立新")
    item = make_feedback(app, supervisor.id, make_category(app), status=S.IN_PROGRESS,
                         assignee_id=handler.id)
    page = f"/feedback/{item}"
    moves = [("resolve", {"resolve-response": "已安排保洁重新清扫"}),
             ("resolve", {"resolve-response": "已更换地垫"}),
             ("reject", {"reject-reason": "不属于本局服务范围"})]
    attempts = []
    for n, (action, fields) in enumerate(moves):
        account = make_user(app, "staff", name=f"值班员{n}")
        attempts.append(Attempt(signed_in(live_server, account, page), f"{page}/{action}",
                                {f"{action}-expected_status": S.IN_PROGRESS, **fields}))
    results = race(attempts)
    [(old, new)] = assert_one_step(results, app, "feedback", item)
    assert old == S.IN_PROGRESS and new in (S.RESOLVED, S.REJECTED)
    with app.app_context():
        row = db.session.get(Feedback, item)
        assert row.status == new
        assert (row.reason == "不属于本局服务范围") == (new == S.REJECTED)
        assert bool(row.response) == (new == S.RESOLVED)
        db.session.remove()
    assert _events(app, item, "resolve", "reject") == 1
    assert outbox_count(app, "jiandu2@example.com") == 1  # the supervisor told once


@pytest.mark.live
def test_one_supervisor_closing_and_reopening_in_two_sessions_at_once(live_server):
    app = live_server.app
    supervisor = make_user(app, "supervisor", email="jiandu3@example.com")
    make_appointment(app, supervisor.id)
    handler = make_user(app, "staff", name="赵立新", email="handler@example.com")
    item = make_feedback(app, supervisor.id, make_category(app), status=S.RESOLVED,
                         assignee_id=handler.id, response="已处理")
    page = f"/feedback/{item}"
    sessions = [signed_in(live_server, supervisor, page) for _ in range(2)]
    results = race([
        Attempt(sessions[0], f"{page}/close", {"close-expected_status": S.RESOLVED,
                                                 "close-handling_rating": "4"}),
        Attempt(sessions[1], f"{page}/reopen", {"reopen-expected_status": S.RESOLVED,
                                                  "reopen-reason": "地面仍有积水"}),
    ])
    [(old, new)] = assert_one_step(results, app, "feedback", item)
    assert old == S.RESOLVED and new in (S.CLOSED, S.IN_PROGRESS)
    with app.app_context():
        row = db.session.get(Feedback, item)
        assert row.reopen_count == (1 if new == S.IN_PROGRESS else 0)
        assert (row.handling_rating == 4) == (new == S.CLOSED)
        db.session.remove()
    assert _events(app, item, "close", "reopen") == 1
    assert outbox_count(app, "handler@example.com") == 1  # the handler told once


@pytest.mark.live
def test_two_staff_ending_one_term_at_once_end_it_once(live_server):
    from datetime import timedelta

    from portal.i18n import local_today

    app = live_server.app
    supervisor = make_user(app, "supervisor")
    term = make_appointment(app, supervisor.id)
    with app.app_context():
        last_days = [local_today(), local_today() + timedelta(days=7)]
    page = f"/feedback/roster/{term}"
    attempts = [Attempt(signed_in(live_server, make_user(app, "staff"), page), f"{page}/end",
                        {"ended_on": day.isoformat(), "reason": "工作调动"})
                for day in last_days]
    results = race(attempts)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 422], statuses
    refused = next(body for status, body in results if status == 422)
    assert "该聘期已经结束" in refused and 'id="end-term-error"' in refused
    with app.app_context():
        row = db.session.get(SupervisorAppointment, term)
        won = next(n for n, (status, _) in enumerate(results) if status == 200)
        assert row.ended_on == last_days[won]
        updates = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.object_type == "supervisor_appointment",
            AuditLog.object_id == str(term), AuditLog.action == AuditAction.UPDATE))
        db.session.remove()
    assert updates == 1  # ended once, not written twice
