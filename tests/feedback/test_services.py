"""Feedback rules without HTTP: submitting, the lifecycle, SLA flags, escalation, roster."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.alerts import AlertSent
from portal.auth.models import User
from portal.catalogue.models import ServiceCategory
from portal.database import write_transaction
from portal.errors import Conflict, NotAllowed, ServiceError
from portal.extensions import db
from portal.feedback import reports, services, tasks
from portal.feedback.models import (
    Feedback,
    FeedbackEvent,
    FeedbackStatus,
    SupervisorAppointment,
)
from portal.i18n import local_today
from portal.outbox.models import OutboxMessage
from portal.workflow import StaleRecord
from tests.conftest import make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)
from tests.helpers import work_lines

S = FeedbackStatus


def _user(user_id):
    return db.session.get(User, user_id)


def _mail(recipient):
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)))


@pytest.fixture
def people(app):
    staff = make_user(app, "staff", name="陈晓丽")
    supervisor = make_user(app, "supervisor", name="李明华", locale="en")
    admin = make_user(app, "admin", name="周建国")
    make_appointment(app, supervisor.id, unit="区发展和改革委员会办公室")
    return {"staff": staff, "supervisor": supervisor, "admin": admin}


def _submit(supervisor_id, category_id, **fields):
    data = services.FeedbackInput(category_id=category_id,
                                  description=fields.pop("description", "会议室空调不制冷"),
                                  service_rating=fields.pop("service_rating", 2), **fields)
    return services.submit_feedback(_user(supervisor_id), data)


def test_submit_sets_deadlines_in_working_days_and_tells_the_default_assignee(app, ctx, people):
    category = make_category(app, response_days=1, resolution_days=3)
    with ctx(people["supervisor"].id):
        with write_transaction():
            db.session.get(ServiceCategory, category).default_assignee_id = people["staff"].id
        item = _submit(people["supervisor"].id, category, urgency="urgent")
        assert item.status == S.SUBMITTED
        assert item.response_due_on > local_today()
        assert item.resolution_due_on >= item.response_due_on
        assert [e.action for e in item.events] == ["submit"]
        [mail] = _mail(people["staff"].email)
        assert mail.template == "feedback_submitted" and str(item.id) in mail.subject


def test_a_supervisor_outside_their_term_cannot_submit_and_nothing_is_saved(app, ctx):
    supervisor = make_user(app, "supervisor")
    with app.test_request_context():
        today = local_today()
    make_appointment(app, supervisor.id, start=today - timedelta(days=400),
                     end=today + timedelta(days=300), ended_on=today - timedelta(days=1))
    category = make_category(app)
    with ctx(supervisor.id):
        with pytest.raises(NotAllowed, match="聘期今天不在有效期内"):
            _submit(supervisor.id, category)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 0


def test_an_empty_description_is_refused_beside_the_field(app, ctx, people):
    category = make_category(app)
    with ctx(people["supervisor"].id):
        with pytest.raises(ServiceError) as refused:
            _submit(people["supervisor"].id, category, description="   ")
        assert refused.value.field == "description"


def test_the_whole_lifecycle_with_an_outsourced_service(app, ctx, people):
    category = make_category(app, name="保洁", name_en="Cleaning")
    supplier = make_supplier(app, name="上海洁净物业有限公司", category_ids=(category,))
    contract = make_contract(app, supplier, category)
    with ctx(), write_transaction():
        db.session.get(ServiceCategory, category).contract_id = contract
    staff, supervisor = people["staff"], people["supervisor"]
    item_id = make_feedback(app, supervisor.id, category)
    with ctx(staff.id):
        item = services.apply_transition(item_id, "accept", _user(staff.id))
        assert item.status == S.ACCEPTED and item.assignee_id == staff.id
        assert (item.supplier_id, item.contract_id) == (supplier, contract)
        assert item.first_response_at is not None and item.responded_late is False
        accepted = _mail(supervisor.email)[-1]
        assert "上海洁净物业有限公司" in accepted.body_text
        assert "transferred to supplier" in accepted.body_text  # the supervisor reads English
        services.apply_transition(item_id, "start", _user(staff.id))
        with pytest.raises(ServiceError) as missing:
            services.apply_transition(item_id, "resolve", _user(staff.id), response="")
        assert missing.value.field == "response"
        item = services.apply_transition(item_id, "resolve", _user(staff.id),
                                         response="已通知保洁公司重新清扫并加强巡查")
        assert item.status == S.RESOLVED and item.resolved_late is False
        # Staff can never close on the supervisor's behalf.
        with pytest.raises(NotAllowed):
            services.apply_transition(item_id, "close", _user(staff.id), handling_rating=5)
        with pytest.raises(NotAllowed):
            services.apply_transition(item_id, "close", _user(people["admin"].id),
                                      handling_rating=5)
    other = make_user(app, "supervisor")
    make_appointment(app, other.id)
    with ctx(other.id), pytest.raises(NotAllowed):  # not their item
        services.apply_transition(item_id, "close", _user(other.id), handling_rating=5)
    with ctx(supervisor.id):
        with pytest.raises(ServiceError) as unrated:
            services.apply_transition(item_id, "close", _user(supervisor.id))
        assert unrated.value.field == "handling_rating"
        item = services.apply_transition(item_id, "close", _user(supervisor.id),
                                         handling_rating=4, comment="处理及时")
        assert item.status == S.CLOSED and item.handling_rating == 4
        actions = [e.action for e in db.session.scalars(sa.select(FeedbackEvent).where(
            FeedbackEvent.feedback_id == item_id).order_by(FeedbackEvent.id))]
        assert actions == ["submit", "accept", "start", "resolve", "close"]
        closed = _mail(staff.email)[-1]
        assert closed.template == "feedback_supervisor_step" and "4 / 5" in closed.body_text


def test_late_steps_are_flagged_when_they_happen(app, ctx, people):
    category = make_category(app, response_days=1, resolution_days=2)
    with ctx():
        long_ago = local_today() - timedelta(days=20)
    item_id = make_feedback(app, people["supervisor"].id, category, submitted_on=long_ago)
    staff = people["staff"]
    with ctx(staff.id):
        item = services.apply_transition(item_id, "accept", _user(staff.id))
        assert item.responded_late is True
        item = services.apply_transition(item_id, "resolve", _user(staff.id), response="已修复")
        assert item.resolved_late is True


def test_reopened_twice_escalates_to_the_admins_once(app, ctx, people):
    category = make_category(app)
    staff, supervisor, admin = people["staff"], people["supervisor"], people["admin"]
    item_id = make_feedback(app, supervisor.id, category, status=S.IN_PROGRESS,
                            assignee_id=staff.id)
    for round_ in range(2):
        with ctx(staff.id):
            services.apply_transition(item_id, "resolve", _user(staff.id), response="已处理")
        with ctx(supervisor.id):
            item = services.apply_transition(item_id, "reopen", _user(supervisor.id),
                                             reason="问题仍然存在")
            assert item.status == S.IN_PROGRESS and item.resolved_late is None
            assert item.reopen_count == round_ + 1
            assert (item.escalated_at is not None) == (round_ == 1)
    with ctx():
        escalations = [m for m in _mail(admin.email) if m.template == "feedback_escalated"]
        assert len(escalations) == 1
        assert _mail(staff.email)[-1].template == "feedback_supervisor_step"


def test_refusals_need_a_reason_and_a_duplicate_names_its_original(app, ctx, people):
    category = make_category(app)
    supervisor, staff = people["supervisor"], people["staff"]
    original = make_feedback(app, supervisor.id, category)
    item_id = make_feedback(app, supervisor.id, category)
    with ctx(staff.id):
        with pytest.raises(NotAllowed) as no_reason:
            services.apply_transition(item_id, "reject", _user(staff.id), reason=" ")
        assert no_reason.value.field == "reason"
        with pytest.raises(ServiceError) as no_original:
            services.apply_transition(item_id, "mark_duplicate", _user(staff.id),
                                      reason="重复提交")
        assert no_original.value.field == "duplicate_of_id"
        item = services.apply_transition(item_id, "mark_duplicate", _user(staff.id),
                                         reason="重复提交", duplicate_of_id=original)
        assert item.status == S.DUPLICATE and item.duplicate_of_id == original
        assert item.first_response_at is not None
        with pytest.raises(NotAllowed):  # final
            services.apply_transition(item_id, "accept", _user(staff.id))


def test_a_step_on_a_state_that_moved_on_is_a_conflict_naming_who_moved_it(app, ctx, people):
    category = make_category(app)
    item_id = make_feedback(app, people["supervisor"].id, category)
    first = make_user(app, "staff", name="王海燕")
    with ctx(first.id):
        services.apply_transition(item_id, "accept", _user(first.id), expected_status="submitted")
    with ctx(people["staff"].id), pytest.raises(StaleRecord, match="王海燕"):
        services.apply_transition(item_id, "accept", _user(people["staff"].id),
                                  expected_status="submitted")


def test_the_tick_escalates_overdue_items_once(app, ctx, people):
    category = make_category(app, resolution_days=2)
    with ctx():
        long_ago = local_today() - timedelta(days=30)
    overdue = make_feedback(app, people["supervisor"].id, category, status=S.ACCEPTED,
                            submitted_on=long_ago, assignee_id=people["staff"].id)
    make_feedback(app, people["supervisor"].id, category)  # not due yet
    with ctx():
        assert tasks.escalate_overdue() == 1
        assert tasks.escalate_overdue() == 0
        assert db.session.get(Feedback, overdue).escalated_at is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertSent).where(
            AlertSent.object_id == overdue)) == 1


def test_roster_appoint_end_early_and_replace(app, ctx):
    staff = make_user(app, "staff")
    first = make_user(app, "supervisor", name="刘芳")
    second = make_user(app, "supervisor", name="孙志刚")
    client = make_user(app, "client")
    with ctx(staff.id):
        today = local_today()

        def data(user_id, number, start=today, end=None):
            return services.AppointmentInput(user_id=user_id, unit="区人大常委会办公室",
                                             title="主任", letter_number=number,
                                             term_start=start,
                                             term_end=end or today + timedelta(days=700))

        with pytest.raises(ServiceError) as wrong_role:
            services.appoint(data(client.id, "L-1"))
        assert wrong_role.value.field == "user_id"
        old = services.appoint(data(first.id, "L-1", start=today - timedelta(days=100)))
        with pytest.raises(Conflict) as taken:
            services.appoint(data(second.id, "L-1"))
        assert taken.value.field == "letter_number"
        with pytest.raises(Conflict):  # overlapping term of the same person
            services.appoint(data(first.id, "L-9"))
        new = services.replace(old, data(second.id, "L-2", start=today), reason="工作调动")
        old = db.session.get(SupervisorAppointment, old.id)
        assert new.replaces_id == old.id
        assert old.ended_on == today - timedelta(days=1) and old.end_reason == "工作调动"
        assert services.active_appointment(first.id) is None
        assert services.active_appointment(second.id).id == new.id
        with pytest.raises(Conflict):
            services.replace(old, data(first.id, "L-3"))
        with pytest.raises(ServiceError) as no_reason:
            services.end_term(new, today, "")
        assert no_reason.value.field == "reason"
        ended = services.end_term(new, today, "退休")
        assert ended.ended_on == today
        assert services.active_appointment(second.id).id == new.id  # today is its last day


def test_figures_count_open_overdue_items_as_missed(app, ctx, people):
    category = make_category(app, resolution_days=2)
    other = make_category(app, name="绿化", name_en="Greening")
    supervisor = people["supervisor"].id
    with ctx():
        today = local_today()
    long_ago = today - timedelta(days=20)
    make_feedback(app, supervisor, category, status=S.IN_PROGRESS, submitted_on=long_ago)
    make_feedback(app, supervisor, category, status=S.CLOSED, submitted_on=long_ago,
                  resolved_late=False, handling_rating=5, reopen_count=1)
    make_feedback(app, supervisor, other, status=S.RESOLVED, submitted_on=long_ago,
                  resolved_late=True)
    make_feedback(app, supervisor, other)  # not decided yet
    with ctx():
        start, end = long_ago, today + timedelta(days=1)
        figures = reports.feedback_figures(start, end)
        assert (figures.volume, figures.sla_decided, figures.sla_missed) == (4, 3, 2)
        assert figures.open_overdue == 1 and figures.reopened == 1
        one = reports.feedback_figures(start, end, category_id=category)
        assert (one.volume, one.sla_decided, one.sla_missed) == (2, 2, 1)
        by = {c.id: f for c, f in reports.figures_by_category(start, end)}
        assert by[other].volume == 2 and by[other].sla_missed == 1
        assert sum(n for _m, n in reports.volume_by_month(start, end)) == 4


def test_apply_transition_nests_in_a_callers_transaction(app, ctx, people):
    """The meetings module resolves an item inside its own write transaction: a failure
    after it undoes the resolution too; success commits both."""
    category = make_category(app)
    staff = people["staff"]
    item_id = make_feedback(app, people["supervisor"].id, category, status=S.IN_PROGRESS,
                            assignee_id=staff.id)
    with ctx(staff.id):
        with pytest.raises(RuntimeError), write_transaction():
            services.apply_transition(item_id, "resolve", _user(staff.id), response="已核实")
            raise RuntimeError("the action item could not be verified")
        assert db.session.get(Feedback, item_id).status == S.IN_PROGRESS
        with write_transaction():
            item = services.apply_transition(db.session.get(Feedback, item_id), "resolve",
                                             _user(staff.id), response="联席会议待办事项已核实")
        assert item.status == S.RESOLVED
        assert db.session.get(Feedback, item_id).response == "联席会议待办事项已核实"


def test_a_supervisors_work_list_counts_their_own_feedback(app, login_as):
    supervisor = login_as("supervisor")
    make_appointment(app, supervisor.account.id)
    category = make_category(app)
    make_feedback(app, supervisor.account.id, category, status=S.RESOLVED, response="已处理")
    make_feedback(app, supervisor.account.id, category)
    other = make_user(app, "supervisor")
    make_appointment(app, other.id)
    make_feedback(app, other.id, category, status=S.RESOLVED, response="已处理")
    lines = work_lines(supervisor.get("/?lang=en").get_data(as_text=True))
    assert set(lines) == {"1 resolved item waiting for your confirmation",
                          "1 of your feedback items being handled"}


def test_the_dashboards_total_is_the_same_as_feedback_figures(app, ctx, people):
    categories = [make_category(app), make_category(app, name="绿化", name_en="Greening")]
    supervisor = people["supervisor"].id
    with ctx():
        today = local_today()
    now = datetime.now(UTC)
    for n, state in enumerate([S.CLOSED, S.RESOLVED, S.IN_PROGRESS, S.SUBMITTED, S.CLOSED]):
        make_feedback(app, supervisor, categories[n % 2], status=state,
                      submitted_on=today - timedelta(days=3 * n),
                      submitted_at=now - timedelta(hours=10 * n + 30),
                      first_response_at=None if state == S.SUBMITTED else now,
                      resolved_at=now if state in (S.CLOSED, S.RESOLVED) else None,
                      resolved_late=(n == 4) if state in (S.CLOSED, S.RESOLVED) else None)
    with ctx():
        start, end = today - timedelta(days=40), today + timedelta(days=1)
        rows, total = reports.figures_with_total(start, end)
        assert total.as_dict() == reports.feedback_figures(start, end).as_dict()
        # Response after 30, 40, 50 and 70 hours; resolution after 30, 40 and 70 hours.
        assert (total.median_response_hours, total.median_resolution_hours) == (45.0, 40.0)
        assert [(c.id, f.as_dict()) for c, f in rows] == [
            (c.id, f.as_dict()) for c, f in reports.figures_by_category(start, end)]


def test_an_appointment_is_refused_with_every_problem_at_once(app, ctx):
    with ctx(), pytest.raises(ServiceError) as refused:
        services.appoint(services.AppointmentInput(
            user_id=None, unit=" ", title="", letter_number="",
            term_start=local_today(), term_end=local_today() - timedelta(days=1)))
    assert set(refused.value.fields) == {"user_id", "unit", "letter_number", "term_end"}


def test_medians_per_category_odd_even_and_none_equal_the_middle_values(app, ctx, people):
    """Both engines' medians (PostgreSQL: percentile_cont; SQLite: window functions) are the
    middle value, or the mean of the two middle values, of each category's hours."""
    categories = [make_category(app, name=f"类别{n}") for n in range(3)]
    supervisor = people["supervisor"].id
    with ctx():
        today = local_today()
    now = datetime.now(UTC)
    hours = {categories[0]: [5, 17, 11], categories[1]: [3, 8, 1, 30], categories[2]: []}
    for category, values in hours.items():
        for value in values:
            make_feedback(app, supervisor, category, status=S.IN_PROGRESS,
                          submitted_on=today - timedelta(days=2),
                          submitted_at=now - timedelta(hours=value), first_response_at=now)
    make_feedback(app, supervisor, categories[2], status=S.SUBMITTED,
                  submitted_on=today - timedelta(days=2), submitted_at=now, first_response_at=None)
    with ctx():
        rows, total = reports.figures_with_total(today - timedelta(days=10),
                                                 today + timedelta(days=1))
    medians = {c.id: f.median_response_hours for c, f in rows if c.id in hours}
    assert medians == {categories[0]: 11.0, categories[1]: 5.5, categories[2]: None}
    assert total.median_response_hours == 8.0  # 1 3 5 8 11 17 30
    assert total.median_resolution_hours is None
