"""Both SLA deadlines: an item is overdue when its first response or its resolution is late.

The model's conditions (``response_overdue``, ``resolution_overdue``, ``overdue``,
``response_decided`` / ``response_missed``) are the one definition used by the queue filter,
the badges, the escalation tick and the dashboard figures."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.alerts import AlertSent
from portal.database import write_transaction
from portal.extensions import db
from portal.feedback import reports, services, tasks
from portal.feedback.models import Feedback, FeedbackEvent, FeedbackStatus
from portal.i18n import local_today
from portal.outbox.models import OutboxMessage
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category, make_feedback

S = FeedbackStatus


@pytest.fixture
def world(app):
    staff = make_user(app, "staff")
    supervisor = make_user(app, "supervisor")
    admin = make_user(app, "admin")
    make_appointment(app, supervisor.id)
    # First response due after 1 working day, resolution after 60: an item submitted ten
    # days ago and never answered misses only its first-response deadline.
    category = make_category(app, name="电梯", name_en="Elevators", response_days=1,
                             resolution_days=60)
    with app.app_context():
        today = local_today()
    ten_days_ago = today - timedelta(days=10)
    unanswered = make_feedback(app, supervisor.id, category, submitted_on=ten_days_ago,
                               description="电梯按钮失灵")
    answered = make_feedback(app, supervisor.id, category, status=S.ACCEPTED,
                             submitted_on=ten_days_ago, responded_late=False,
                             assignee_id=staff.id, description="走廊灯不亮")
    fresh = make_feedback(app, supervisor.id, category, description="窗户关不上")
    return {"staff": staff, "supervisor": supervisor, "admin": admin, "category": category,
            "today": today, "unanswered": unanswered, "answered": answered, "fresh": fresh}


def test_a_missed_first_response_makes_an_item_overdue(app, ctx, world):
    today = world["today"]
    with ctx():
        def ids(condition):
            return set(db.session.scalars(sa.select(Feedback.id).where(condition)))

        assert ids(Feedback.response_overdue(today)) == {world["unanswered"]}
        assert ids(Feedback.resolution_overdue(today)) == set()
        assert ids(Feedback.overdue(today)) == {world["unanswered"]}
        items = {i.id: i for i in db.session.scalars(sa.select(Feedback))}
        assert items[world["unanswered"]].is_overdue(today)
        assert items[world["unanswered"]].overdue_kinds(today) == ["response"]
        assert not items[world["answered"]].is_overdue(today)
        assert not items[world["fresh"]].is_overdue(today)
        # The Python checks say what the SQL conditions say, item by item.
        for item in items.values():
            assert item.is_overdue(today) == (item.id in ids(Feedback.overdue(today)))
        staff = db.session.get(type(items[world["fresh"]].supervisor), world["staff"].id)
        listed = db.session.scalars(services.items_stmt(staff, status="all", overdue=True))
        assert [item.id for item in listed] == [world["unanswered"]]


def test_both_deadlines_missed_are_both_shown(app, ctx, world):
    category = make_category(app, response_days=1, resolution_days=2)
    late = make_feedback(app, world["supervisor"].id, category,
                         submitted_on=world["today"] - timedelta(days=30))
    with ctx():
        item = db.session.get(Feedback, late)
        assert item.overdue_kinds(world["today"]) == ["response", "resolution"]


def test_the_queue_and_the_item_page_say_which_deadline_is_missed(app, login_as, world):
    staff = login_as("staff")
    html = staff.get("/feedback/?overdue=1&status=all").get_data(as_text=True)
    assert "电梯按钮失灵" in html and "走廊灯不亮" not in html and "窗户关不上" not in html
    assert 'data-overdue="response"' in html and 'data-overdue="resolution"' not in html
    assert "首次响应逾期" in html
    page = staff.get(f"/feedback/{world['unanswered']}").get_data(as_text=True)
    assert 'id="feedback-overdue-response"' in page
    assert 'id="feedback-overdue-resolution"' not in page
    english = staff.get(f"/feedback/{world['unanswered']}",
                        headers={"Accept-Language": "en"})
    assert english.status_code == 200


def test_the_tick_escalates_each_missed_deadline_once(app, ctx, world):
    with ctx():
        assert tasks.escalate_overdue() == 1  # the first response of the unanswered item
        assert tasks.escalate_overdue() == 0
        marks = set(db.session.execute(sa.select(AlertSent.object_id, AlertSent.mark)))
        assert marks == {(world["unanswered"], services.ESCALATE_RESPONSE)}
        notes = list(db.session.scalars(sa.select(FeedbackEvent.note).where(
            FeedbackEvent.feedback_id == world["unanswered"],
            FeedbackEvent.action == "escalate")))
        assert len(notes) == 1
        mail = db.session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.recipient == world["admin"].email))
        assert mail is not None and mail.template == "feedback_escalated"
        # Later the resolution deadlines pass too: each missed deadline escalated once.
        later = world["today"] + timedelta(days=120)
        assert tasks.escalate_overdue(later) == 4
        assert tasks.escalate_overdue(later) == 0
        marks = set(db.session.execute(sa.select(AlertSent.object_id, AlertSent.mark)))
        response, resolution = services.ESCALATE_RESPONSE, services.ESCALATE_RESOLUTION
        assert marks == {(world["unanswered"], response), (world["unanswered"], resolution),
                         (world["answered"], resolution),  # answered in time: no response
                         (world["fresh"], response), (world["fresh"], resolution)}


def test_figures_show_first_response_compliance_beside_resolution(app, ctx, world):
    category = world["category"]
    supervisor = world["supervisor"].id
    make_feedback(app, supervisor, category, status=S.REJECTED,
                  submitted_on=world["today"] - timedelta(days=5), responded_late=True)
    with ctx():
        start, end = world["today"] - timedelta(days=30), world["today"] + timedelta(days=1)
        figures = reports.feedback_figures(start, end)
        # Decided: the unanswered item (still waiting, missed), the answered one (in time),
        # the rejected one (late); the fresh one is not decided yet.
        assert (figures.response_decided, figures.response_missed) == (3, 2)
        assert float(figures.response_rate) == pytest.approx(1 / 3)
        assert figures.open_overdue == 1
        assert figures.sla_decided == 0  # no resolution decided: unchanged meaning
        (_category, by), = [(c, f) for c, f in reports.figures_by_category(start, end)
                            if c.id == category]
        assert (by.response_decided, by.response_missed) == (3, 2)


def test_the_dashboard_shows_first_response_compliance(app, login_as, world):
    staff = login_as("staff")
    html = staff.get("/feedback/dashboard").get_data(as_text=True)
    assert 'id="figure-response-sla"' in html and "按时响应率" in html
    export = staff.get("/feedback/dashboard/export?format=csv")
    text = export.get_data().decode("utf-8-sig")
    assert export.status_code == 200 and "按时响应率" in text


def test_a_backlog_is_escalated_in_batches_each_once(app, ctx, world, monkeypatch):
    """A backlog (ticks that did not run for a while) goes out a batch per transaction, not
    one transaction per alert (whose time grew with the square of the backlog); an alert
    another tick already sent is skipped and the rest of its batch still goes."""
    from portal import alerts

    monkeypatch.setattr(alerts, "ALERT_BATCH", 3)
    ten_days_ago = world["today"] - timedelta(days=10)
    backlog = [make_feedback(app, world["supervisor"].id, world["category"],
                             submitted_on=ten_days_ago, description=f"积压 {n}")
               for n in range(6)]
    late = sorted([world["unanswered"], *backlog])  # 7 first responses overdue
    with ctx(), write_transaction():  # "another tick" sent the fourth item's one already
        db.session.add(AlertSent(kind=tasks.KIND, object_type="feedback",
                                 object_id=late[3], mark=services.ESCALATE_RESPONSE))
    batches = []
    send_batch = alerts._send_batch
    monkeypatch.setattr(alerts, "_send_batch",
                        lambda batch: batches.append(len(batch)) or send_batch(batch))
    with ctx():  # the alerts as a tick that read them before the other one's commit
        items = db.session.scalars(sa.select(Feedback).where(Feedback.id.in_(late))
                                   .order_by(Feedback.id)).all()
        assert alerts.send_each(services.escalation(item, services.ESCALATE_RESPONSE)
                                for item in items) == 6
        assert tasks.escalate_overdue() == 0
    assert batches == [3, 3, 1]  # one write transaction per batch of 3
    with ctx():
        escalated = dict(db.session.execute(sa.select(Feedback.id, Feedback.escalated_at)
                                            .where(Feedback.id.in_(late))).all())
        events = sorted(db.session.scalars(sa.select(FeedbackEvent.feedback_id).where(
            FeedbackEvent.action == "escalate")))
        mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == world["admin"].email,
            OutboxMessage.template == "feedback_escalated"))
    assert events == [item for item in late if item != late[3]]  # the skipped one: no event
    assert [item for item, at in escalated.items() if at is None] == [late[3]]
    assert mails == 6


def test_a_failure_in_a_batch_undoes_that_batch_and_keeps_the_ones_before(app, ctx, world,
                                                                         monkeypatch):
    from portal import alerts

    monkeypatch.setattr(alerts, "ALERT_BATCH", 2)
    ten_days_ago = world["today"] - timedelta(days=10)
    for n in range(3):
        make_feedback(app, world["supervisor"].id, world["category"],
                      submitted_on=ten_days_ago, description=f"积压 {n}")
    recorded = services.escalation
    calls = []

    def failing_third(item, why, actor=None, admins=None):
        alert = recorded(item, why, actor, admins)
        calls.append(alert.object_id)
        if len(calls) == 3:
            def broken():
                raise RuntimeError("the timeline could not be written")
            alert.recorded = broken
        return alert

    monkeypatch.setattr(services, "escalation", failing_third)
    with ctx(), pytest.raises(RuntimeError):
        tasks.escalate_overdue()
    with ctx():
        sent = sorted(db.session.scalars(sa.select(AlertSent.object_id)))
        events = sorted(db.session.scalars(sa.select(FeedbackEvent.feedback_id).where(
            FeedbackEvent.action == "escalate")))
    assert sent == events == sorted(calls[:2])  # the first batch stays, whole
    with ctx():  # the next tick sends the rest
        monkeypatch.setattr(services, "escalation", recorded)
        assert tasks.escalate_overdue() == 2
