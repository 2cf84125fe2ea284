"""The home page's work list ("My work"): what waits for this person, from every module.

Each role's lines: their counts, the oldest or most urgent item, the filtered list each line
opens (showing exactly those records), nothing of anyone else's, zero lines left out, a
bounded number of queries whatever the data size, and a change shown at once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.bookings.models import Booking, BookingStatus
from portal.core import views as core_views
from portal.core.dashboard import count_and_first, work_for
from portal.database import utcnow, write_transaction
from portal.extensions import db
from portal.feedback.models import Feedback
from portal.feedback.models import FeedbackStatus as FS
from portal.meetings.models import MeetingStatus
from portal.outbox.models import OutboxMessage, OutboxStatus
from portal.rentals.models import Lease
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import login, make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)
from tests.helpers import bureau_today, work_lines
from tests.meetings.factories import make_action, make_meeting
from tests.rentals.alert_factories import leased_room_lease, make_tenant_with_email
from tests.surveys.factories import invite, make_round

STAFF_NAME = "物业管理科王科长"


class World:
    """The people, and the shared records the lines hang on."""


@pytest.fixture
def world(app):
    w = World()
    w.staff = make_user(app, "staff", name=STAFF_NAME)
    w.admin = make_user(app, "admin")
    w.supervisor = make_user(app, "supervisor", email="sup@example.com")
    w.other_supervisor = make_user(app, "supervisor", email="other-sup@example.com")
    w.client = make_user(app, "client")
    w.other_client = make_user(app, "client")
    w.tenant_account = make_user(app, "client")
    make_appointment(app, w.supervisor.id)
    make_appointment(app, w.other_supervisor.id)
    w.category = make_category(app)
    w.supplier = make_supplier(app, category_ids=(w.category,))
    w.venue = make_venue(app)
    w.meeting = make_meeting(app, [w.supplier], status=MeetingStatus.PUBLISHED)
    w.tenant = make_tenant_with_email(app, user_id=w.tenant_account.id)
    w.days = 0  # booking days used so far (one venue: each booking on a day of its own)
    return w


def _ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def _booking(app, w, client_id, status=BookingStatus.REQUESTED, **fields) -> int:
    w.days += 1
    booking_id = make_booking(app, client_id, w.venue, day=future_day(w.days))
    with app.test_request_context(), write_transaction():
        booking = db.session.get(Booking, booking_id)
        booking.status = status
        for name, value in fields.items():
            setattr(booking, name, value)
    return booking_id


def _failed_mail(app, subject="租金提醒") -> int:
    with app.test_request_context(), write_transaction():
        message = OutboxMessage(recipient="x@example.com", subject=subject, body_text="…",
                                template="rent_overdue", status=OutboxStatus.FAILED,
                                attempts=5)
        db.session.add(message)
        db.session.flush()
        return message.id


def _grow(app, w, n: int) -> None:
    """``n`` more records of every kind a line counts (and some that no line counts)."""
    today = bureau_today(app)
    for _ in range(n):
        make_feedback(app, w.supervisor.id, w.category)
        make_feedback(app, w.supervisor.id, w.category, status=FS.RESOLVED, response="已处理")
        make_feedback(app, w.other_supervisor.id, w.category, status=FS.IN_PROGRESS,
                      submitted_on=today - timedelta(days=40), escalated_at=utcnow())
        _booking(app, w, w.client.id, expires_at=utcnow() + timedelta(hours=3))
        _booking(app, w, w.client.id, status=BookingStatus.APPROVED)
        _booking(app, w, w.other_client.id)
        make_action(app, w.meeting, person=STAFF_NAME, due_on=today - timedelta(days=2))
        make_action(app, w.meeting, person="别的科室", due_on=today)
        leased_room_lease(app, w.tenant, today - timedelta(days=40), today + timedelta(days=50))
        leased_room_lease(app, w.tenant, today, today + timedelta(days=300),
                          status="pending_approval")
        survey = make_round(app, closes_on=today + timedelta(days=3))
        invite(app, survey, "sup@example.com")
        make_contract(app, w.supplier, w.category, starts_on=today - timedelta(days=300),
                      ends_on=today + timedelta(days=20))
        _failed_mail(app)


def _home(app, account, lang="en") -> str:
    client = app.test_client()
    login(client, account)
    return client.get(f"/?lang={lang}").get_data(as_text=True)


# --- the registry's one-query helper ------------------------------------------------------------


def test_count_and_first_reads_the_count_and_the_first_row_in_one_query(
        app, ctx, world, count_queries):
    for description in ("第一条", "第二条", "第三条"):
        make_feedback(app, world.supervisor.id, world.category, description=description)
    with ctx():
        stmt = sa.select(Feedback.id, Feedback.description).where(
            Feedback.supervisor_id == world.supervisor.id)
        with count_queries() as queries:
            count, first = count_and_first(stmt, Feedback.id.desc())
        assert [q for q in queries if q.lstrip().upper().startswith("SELECT")] == queries[-1:]
        assert (count, first.description) == (3, "第三条")
        assert count_and_first(stmt.where(sa.false()), Feedback.id) == (0, None)


# --- staff ----------------------------------------------------------------------------------


def test_staff_lines_count_lead_and_open_exactly_those_records(app, world):
    today = bureau_today(app)
    oldest = make_feedback(app, world.supervisor.id, world.category, description="空调不制冷",
                           submitted_at=_ago(3))
    make_feedback(app, world.supervisor.id, world.category, description="走廊灯不亮")
    accepted = make_feedback(app, world.supervisor.id, world.category, status=FS.ACCEPTED)
    late = make_feedback(app, world.supervisor.id, world.category, status=FS.IN_PROGRESS,
                         submitted_on=today - timedelta(days=40))
    expiring = _booking(app, world, world.client.id, expires_at=utcnow() + timedelta(hours=2))
    waiting = _booking(app, world, world.other_client.id)
    make_action(app, world.meeting, person=STAFF_NAME, description="更换滤网",
                due_on=today + timedelta(days=2))
    make_action(app, world.meeting, person="别的科室", description="别人的事")

    staff = app.test_client()
    login(staff, world.staff)
    zh = work_lines(staff.get("/?lang=zh").get_data(as_text=True))
    assert "2 项待受理的意见反馈" in zh  # the wording the browser tests look for
    lines = work_lines(staff.get("/?lang=en").get_data(as_text=True))
    url, lead = lines["2 feedback items to accept"]
    assert url == "/feedback/?status=submitted"
    assert lead == f"Oldest submitted 3 days ago: No. {oldest} 空调不制冷"
    queue = staff.get(url).get_data(as_text=True)
    assert f'id="feedback-{oldest}"' in queue and f'id="feedback-{accepted}"' not in queue

    url, lead = lines["1 feedback item past its resolution deadline"]
    assert url == "/feedback/?status=open&overdue=resolution" and f"No. {late}" in lead

    url, lead = lines["2 booking requests to decide"]
    assert url == "/venues/queue?status=requested"
    url, lead = lines["1 request whose hold ends within a day"]
    assert url == "/venues/queue?status=requested&expiring=1"
    assert Booking.reference_of(expiring) in lead
    queue = staff.get(url).get_data(as_text=True)
    assert Booking.reference_of(expiring) in queue
    assert Booking.reference_of(waiting) not in queue

    url, lead = lines["1 of your action items due within 7 days or overdue"]
    assert url == "/meetings/actions?state=due&mine=1" and "更换滤网" in lead
    assert not any("escalated" in label for label in lines)  # admins' line
    assert not any("approval" in label for label in lines)


def test_zero_lines_are_left_out_and_an_empty_list_says_so(app, world):
    for lang, quiet in (("en", "Nothing is waiting for you."), ("zh", "没有等待您处理的事项。")):
        home = _home(app, world.staff, lang)
        assert work_lines(home) == {}
        assert quiet in home
    make_feedback(app, world.supervisor.id, world.category)
    lines = work_lines(_home(app, world.staff))
    assert list(lines) == ["1 feedback item to accept"]


# --- admin ----------------------------------------------------------------------------------


def test_admin_sees_approvals_escalations_failed_mail_and_the_staff_lines(app, world):
    today = bureau_today(app)
    escalated = make_feedback(app, world.supervisor.id, world.category, status=FS.IN_PROGRESS,
                              escalated_at=utcnow())
    closed = make_feedback(app, world.supervisor.id, world.category, status=FS.CLOSED,
                           escalated_at=utcnow())
    plain = make_feedback(app, world.supervisor.id, world.category, status=FS.IN_PROGRESS)
    pending = leased_room_lease(app, world.tenant, today, today + timedelta(days=300),
                                status="pending_approval")
    _failed_mail(app, "押金退还提醒")
    admin = app.test_client()
    login(admin, world.admin)
    lines = work_lines(admin.get("/?lang=en").get_data(as_text=True))
    url, lead = lines["1 escalated feedback item still open"]
    assert url == "/feedback/?status=open&escalated=1" and f"No. {escalated}" in lead
    queue = admin.get(url).get_data(as_text=True)
    assert f'id="feedback-{escalated}"' in queue
    assert f'id="feedback-{closed}"' not in queue and f'id="feedback-{plain}"' not in queue
    url, lead = lines["1 lease awaiting your approval"]
    assert url == "/rentals/leases?status=pending_approval"
    assert Lease.reference_of(pending) in lead
    url, lead = lines["1 email failed to send"]
    assert url == "/admin/outbox/?status=failed" and "押金退还提醒" in lead
    assert "1 feedback item to accept" not in lines  # both open ones are in progress
    assert "1 feedback item overdue" not in lines


# --- supervisor -----------------------------------------------------------------------------


def test_a_supervisor_sees_only_their_own_feedback_and_invitations(app, world):
    today = bureau_today(app)
    resolved = make_feedback(app, world.supervisor.id, world.category, status=FS.RESOLVED,
                             response="已处理", resolved_at=_ago(2))
    make_feedback(app, world.supervisor.id, world.category, status=FS.IN_PROGRESS)
    for status in (FS.RESOLVED, FS.IN_PROGRESS, FS.SUBMITTED):  # someone else's
        make_feedback(app, world.other_supervisor.id, world.category, status=status,
                      response="已处理")
    survey = make_round(app, closes_on=today + timedelta(days=3), title="四季度满意度调查")
    invite(app, survey, "sup@example.com", "other-sup@example.com")

    supervisor = app.test_client()
    login(supervisor, world.supervisor)
    lines = work_lines(supervisor.get("/?lang=en").get_data(as_text=True))
    url, lead = lines["1 resolved item waiting for your confirmation"]
    assert url == "/feedback/mine?status=resolved"
    assert lead.startswith(f"Oldest resolved 2 days ago: No. {resolved}")
    assert lines["1 of your feedback items being handled"][0] == "/feedback/mine?status=open"
    url, lead = lines["1 survey waiting for your answers"]
    assert url == "/surveys/mine" and "四季度满意度调查" in lead
    assert len(lines) == 3


def test_an_answered_survey_leaves_the_supervisors_list(app, world):
    from tests.surveys.factories import answer

    survey = make_round(app, closes_on=bureau_today(app) + timedelta(days=3))
    [token] = invite(app, survey, "sup@example.com")
    assert "1 survey waiting for your answers" in work_lines(_home(app, world.supervisor))
    answer(app, survey, token)
    assert work_lines(_home(app, world.supervisor)) == {}


# --- client and tenant ----------------------------------------------------------------------


def test_a_client_sees_their_own_bookings_only_and_a_tenant_their_rent(app, world):
    today = bureau_today(app)
    requested = _booking(app, world, world.client.id)
    approved = _booking(app, world, world.client.id, status=BookingStatus.APPROVED)
    _booking(app, world, world.other_client.id)
    _booking(app, world, world.other_client.id, status=BookingStatus.APPROVED)
    client = app.test_client()
    login(client, world.client)
    lines = work_lines(client.get("/?lang=en").get_data(as_text=True))
    assert set(lines) == {"1 booking request waiting for a decision", "1 upcoming booking"}
    url, lead = lines["1 booking request waiting for a decision"]
    assert url == "/venues/bookings/mine?status=requested"
    assert Booking.reference_of(requested) in lead
    mine = client.get(url).get_data(as_text=True)
    assert Booking.reference_of(requested) in mine and Booking.reference_of(approved) not in mine
    url, lead = lines["1 upcoming booking"]
    assert url == "/venues/bookings/mine?upcoming=1"
    assert lead.startswith("Next ") and Booking.reference_of(approved) in lead
    mine = client.get(url).get_data(as_text=True)
    assert Booking.reference_of(approved) in mine and Booking.reference_of(requested) not in mine

    # A tenant's rent: a lease begun 40 days ago owes its first periods.
    leased_room_lease(app, world.tenant, today - timedelta(days=40), today + timedelta(days=300))
    lines = work_lines(_home(app, world.tenant_account))
    [(label, (url, lead))] = lines.items()
    assert re.fullmatch(r"\d+ rent bills? due or overdue", label)
    assert url == "/rentals/my" and lead.startswith("Overdue since ")
    # The other client's home counts their own bookings only (one of each kind).
    assert set(work_lines(_home(app, world.other_client))) == {
        "1 booking request waiting for a decision", "1 upcoming booking"}


# --- bounded queries --------------------------------------------------------------------------


ROLES = ("staff", "admin", "supervisor", "client", "tenant_account")


def test_every_home_runs_the_same_number_of_queries_at_3_and_30_records(
        app, world, count_queries):
    accounts = {role: getattr(world, role) for role in ROLES}
    clients = {}
    for role, account in accounts.items():
        clients[role] = app.test_client()
        login(clients[role], account)

    def measure() -> dict[str, tuple[int, dict]]:
        found = {}
        for role, client in clients.items():
            client.get("/")  # warm: the first request of a session may read more
            with count_queries() as queries:
                html = client.get("/?lang=en").get_data(as_text=True)
            found[role] = (len(queries), work_lines(html))
        return found

    _grow(app, world, 3)
    small = measure()
    assert "3 feedback items to accept" in small["staff"][1]
    assert "3 emails failed to send" in small["admin"][1]
    assert "3 surveys waiting for your answers" in small["supervisor"][1]
    _grow(app, world, 27)
    large = measure()
    assert "30 feedback items to accept" in large["staff"][1]
    assert "30 escalated feedback items still open" in large["admin"][1]
    assert "30 resolved items waiting for your confirmation" in large["supervisor"][1]
    assert "30 upcoming bookings" in large["client"][1]
    assert "30 of your action items due within 7 days or overdue" in large["staff"][1]
    assert {role: count for role, (count, _) in large.items()} == \
        {role: count for role, (count, _) in small.items()}


# --- fresh at once ----------------------------------------------------------------------------


def test_the_home_is_not_served_from_the_page_cache_so_a_change_shows_at_once(app, world):
    """The home is personal and reads every module: it is rendered afresh on each request
    (not wrapped by cached_page), so accepting an item takes it off the list at once."""
    assert not hasattr(app.view_functions["core.home"], "cache_scopes")
    assert core_views.home is app.view_functions["core.home"]
    item = make_feedback(app, world.supervisor.id, world.category)
    staff = app.test_client()
    login(staff, world.staff)
    assert "1 feedback item to accept" in work_lines(staff.get("/?lang=en").get_data(as_text=True))
    with app.test_request_context(), write_transaction():
        db.session.get(Feedback, item).status = FS.ACCEPTED
    assert work_lines(staff.get("/?lang=en").get_data(as_text=True)) == {}


def test_work_for_matches_the_page(app, ctx, world):
    make_feedback(app, world.supervisor.id, world.category)
    from portal.auth.models import User

    with ctx(world.staff.id):
        items = work_for(db.session.get(User, world.staff.id))
    assert [(item.count, item.module) for item in items] == [(1, "feedback")]
