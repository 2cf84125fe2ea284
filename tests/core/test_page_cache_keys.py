"""Invalidation that follows the data: each writing service renders afresh the pages whose data
it changed and leaves every other cached page alone (``portal/page_cache.py``, finer keys).

A page is a hit when no statement follows the cache's token read (``_view_statements``): the
view did not run.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.bookings import services as bookings
from portal.bookings import waitlist
from portal.bookings.models import Booking, BookingStatus, VenueSlot
from portal.database import write_transaction
from portal.extensions import db
from portal.feedback import services as feedback
from portal.meetings import services as meetings
from portal.meetings.models import Meeting
from portal.page_cache import DataVersion
from portal.rentals import services as rentals
from portal.rentals.models import Lease, Payment, Room
from portal.surveys import services as surveys
from portal.surveys.models import SurveyRound
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import login, make_user
from tests.core.test_page_cache_scopes import _view_statements
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_feedback,
    make_supplier,
)
from tests.meetings.factories import make_meeting
from tests.rentals.factories import make_lease, make_room, make_tenant
from tests.surveys.factories import make_questionnaire, make_round


class Pages:
    """Pages read by one logged-in client: warmed into the cache, then checked after a write."""

    def __init__(self, app, count_queries, account=None) -> None:
        self.client = app.test_client()
        self.count_queries = count_queries
        if account is not None:
            assert login(self.client, account).status_code == 303

    def rendered(self, url: str) -> bool:
        """Whether the view ran (a miss) for ``url``."""
        with self.count_queries() as statements:
            response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return bool(_view_statements(statements))

    def warm(self, *urls: str) -> None:
        for url in urls:
            self.rendered(url)
            assert not self.rendered(url), f"{url} is not cached"

    def check(self, *, fresh: tuple[str, ...], cached: tuple[str, ...]) -> None:
        stale = [url for url in fresh if not self.rendered(url)]
        dropped = [url for url in cached if self.rendered(url)]
        assert not stale, f"served from the cache after the write: {stale}"
        assert not dropped, f"rendered afresh though the write did not touch them: {dropped}"


# --- bookings ------------------------------------------------------------------------------------


@pytest.fixture()
def venues(app):
    """Two venues, a client's request on the first one day, staff reading the pages."""
    hall, other = make_venue(app, name="大礼堂"), make_venue(app, name="第二会议室")
    client = make_user(app, "client")
    day = future_day(10)
    booking_id = make_booking(app, client.id, hall, day=day)
    return {"hall": hall, "other": other, "client": client, "day": day,
            "booking_id": booking_id, "staff": make_user(app, "staff")}


def _week(venue_id: int, day: date) -> str:
    return f"/venues/{venue_id}?view=week&date={day.isoformat()}"


def _bookings_pages(v) -> dict[str, str]:
    day, hall, other = v["day"], v["hall"], v["other"]
    later = day + timedelta(days=70)  # another month, another week
    return {
        "hall_week": _week(hall, day), "hall_day": f"/venues/{hall}?view=day&date={day}",
        "hall_month": f"/venues/{hall}?view=month&date={day}",
        "other_week": _week(other, day), "hall_later": _week(hall, later),
        "overview": f"/venues/overview?month={day:%Y-%m}",
        "overview_later": f"/venues/overview?month={later:%Y-%m}",
        "search": f"/venues/?day={day}&session=morning&headcount=10",
        "search_later": f"/venues/?day={later}&session=morning&headcount=10",
        "queue": "/venues/queue?status=all",
    }


def _staff(app, count_queries, v):
    pages = Pages(app, count_queries, v["staff"])
    urls = _bookings_pages(v)
    pages.warm(*urls.values())
    return pages, urls


def test_approving_a_booking_renders_its_venue_days_and_the_queue_only(app, ctx, count_queries,
                                                                     venues):
    mine = Pages(app, count_queries, venues["client"])
    another = Pages(app, count_queries, make_user(app, "client"))
    pages, urls = _staff(app, count_queries, venues)
    mine.warm("/venues/bookings/mine")
    another.warm("/venues/bookings/mine")
    with ctx(venues["staff"].id):
        bookings.transition(db.session.get(Booking, venues["booking_id"]), "approve",
                            db.session.get(User, venues["staff"].id))
    pages.check(fresh=(urls["hall_week"], urls["hall_day"], urls["hall_month"],
                       urls["overview"], urls["search"], urls["queue"]),
                cached=(urls["other_week"], urls["hall_later"], urls["overview_later"],
                        urls["search_later"]))
    mine.check(fresh=("/venues/bookings/mine",), cached=())
    another.check(fresh=(), cached=("/venues/bookings/mine",))


def test_moving_a_booking_renders_the_days_it_left_and_took(app, ctx, count_queries, venues):
    pages, urls = _staff(app, count_queries, venues)
    moved_to = venues["day"] + timedelta(days=70)
    untouched = _week(venues["other"], moved_to)
    pages.warm(untouched)
    with ctx(venues["staff"].id):
        booking = db.session.get(Booking, venues["booking_id"])
        data = bookings.booking_input(booking)
        slot = data.slots[0]
        data.slots = [bookings.SlotInput(venues["hall"], moved_to, slot.session, slot.start,
                                         slot.end)]
        bookings.change_booking(db.session.get(User, venues["staff"].id), booking, data)
    pages.check(fresh=(urls["hall_week"], urls["hall_later"], urls["overview"],
                       urls["overview_later"], urls["queue"]),
                cached=(urls["other_week"], untouched))


def test_cancelling_renders_its_days_and_the_waitlist_offer_renders_them_again(
        app, ctx, count_queries, venues):
    waiting = make_user(app, "client")  # a new account: before the pages naming people
    pages, urls = _staff(app, count_queries, venues)
    with ctx(waiting.id):  # joining the waitlist: on no cached page but the spanning ones
        waitlist.join(db.session.get(User, waiting.id), waitlist.WaitlistInput(
            venues["hall"], venues["day"], "morning", *bookings.pricing.SESSIONS["morning"], 40,
            "部门例会"))
    pages.check(fresh=(), cached=tuple(urls.values()))
    with ctx(venues["staff"].id), write_transaction():  # nested: the offer waits for the tick
        bookings.transition(db.session.get(Booking, venues["booking_id"]), "cancel",
                            db.session.get(User, venues["staff"].id))
    pages.check(fresh=(urls["hall_week"], urls["overview"], urls["search"], urls["queue"]),
                cached=(urls["other_week"], urls["hall_later"], urls["overview_later"]))
    with ctx():
        assert waitlist.offer_freed_time() == 1  # a hold (status offered) on the same day
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
            Booking.status == BookingStatus.OFFERED)) == 1
    pages.check(fresh=(urls["hall_week"], urls["hall_day"], urls["search"], urls["queue"]),
                cached=(urls["other_week"], urls["hall_later"], urls["overview_later"]))


def test_a_blackout_changes_the_shared_data_of_every_bookings_page(app, ctx, count_queries,
                                                                    venues):
    pages, urls = _staff(app, count_queries, venues)
    with ctx(venues["staff"].id):
        start = bookings.local_datetime(venues["day"] + timedelta(days=1), time(9))
        bookings.create_blackout(venues["other"], start, start + timedelta(hours=3), "设备检修")
    pages.check(fresh=tuple(urls.values()), cached=())


def test_a_moved_slot_names_the_day_it_left(app, ctx, venues):
    """The writer derives keys from the row as it was too (``_Before``)."""
    with ctx():
        old = {row.scope: row.token for row in db.session.scalars(sa.select(DataVersion))}
    with ctx(), write_transaction():
        slot = db.session.scalars(sa.select(VenueSlot).where(
            VenueSlot.booking_id == venues["booking_id"])).one()
        slot.venue_id = venues["other"]
    with ctx():
        new = {row.scope: row.token for row in db.session.scalars(sa.select(DataVersion))}
    changed = {scope for scope, token in new.items() if old.get(scope) != token}
    day = venues["day"].isoformat()
    assert {f"bookings:venue:{venues['hall']}:{day}",
            f"bookings:venue:{venues['other']}:{day}"} <= changed
    assert not any(scope.startswith("rentals") or scope.startswith("feedback")
                   for scope in changed)


# --- rentals, feedback, surveys, meetings --------------------------------------------------------


@pytest.fixture()
def world(app, ctx):
    """Two of everything: leases, feedback items in two categories, survey rounds, meetings."""
    staff = make_user(app, "staff")
    admin = make_user(app, "admin")
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    cleaning, repairs = make_category(app, name="保洁"), make_category(app, name="维修",
                                                                      name_en="Repairs")
    rooms = [make_room(app), make_room(app)]
    with ctx():
        building_id = db.session.get(Room, rooms[0]).building_id
    supplier_id = make_supplier(app, category_ids=(cleaning, repairs))
    items = [make_feedback(app, supervisor.id, category, building_id=building_id,
                           supplier_id=supplier_id) for category in (cleaning, repairs)]
    leases = [make_lease(app, make_tenant(app, name=f"租户{n}"), [room],
                         start=date.today() - timedelta(days=60))
              for n, room in enumerate(rooms)]
    questionnaire = make_questionnaire(app, [cleaning, repairs])
    survey_rounds = [make_round(app, questionnaire, title="上半年调查"),
                     make_round(app, questionnaire, title="下半年调查")]
    meeting_ids = [make_meeting(app, [supplier_id], status="held", created_by_id=staff.id)
                   for _ in range(2)]
    venue_id = make_venue(app)
    return {"staff": staff, "admin": admin, "items": items, "categories": (cleaning, repairs),
            "leases": leases, "rounds": survey_rounds, "meetings": meeting_ids,
            "calendar": _week(venue_id, future_day(10))}


def _module_pages(world) -> dict[str, str]:
    one, two = world["items"]
    cleaning, repairs = world["categories"]
    first, second = world["rounds"]
    return {
        "leases": "/rentals/leases", "rooms": "/rentals/rooms", "reports": "/rentals/reports",
        "item": f"/feedback/{one}", "other_item": f"/feedback/{two}",
        "queue": "/feedback/?status=all", "queue_cleaning": f"/feedback/?category_id={cleaning}",
        "queue_repairs": f"/feedback/?category_id={repairs}", "dashboard": "/feedback/dashboard",
        "results": f"/surveys/rounds/{first}/results",
        "other_results": f"/surveys/rounds/{second}/results",
        "trend": "/surveys/trend", "rounds": "/surveys/",
        "meeting": f"/meetings/{world['meetings'][0]}",
        "other_meeting": f"/meetings/{world['meetings'][1]}",
        "calendar": world["calendar"],
    }


def _readers(app, count_queries, world) -> tuple[Pages, Pages, dict[str, str]]:
    urls = _module_pages(world)
    staff, admin = Pages(app, count_queries, world["staff"]), Pages(app, count_queries,
                                                                    world["admin"])
    staff.warm(*(url for name, url in urls.items() if name != "leases"))
    admin.warm(urls["leases"])
    return staff, admin, urls


def _but(urls: dict[str, str], *names: str) -> tuple[str, ...]:
    return tuple(url for name, url in urls.items() if name not in names and name != "leases")


def test_a_payment_and_its_voiding_render_the_lease_list_and_reports_only(app, ctx,
                                                                         count_queries, world):
    staff, admin, urls = _readers(app, count_queries, world)
    with ctx(world["staff"].id):
        payment, _ = rentals.record_payment(
            db.session.get(User, world["staff"].id), db.session.get(Lease, world["leases"][0]),
            date.today(), 1_000, "bank_transfer", "SK-001", "keys-1")
        payment_id = payment.id
    admin.check(fresh=(urls["leases"],), cached=())
    staff.check(fresh=(urls["reports"],), cached=_but(urls, "reports"))
    with ctx(world["staff"].id):
        rentals.void_receipt(db.session.get(User, world["staff"].id),
                             db.session.get(Payment, payment_id), "录入错误")
    admin.check(fresh=(urls["leases"],), cached=())
    staff.check(fresh=(urls["reports"],), cached=_but(urls, "reports"))


def test_answering_and_resolving_an_item_render_its_page_category_and_queue(app, ctx,
                                                                           count_queries, world):
    staff, admin, urls = _readers(app, count_queries, world)
    touched = ("item", "queue", "queue_cleaning", "dashboard")
    for step, fields in (("accept", {"assignee_id": world["staff"].id}),
                         ("resolve", {"response": "已安排保洁员重新清扫"})):
        with ctx(world["staff"].id):
            feedback.apply_transition(world["items"][0], step,
                                      db.session.get(User, world["staff"].id), **fields)
        staff.check(fresh=tuple(urls[name] for name in touched), cached=_but(urls, *touched))
        admin.check(fresh=(), cached=(urls["leases"],))


def test_closing_a_survey_round_renders_that_round_and_the_pages_over_every_round(
        app, ctx, count_queries, world):
    staff, admin, urls = _readers(app, count_queries, world)
    with ctx(world["staff"].id):
        surveys.close_round(db.session.get(SurveyRound, world["rounds"][0]),
                            db.session.get(User, world["staff"].id))
    touched = ("results", "trend", "rounds", "dashboard")
    staff.check(fresh=tuple(urls[name] for name in touched), cached=_but(urls, *touched))


def test_recording_an_action_item_renders_its_meeting_and_its_feedback_item(app, ctx,
                                                                           count_queries, world):
    staff, admin, urls = _readers(app, count_queries, world)
    with ctx(world["staff"].id):
        meetings.save_action(db.session.get(Meeting, world["meetings"][0]), None,
                             meetings.ActionInput(description="加强卫生间巡查",
                                                  responsible_person="王经理",
                                                  feedback_ids=[world["items"][0]]),
                             db.session.get(User, world["staff"].id))
    touched = ("meeting", "item")
    staff.check(fresh=tuple(urls[name] for name in touched), cached=_but(urls, *touched))
    admin.check(fresh=(), cached=(urls["leases"],))


# --- writers at once -------------------------------------------------------------------------

APPROVERS = 6


@pytest.mark.live
def test_approvals_at_once_share_keys_without_deadlock_and_each_is_seen(live_server):
    """Staff approving bookings of several venues on one day at the same instant replace the
    same keys (the day, the month, the queue) in one upsert each, in the same order: every
    approval succeeds (a deadlock would be a 500), and the shared pages show all of them."""
    from tests.races import Attempt, race, signed_in

    app = live_server.app
    client = make_user(app, "client")
    day = future_day(10)
    venue_ids = [make_venue(app, name=f"会议室{n}") for n in range(APPROVERS)]
    booking_ids = [make_booking(app, client.id, venue_id, day=day) for venue_id in venue_ids]
    clerks = [signed_in(live_server, make_user(app, "staff", email=f"approver{n}@example.com"),
                        f"/venues/bookings/{booking_id}")
              for n, booking_id in enumerate(booking_ids)]
    approved = "/venues/queue?status=approved"
    assert not any(Booking.reference_of(booking_id) in clerks[0].get(approved)
                   for booking_id in booking_ids)  # and cached so

    results = race([Attempt(clerk, f"/venues/bookings/{booking_id}/approve",
                            {"expected_status": "requested"})
                    for clerk, booking_id in zip(clerks, booking_ids, strict=True)])

    assert [status for status, _ in results] == [200] * APPROVERS  # each redirected back
    with app.app_context():
        assert set(db.session.scalars(sa.select(Booking.status).where(
            Booking.id.in_(booking_ids)))) == {BookingStatus.APPROVED}
        db.session.remove()
    queue = clerks[0].get(approved)
    assert all(Booking.reference_of(booking_id) in queue for booking_id in booking_ids)
