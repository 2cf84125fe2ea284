"""Booking rules through the services: holds, conflicts, blackouts, the lifecycle."""

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.bookings import services
from portal.bookings.models import Booking, BookingStatus, VenueSlot
from portal.database import utcnow, write_transaction
from portal.errors import NotAllowed, ServiceError
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.periods import is_overlap_violation
from tests.bookings.factories import (
    future_day,
    has_begun,
    make_booking,
    make_catering,
    make_venue,
)
from tests.conftest import make_user

MORNING = services.pricing.SESSIONS["morning"]
AFTERNOON = services.pricing.SESSIONS["afternoon"]


def _input(venue_id, day=None, start=MORNING[0], end=MORNING[1], session="morning", **extra):
    return services.BookingInput(
        title="年度总结会", headcount=extra.pop("headcount", 80),
        layout=extra.pop("layout", "theatre"),
        slots=[services.SlotInput(venue_id, day or future_day(), session, start, end)], **extra)


@pytest.fixture
def client_account(app):
    return make_user(app, "client", organisation="金山精细化工研究会")


@pytest.fixture
def venue_id(app):
    return make_venue(app)


def _request(app, account, data):
    with app.test_request_context():
        user = db.session.get(User, account.id)
        return services.request_booking(user, data).id


def test_a_request_holds_its_slots_with_buffers_and_notifies(app, client_account, venue_id):
    booking_id = _request(app, client_account, _input(venue_id))
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert booking.status == BookingStatus.REQUESTED and booking.expires_at > utcnow()
        [slot] = booking.slots
        assert slot.active
        assert slot.starts_at - slot.blocked_from == timedelta(minutes=30)
        assert slot.blocked_until - slot.ends_at == timedelta(minutes=30)
        assert booking.quote_total_fen == 300_000  # the external half-day rate
        recipients = set(db.session.scalars(sa.select(OutboxMessage.recipient)))
        assert recipients == {client_account.email, app.config["BOOKINGS_DESK_EMAIL"]}


def test_an_overlap_within_the_buffers_is_refused_with_alternatives(app, client_account,
                                                                     venue_id):
    other_venue = make_venue(app, name="第二会议室", theatre=120)
    _request(app, client_account, _input(venue_id))
    # 12:00-13:30 does not meet 08:30-12:00 itself, but meets its 30-minute cleanup buffer.
    late = _input(venue_id, start=time(12, 15), end=time(13, 30), session="custom")
    with app.test_request_context():
        with pytest.raises(services.BookingConflict) as refused:
            services.request_booking(db.session.get(User, client_account.id), late)
        [detail] = refused.value.details
        assert detail.reason == "booking"
        assert [v.id for v in detail.free_venues] == [other_venue]
        assert detail.free_times and detail.free_times[0][0] >= late.slots[0].day
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_back_to_back_bookings_fit_when_buffers_do_not_meet(app, client_account):
    venue_id = make_venue(app, setup=0, cleanup=0)
    _request(app, client_account, _input(venue_id))
    _request(app, client_account, _input(venue_id, start=time(12), end=time(13),
                                         session="custom"))  # touching is not overlapping


def test_the_database_refuses_overlaps_itself(app, client_account, venue_id):
    booking_id = make_booking(app, client_account.id, venue_id)
    with app.test_request_context():
        slot = db.session.scalar(sa.select(VenueSlot).where(VenueSlot.booking_id == booking_id))
        with pytest.raises(sa.exc.IntegrityError) as error, write_transaction():
            db.session.add(VenueSlot(
                venue_id=venue_id, booking_id=booking_id, starts_at=slot.starts_at,
                ends_at=slot.ends_at, blocked_from=slot.blocked_from,
                blocked_until=slot.blocked_until, active=True))
        assert is_overlap_violation(error.value)
        # An inactive slot (a cancelled booking) may overlap.
        with write_transaction():
            db.session.add(VenueSlot(
                venue_id=venue_id, booking_id=booking_id, starts_at=slot.starts_at,
                ends_at=slot.ends_at, blocked_from=slot.blocked_from,
                blocked_until=slot.blocked_until, active=False))
        # Re-activating it collides again (the update trigger / the partial constraint).
        extra = db.session.scalar(sa.select(VenueSlot).where(VenueSlot.active.is_(False)))
        with pytest.raises(sa.exc.IntegrityError), write_transaction():
            extra.active = True


def test_blackouts_block_bookings_and_refuse_to_cover_them(app, client_account, venue_id):
    day = future_day(20)
    with app.test_request_context():
        zone = services.local_zone()
        services.create_blackout(None, datetime.combine(day, time.min, tzinfo=zone),
                                 datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
                                 "区人代会")
        user = db.session.get(User, client_account.id)
        with pytest.raises(services.BookingConflict) as refused:
            services.request_booking(user, _input(venue_id, day=day))
        assert refused.value.details[0].reason == "blackout"
    make_booking(app, client_account.id, venue_id, day=future_day(30))
    with app.test_request_context(), pytest.raises(ServiceError, match="HY"):
        later, zone = future_day(30), services.local_zone()
        services.create_blackout(venue_id, datetime.combine(later, time.min, tzinfo=zone),
                                 datetime.combine(later, time(23), tzinfo=zone), "检修")


@pytest.mark.parametrize("change, field, message", [  # a slot's errors name its row's field
    ({"start": time(11), "end": time(10), "session": "custom"}, "slots-0-end", "结束时间必须晚于"),
    ({"day": "past"}, "slots-0-day", "该时间已过"),
    ({"day": "far"}, "slots-0-day", "只能预订 180 天以内"),
    ({"headcount": 301}, "headcount", "最多容纳 300 人"),
    ({"layout": "banquet"}, "layout", "不能按此方式布置"),
    ({"start": time(6), "end": time(9), "session": "custom"}, "slots-0-start", "开放时间"),
    ({"start": time(20), "end": time(23), "session": "custom"}, "slots-0-end", "开放时间"),
    ({"start": time(6), "end": time(9), "session": "morning"}, "slots-0-session", "开放时间"),
    ({"rate_kind": "internal"}, "rate_kind", "只有机关事务管理局工作人员"),
])
def test_bad_requests_are_refused_and_nothing_is_saved(app, client_account, venue_id, change,
                                                       field, message):
    change = dict(change)
    if change.get("day") == "past":
        change["day"] = future_day(-1)
    elif change.get("day") == "far":
        change["day"] = future_day(200)
    with app.test_request_context():
        user = db.session.get(User, client_account.id)
        with pytest.raises(ServiceError) as refused:
            services.request_booking(user, _input(venue_id, **change))
        assert refused.value.field == field
        assert message in str(refused.value.message)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_a_slot_error_names_the_row_it_is_in(app, client_account, venue_id):
    data = _input(venue_id)
    data.slots.append(services.SlotInput(venue_id, future_day(200), "afternoon", *AFTERNOON))
    with app.test_request_context(), pytest.raises(services.SlotError) as refused:
        services.request_booking(db.session.get(User, client_account.id), data)
    assert (refused.value.field, refused.value.row, refused.value.part) == ("slots-1-day", 1,
                                                                           "day")


def test_every_problem_of_a_request_is_refused_at_once_beside_its_row(app, client_account,
                                                                       venue_id):
    data = _input(venue_id, headcount=900)  # the hall seats 300
    data.slots.append(services.SlotInput(venue_id, future_day(200), "afternoon", *AFTERNOON))
    data.slots.append(services.SlotInput(999_999, future_day(12), "morning", *MORNING))
    data.slots.append(services.SlotInput(venue_id, future_day(12), "custom", time(15, 0),
                                         time(14, 0)))
    with app.test_request_context(), pytest.raises(services.SlotError) as refused:
        services.request_booking(db.session.get(User, client_account.id), data)
    assert set(refused.value.fields) == {"headcount", "slots-1-day", "slots-2-venue_id",
                                         "slots-3-end"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_clients_cannot_book_internal_venues(app, client_account):
    private = make_venue(app, name="贵宾接待室", public=False)
    with app.test_request_context(), pytest.raises(ServiceError, match="不存在或不可预订"):
        services.request_booking(db.session.get(User, client_account.id), _input(private))
    staff = make_user(app, "staff")
    _request(app, staff, _input(private, department="区政府办公室", rate_kind="free"))


def test_lifecycle_approve_freezes_the_quote_and_complete_bills(app, client_account, venue_id):
    banquet = make_catering(app)
    staff = make_user(app, "staff")
    data = _input(venue_id, catering=[services.CateringInput(banquet, 10)])
    booking_id = _request(app, client_account, data)
    with app.test_request_context():
        booking = db.session.get(Booking, booking_id)
        staff_user = db.session.get(User, staff.id)
        client_user = db.session.get(User, client_account.id)
        assert [a.name for a in services.actions_for(client_user, booking)] == ["cancel"]
        with pytest.raises(NotAllowed):
            services.transition(booking, "approve", client_user)
        with pytest.raises(NotAllowed, match="原因"):
            services.transition(booking, "reject", staff_user)
        services.transition(booking, "approve", staff_user, deposit_fen=100_000,
                            deposit_due_on=future_day(3))
        assert booking.approved_quote["total_fen"] == 300_000 + 10 * 188_800
        assert booking.expires_at is None and booking.slots[0].active
        # Prices change later; the approved booking keeps its price.
        with write_transaction():
            booking.slots[0].venue.external_half_day_fen = 999_999
        # Held is recorded once the event has begun, not before.
        with pytest.raises(NotAllowed, match="尚未开始"):
            services.transition(booking, "complete", staff_user, actual_headcount=75)
        assert db.session.get(Booking, booking_id).status == BookingStatus.APPROVED
        has_begun(booking)
        services.transition(booking, "complete", staff_user, actual_headcount=75,
                            extras_fen=20_000)
        assert booking.status == BookingStatus.COMPLETED
        assert booking.final_total_fen == 300_000 + 10 * 188_800 + 20_000
        assert booking.slots[0].active  # it happened: the period stays on the calendar
        with pytest.raises(NotAllowed):
            services.transition(booking, "cancel", staff_user)


def test_client_cancels_own_booking_before_the_cutoff_only(app, client_account, venue_id):
    soon = make_booking(app, client_account.id, venue_id, day=future_day(1), session="evening")
    later = make_booking(app, client_account.id, venue_id, day=future_day(9))
    stranger = make_user(app, "client")
    with app.test_request_context():
        user = db.session.get(User, client_account.id)
        with pytest.raises(NotAllowed, match="小时内不能在线取消"):
            services.transition(db.session.get(Booking, soon), "cancel", user)
        with pytest.raises(NotAllowed):
            services.transition(db.session.get(Booking, later), "cancel",
                                db.session.get(User, stranger.id))
        booking = services.transition(db.session.get(Booking, later), "cancel", user,
                                      reason="会议延期")
        assert booking.status == BookingStatus.CANCELLED and not booking.slots[0].active
    # The slot is free again.
    make_booking(app, stranger.id, venue_id, day=future_day(9))


def test_tick_expires_stale_requests_and_frees_their_slots(app, client_account, venue_id):
    booking_id = make_booking(app, client_account.id, venue_id)
    with app.test_request_context(), write_transaction():
        db.session.get(Booking, booking_id).expires_at = utcnow() - timedelta(minutes=1)
    result = app.test_cli_runner().invoke(args=["tick"])
    assert "expired booking requests: 1" in result.output
    again = app.test_cli_runner().invoke(args=["tick"])
    assert "expired booking requests: 0" in again.output
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert booking.status == BookingStatus.EXPIRED and not booking.slots[0].active
    make_booking(app, make_user(app, "client").id, venue_id)


def test_free_venue_search_best_fit_first(app):
    big = make_venue(app, name="大礼堂", theatre=480)
    small = make_venue(app, name="第二会议室", theatre=60)
    make_venue(app, name="小会议室", theatre=12)
    with_screen = make_venue(app, name="多功能厅", theatre=150, equipment=("led_screen",))
    client_account = make_user(app, "client")
    make_booking(app, client_account.id, small)
    with app.test_request_context():
        found = services.free_venues(future_day(), *AFTERNOON, headcount=50, layout="theatre")
        assert [v.id for v in found] == [small, with_screen, big]
        found = services.free_venues(future_day(), *MORNING, headcount=50, layout="theatre")
        assert [v.id for v in found] == [with_screen, big]  # small is booked
        found = services.free_venues(future_day(), *MORNING, headcount=50,
                                     equipment=("led_screen",))
        assert [v.id for v in found] == [with_screen]


def test_staff_book_for_a_department_at_the_internal_rate(app, venue_id):
    staff = make_user(app, "staff")
    booking_id = _request(app, staff, _input(venue_id, department="区人大常委会办公室",
                                             rate_kind="internal", session="full_day",
                                             start=time(8, 30), end=time(17, 30)))
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert booking.client_id is None and booking.department == "区人大常委会办公室"
        assert booking.quote_total_fen == 250_000


@pytest.mark.parametrize("ending, day_two_free", [("no_show", True), ("complete", False),
                                                   ("cancel", True)])
def test_a_booking_that_ends_while_under_way_keeps_the_periods_that_began(
        app, client_account, venue_id, ending, day_two_free):
    staff = make_user(app, "staff")
    data = _input(venue_id, day=future_day(4))
    data.slots.append(services.SlotInput(venue_id, future_day(5), "morning", *MORNING))
    booking_id = _request(app, client_account, data)
    with app.test_request_context():
        booking = db.session.get(Booking, booking_id)
        staff_user = db.session.get(User, staff.id)
        services.transition(booking, "approve", staff_user)
        has_begun(booking)  # day one started an hour ago; day two is tomorrow
        services.transition(booking, ending, staff_user, reason="客户临时取消")
        first, second = sorted(db.session.get(Booking, booking_id).slots,
                               key=lambda s: s.starts_at)
        assert first.active  # it began: its true period stays
        assert second.active is not day_two_free
        # The freed day can be taken by something else; a kept one cannot.
        if day_two_free:
            assert services.create_blackout(venue_id, second.starts_at, second.ends_at, "检修")
        else:
            with pytest.raises(services.Conflict):
                services.create_blackout(venue_id, second.starts_at, second.ends_at, "检修")


def test_a_guarded_overlap_finds_the_same_slots_through_the_guards_index(app, client_account,
                                                                          venue_id, is_postgres):
    """periods.overlaps(..., guarded=True) states the overlap as the guard's ranges meeting as
    well (PostgreSQL): the same rows as the comparisons alone, touching ends included as no
    overlap ('[)'), and a plan that reads the exclusion constraint's GiST index."""
    from portal.periods import overlaps

    make_booking(app, client_account.id, venue_id, session="morning")
    with app.test_request_context():
        slot = db.session.scalars(sa.select(VenueSlot).where(VenueSlot.venue_id == venue_id)
                                  ).one()
        start, end = slot.blocked_from, slot.blocked_until
        minute = timedelta(minutes=1)
        windows = [(end, end + minute), (start - minute, start), (end - minute, end + minute),
                   (start - minute, start + minute), (start + minute, end - minute),
                   (start - minute, end + minute)]
        for first, last in windows:
            found = {}
            for guarded in (False, True):
                stmt = sa.select(VenueSlot.id).where(
                    VenueSlot.active, overlaps(VenueSlot.blocked_from, VenueSlot.blocked_until,
                                               first, last, guarded=guarded))
                found[guarded] = set(db.session.scalars(stmt))
            assert found[True] == found[False] == (
                {slot.id} if first < end and start < last else set()), (first, last)
        if is_postgres:
            db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in db.session.execute(
                sa.text("EXPLAIN " + str(stmt.compile(
                    dialect=db.session.get_bind().dialect,
                    compile_kwargs={"literal_binds": True})))))
            # the range condition is what the index is searched by, not only its predicate
            assert "venue_slot_no_overlap" in plan and \
                "Index Cond: (tstzrange(blocked_from, blocked_until" in plan, plan
