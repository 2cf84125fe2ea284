"""The waitlist: joining a taken period, offers of freed time in queue order (exactly once),
taking or losing an offer, leaving, staff removal, and the pages."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.bookings import services, waitlist
from portal.bookings.models import (
    WAITLIST_GUARD,
    Booking,
    BookingStatus,
    VenueSlot,
    WaitlistEntry,
    WaitlistStatus,
)
from portal.database import utcnow, write_transaction
from portal.errors import NotAllowed, ServiceError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.outbox.models import OutboxMessage
from portal.periods import violates
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import csrf_token, make_user

MORNING = services.pricing.SESSIONS["morning"]
AFTERNOON = services.pricing.SESSIONS["afternoon"]


def join(app, account_id, venue_id, day=None, session="morning", headcount=40, times=None):
    start, end = times or services.pricing.SESSIONS.get(session, MORNING)
    with app.test_request_context():
        user = db.session.get(User, account_id)
        entry = waitlist.join(user, waitlist.WaitlistInput(
            venue_id, day or future_day(), session, start, end, headcount, "部门例会"))
        return entry.id


def cancel(app, booking_id, who_id, reason="改期"):
    with app.test_request_context():
        user = db.session.get(User, who_id)
        services.transition(db.session.get(Booking, booking_id), "cancel", user, reason=reason)


def entry(app, entry_id) -> WaitlistEntry:
    return db.session.get(WaitlistEntry, entry_id)


def offer_mails(email):
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient == email, OutboxMessage.template == "waitlist_offer"))


@pytest.fixture
def taken(app):
    """A venue whose morning (ten days ahead) is requested by one client; staff to act."""
    venue_id = make_venue(app, name="第二会议室", theatre=60)
    holder = make_user(app, "client", email="holder@example.com")
    staff = make_user(app, "staff", email="desk@example.com")
    booking_id = make_booking(app, holder.id, venue_id, headcount=30)
    return venue_id, booking_id, holder, staff


def test_a_free_period_is_refused_with_the_booking_forms_link(app):
    venue_id = make_venue(app, name="第三会议室")
    customer = make_user(app, "client")
    with pytest.raises(waitlist.SlotIsFree) as refused:
        join(app, customer.id, venue_id)
    assert "/venues/book?" in refused.value.link and f"venue_id={venue_id}" in refused.value.link
    assert "session=morning" in refused.value.link and "start=08" in refused.value.link
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WaitlistEntry)) == 0


def test_clients_queue_in_order_and_a_duplicate_is_refused(app, taken):
    venue_id, _booking_id, _holder, _staff = taken
    first, second = make_user(app, "client"), make_user(app, "client")
    one = join(app, first.id, venue_id)
    two = join(app, second.id, venue_id, session="custom", times=(MORNING[0], AFTERNOON[0]))
    with app.app_context():
        assert waitlist.place_of(entry(app, one)) == 1
        assert waitlist.place_of(entry(app, two)) == 2
    with pytest.raises(ServiceError) as duplicate:
        join(app, first.id, venue_id, session="custom", times=(MORNING[0], MORNING[0].replace(
            hour=MORNING[0].hour + 1)))
    assert duplicate.value.field == "start" and "already on the waitlist" in str(
        duplicate.value.message)
    # The database refuses it too, whatever the application does.
    with app.test_request_context(), pytest.raises(sa.exc.IntegrityError) as raised:
        original = entry(app, one)
        with write_transaction():
            db.session.add(WaitlistEntry(
                client_id=first.id, venue_id=venue_id, starts_at=original.starts_at,
                ends_at=original.ends_at + timedelta(hours=1), headcount=5))
    assert violates(raised.value, WAITLIST_GUARD)


def test_bad_input_is_refused_beside_its_field(app, taken):
    venue_id = taken[0]
    customer = make_user(app, "client")
    with pytest.raises(ServiceError) as too_many:
        join(app, customer.id, venue_id, headcount=61)
    assert too_many.value.fields == {"headcount": [str(too_many.value.problems[0].message)]}
    with pytest.raises(ServiceError) as past:
        join(app, customer.id, venue_id, day=future_day(-2))
    assert past.value.fields.keys() == {"day"}
    staff = make_user(app, "staff")
    with pytest.raises(NotAllowed):
        join(app, staff.id, venue_id)


def test_freed_time_is_offered_to_the_first_who_fits_then_the_next(app, taken):
    venue_id, booking_id, holder, staff = taken
    first = make_user(app, "client", email="first@example.com")
    second = make_user(app, "client", email="second@example.com")
    one = join(app, first.id, venue_id)
    two = join(app, second.id, venue_id)
    cancel(app, booking_id, staff.id)  # offered at once, after the cancellation commits
    with app.app_context():
        offered = entry(app, one)
        assert offered.status == WaitlistStatus.OFFERED and not offered.reason
        hold = offered.booking
        assert hold.status == BookingStatus.OFFERED and hold.client_id == first.id
        assert hold.headcount == 40 and hold.title == "部门例会"
        assert timedelta(hours=23, minutes=59) < hold.expires_at - utcnow() <= timedelta(hours=24)
        assert [slot.active for slot in hold.slots] == [True]
        assert offer_mails(first.email) == 1 and offer_mails(second.email) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == first.id, Notification.kind == "waitlist_offer")) == 1
        assert waitlist.place_of(entry(app, two)) == 1
        hold_id = hold.id
    # Nothing more to offer: a tick (and another) leave everything as it is.
    with app.test_request_context():
        assert waitlist.offer_freed_time() == 0
        assert waitlist.offer_freed_time() == 0
    # The offer is not taken in time: it expires, and the next client is offered the time.
    with app.test_request_context(), write_transaction():
        db.session.get(Booking, hold_id).expires_at = utcnow() - timedelta(minutes=1)
    with app.test_request_context():
        assert services.expire_stale_requests() == 1
    with app.app_context():
        assert entry(app, one).status == WaitlistStatus.LAPSED
        assert db.session.get(Booking, hold_id).status == BookingStatus.EXPIRED
        assert entry(app, two).status == WaitlistStatus.OFFERED
        assert offer_mails(second.email) == 1 and offer_mails(first.email) == 1


def test_taking_the_offer_makes_it_an_ordinary_request(app, taken):
    venue_id, booking_id, holder, staff = taken
    customer = make_user(app, "client")
    one = join(app, customer.id, venue_id)
    cancel(app, booking_id, holder.id)  # the holder cancels their own request
    with app.test_request_context():
        hold = entry(app, one).booking
        other = make_user(app, "client")
        with pytest.raises(NotAllowed):  # only the client it is offered to
            services.transition(hold, "take_offer", db.session.get(User, other.id))
        taken_hold = services.transition(hold, "take_offer", db.session.get(User, customer.id))
        assert taken_hold.status == BookingStatus.REQUESTED
        assert taken_hold.expires_at - utcnow() > timedelta(hours=70)
        assert entry(app, one).status == WaitlistStatus.BOOKED and not entry(app, one).active


def test_only_a_request_that_fits_the_freed_time_is_offered(app):
    venue_id = make_venue(app, name="多功能厅", theatre=60)
    holder = make_user(app, "client")
    morning = make_booking(app, holder.id, venue_id, session="morning")
    make_booking(app, holder.id, venue_id, session="afternoon")
    whole_day, mornings = make_user(app, "client"), make_user(app, "client")
    first = join(app, whole_day.id, venue_id, session="full_day")
    second = join(app, mornings.id, venue_id)
    cancel(app, morning, holder.id)  # the afternoon stays taken: the whole day does not fit
    with app.app_context():
        assert entry(app, first).status == WaitlistStatus.WAITING
        assert waitlist.place_of(entry(app, first)) == 1
        assert entry(app, second).status == WaitlistStatus.OFFERED


def test_a_moved_or_rejected_booking_frees_its_time(app, taken):
    venue_id, booking_id, holder, staff = taken
    customer = make_user(app, "client")
    one = join(app, customer.id, venue_id)
    with app.test_request_context():
        user = db.session.get(User, staff.id)
        booking = db.session.get(Booking, booking_id)
        data = services.booking_input(booking)
        data.slots = [services.SlotInput(venue_id, future_day(12), "morning", *MORNING)]
        services.change_booking(user, booking, data)
    with app.app_context():
        assert entry(app, one).status == WaitlistStatus.OFFERED
    # A rejected request frees its time too (here: the waitlist of another day).
    other = make_user(app, "client")
    two = join(app, other.id, venue_id, day=future_day(12))
    with app.test_request_context():
        services.transition(db.session.get(Booking, booking_id), "reject",
                            db.session.get(User, staff.id), reason="场地检修")
    with app.app_context():
        assert entry(app, two).status == WaitlistStatus.OFFERED


def test_the_tick_offers_what_was_freed_inside_a_longer_transaction(app, taken):
    venue_id, booking_id, holder, staff = taken
    customer = make_user(app, "client")
    one = join(app, customer.id, venue_id)
    with app.test_request_context(), write_transaction():  # nested: no offer after commit
        services.transition(db.session.get(Booking, booking_id), "cancel",
                            db.session.get(User, staff.id))
    with app.app_context():
        assert entry(app, one).status == WaitlistStatus.WAITING
    with app.test_request_context():
        assert waitlist.offer_freed_time() == 1
        assert waitlist.offer_freed_time() == 0
    with app.app_context():
        assert entry(app, one).status == WaitlistStatus.OFFERED
        assert offer_mails(db.session.get(User, customer.id).email) == 1


def test_leaving_and_removal(app, taken):
    venue_id, _booking_id, holder, staff = taken
    make_booking(app, holder.id, venue_id, session="evening")
    customer = make_user(app, "client")
    one = join(app, customer.id, venue_id)
    two = join(app, customer.id, venue_id, session="evening")
    with app.test_request_context():
        me = db.session.get(User, customer.id)
        with pytest.raises(NotAllowed):
            waitlist.remove(me, entry(app, one), "no")  # clients leave; staff remove
        assert waitlist.leave(me, entry(app, one)).status == WaitlistStatus.LEFT
        desk = db.session.get(User, staff.id)
        with pytest.raises(NotAllowed) as no_reason:
            waitlist.remove(desk, entry(app, two), "  ")
        assert no_reason.value.field == "reason"
        removed = waitlist.remove(desk, entry(app, two), "该时段改作区政府会议")
        assert removed.status == WaitlistStatus.REMOVED and removed.reason == "该时段改作区政府会议"
        assert not removed.active
    # Off the queue, the client may join again for the same time.
    assert join(app, customer.id, venue_id)


def test_past_entries_lapse_in_the_tick(app, taken):
    venue_id = taken[0]
    customer = make_user(app, "client")
    one = join(app, customer.id, venue_id)
    with app.test_request_context(), write_transaction():
        item = entry(app, one)
        item.starts_at -= timedelta(days=11)
        item.ends_at -= timedelta(days=11)
    with app.test_request_context():
        assert waitlist.lapse_past_entries() == 1
    with app.app_context():
        assert entry(app, one).status == WaitlistStatus.LAPSED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VenueSlot).where(
            VenueSlot.venue_id == venue_id, VenueSlot.active)) == 1


# --- the pages -------------------------------------------------------------------------------


def _join_form(client, venue_id, day=None, session="morning", headcount="40", **extra):
    return {"csrf_token": csrf_token(client, "/venues/waitlist/join"), "venue_id": str(venue_id),
            "day": (day or future_day()).isoformat(), "session": session,
            "headcount": headcount, "title": "", **extra}


def test_the_conflict_answer_and_the_venue_day_link_to_the_waitlist(app, login_as, taken):
    venue_id = taken[0]
    customer = login_as("client")
    response = customer.post("/venues/book", data={
        "csrf_token": csrf_token(customer, "/venues/book"), "title": "培训", "headcount": "20",
        "layout": "theatre", "slots-0-venue_id": str(venue_id),
        "slots-0-day": future_day().isoformat(), "slots-0-session": "morning",
        "meal_option": "0", "meals": "0", "tea_option": "0", "tea_breaks": "0",
        "banquet_option": "0", "banquet_tables": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"/venues/waitlist/join?venue_id={venue_id}" in html and "headcount=20" in html
    day_view = customer.get(f"/venues/{venue_id}?view=day&date={future_day().isoformat()}")
    assert f"/venues/waitlist/join?venue_id={venue_id}" in day_view.get_data(as_text=True)
    form = customer.get(f"/venues/waitlist/join?venue_id={venue_id}&day="
                        f"{future_day().isoformat()}&session=morning&headcount=20")
    assert form.status_code == 200 and 'value="20"' in form.get_data(as_text=True)


def test_joining_through_the_form_and_its_refusals(app, login_as, taken):
    venue_id = taken[0]
    customer = login_as("client")
    free = customer.post("/venues/waitlist/join", data=_join_form(customer, venue_id,
                                                                  session="evening"))
    html = free.get_data(as_text=True)
    assert free.status_code == 422 and "该时段空闲" in html and "/venues/book?" in html
    joined = customer.post("/venues/waitlist/join", data=_join_form(customer, venue_id))
    assert joined.status_code == 303
    again = customer.post("/venues/waitlist/join", data=_join_form(customer, venue_id))
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "您已在该会场重叠时段的候补名单中" in html
    assert 'id="session-error"' in html  # beside the field
    mine = customer.get("/venues/waitlist").get_data(as_text=True)
    assert "第二会议室" in mine and "第 1 位" in mine


def test_another_clients_entry_is_404_and_staff_remove_with_a_reason(app, login_as, taken):
    venue_id = taken[0]
    owner = make_user(app, "client", name="候补甲")
    entry_id = join(app, owner.id, venue_id)
    stranger = login_as("client")
    data = {"csrf_token": csrf_token(stranger, "/venues/waitlist"),
            "expected_status": "waiting"}
    assert stranger.post(f"/venues/waitlist/{entry_id}/leave", data=data).status_code == 404
    assert stranger.get(f"/venues/{venue_id}/waitlist").status_code in (403, 404)
    staff = login_as("staff")
    page = staff.get(f"/venues/{venue_id}/waitlist").get_data(as_text=True)
    assert "候补甲" in page and "第 1 位" in page
    token = csrf_token(staff, f"/venues/{venue_id}/waitlist")
    no_reason = staff.post(f"/venues/waitlist/{entry_id}/remove",
                           data={"csrf_token": token, "expected_status": "waiting"})
    assert no_reason.status_code == 422
    removed = staff.post(f"/venues/waitlist/{entry_id}/remove",
                         data={"csrf_token": token, "expected_status": "waiting",
                               "reason": "时段改作内部会议"})
    assert removed.status_code == 303
    stale = staff.post(f"/venues/waitlist/{entry_id}/remove",
                       data={"csrf_token": token, "expected_status": "waiting",
                             "reason": "再次"})
    assert stale.status_code == 409 and "刚刚被" in stale.get_data(as_text=True)
    with app.app_context():
        assert entry(app, entry_id).status == WaitlistStatus.REMOVED


def test_waitlist_pages_run_a_fixed_number_of_queries(app, login_as, count_queries, taken):
    venue_id = taken[0]
    customer = login_as("client")
    staff = login_as("staff")
    pages = [(customer, "/venues/waitlist"), (staff, f"/venues/{venue_id}/waitlist"),
             (staff, f"/venues/{venue_id}/waitlist?all=1")]

    def counts():
        result = []
        for who, path in pages:
            with count_queries() as queries:
                assert who.get(path).status_code == 200
            result.append(len(queries))
        return result

    join(app, customer.account.id, venue_id)
    few = counts()
    holder = taken[2]
    for offset in range(1, 7):
        make_booking(app, holder.id, venue_id, day=future_day(offset), session="evening")
        join(app, customer.account.id, venue_id, day=future_day(offset), session="evening")
        join(app, make_user(app, "client").id, venue_id, day=future_day(offset),
             session="evening")
    many = counts()
    assert many == few


def test_a_declined_offer_goes_to_the_next_client(app, taken):
    venue_id, booking_id, holder, staff = taken
    first, second = make_user(app, "client"), make_user(app, "client")
    one, two = join(app, first.id, venue_id), join(app, second.id, venue_id)
    cancel(app, booking_id, staff.id)
    with app.test_request_context():
        hold = entry(app, one).booking
        # Declining (cancelling the hold) is possible whatever the cancellation cutoff.
        declined = services.transition(hold, "cancel", db.session.get(User, first.id))
        assert declined.status == BookingStatus.CANCELLED
    with app.app_context():
        assert entry(app, one).status == WaitlistStatus.LAPSED
        assert entry(app, two).status == WaitlistStatus.OFFERED


def test_the_waitlist_pages_in_english(app, login_as, taken):
    venue_id = taken[0]
    customer = login_as("client")
    join(app, customer.account.id, venue_id)
    html = customer.get("/venues/waitlist?lang=en").get_data(as_text=True)
    assert "Place in the queue" in html and "No. 1" in html and "Leave the waitlist" in html
    form = customer.get("/venues/waitlist/join").get_data(as_text=True)
    assert "Join the waitlist" in form and "24 hours" in form
