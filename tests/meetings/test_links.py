"""Links both ways between meetings and the other modules: a meeting's room booked from its
form (one transaction with the meeting, the booking module's rules and conflict answer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_login import current_user

from portal.bookings.models import Booking, BookingStatus
from portal.bookings.pricing import RateKind
from portal.bookings.services import BookingConflict
from portal.errors import ServiceError
from portal.extensions import db
from portal.meetings import services
from portal.meetings.models import Meeting
from tests.bookings.factories import make_venue
from tests.helpers import form_data
from tests.meetings.factories import World
from tests.races import Attempt, race, signed_in

ZONE = ZoneInfo("Asia/Shanghai")


def _day() -> date:
    return datetime.now(ZONE).date() + timedelta(days=5)


def _input(w: World, venue_id: int, **changes) -> services.MeetingInput:
    data = services.MeetingInput(
        title="第四季度服务质量联席会议", day=_day(), start=time(9), end=time(11),
        supplier_ids=[w.supplier_id], staff_ids=[w.staff_id], venue_id=venue_id,
        book_room=True)
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def _counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Booking)))


# --- booking the room from the meeting form ---------------------------------------------------


def test_booking_the_room_creates_an_approved_internal_booking_linked_in_one_step(
        app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        meeting = services.create_meeting(current_user._get_current_object(),
                                          _input(world, venue))
        booking = meeting.booking
        assert booking is not None
        assert booking.status == BookingStatus.APPROVED and booking.expires_at is None
        assert booking.rate_kind == RateKind.INTERNAL and booking.client_id is None
        assert booking.quote_total_fen == 150_000  # the venue's internal half-day rate
        assert [slot.venue_id for slot in booking.slots] == [venue]
        assert booking.starts_at == meeting.starts_at
        assert meeting.location  # the venue's place, as for a booking picked from the list
        assert _counts() == (1, 1)


def test_a_taken_room_saves_nothing_and_is_explained_beside_the_venue(app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        services.create_meeting(actor, _input(world, venue))
        with pytest.raises(BookingConflict) as caught:
            services.create_meeting(actor, _input(world, venue, title="另一个会议",
                                                  start=time(10), end=time(12)))
        assert caught.value.field == "venue_id"
        assert caught.value.details and caught.value.details[0].venue.id == venue
        assert _counts() == (1, 1)  # neither the second meeting nor a booking


def test_booking_refusals_name_the_meeting_form_fields(app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        with pytest.raises(ServiceError) as caught:
            services.create_meeting(actor, _input(world, venue, day=_day() - timedelta(days=30)))
        assert caught.value.fields.keys() == {"day"}
        with pytest.raises(ServiceError) as caught:
            services.create_meeting(actor, _input(world, None))
        assert caught.value.field == "venue_id"
        with pytest.raises(ServiceError) as caught:  # a booking picked and a room to book
            services.create_meeting(actor, _input(world, venue, booking_id=venue + 10**6))
        assert caught.value.field == "booking_id"
        assert _counts() == (0, 0)


def test_a_planned_meeting_books_its_room_when_edited(app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        meeting = services.create_meeting(actor, _input(world, venue, book_room=False))
        assert meeting.booking_id is None
        meeting = services.update_meeting(meeting, _input(world, venue), actor)
        assert meeting.booking is not None and meeting.booking.status == BookingStatus.APPROVED
        assert _counts() == (1, 1)


def test_an_edit_that_finds_the_room_taken_changes_nothing(app, ctx, login_as, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        services.create_meeting(actor, _input(world, venue, title="先订的会议"))
        meeting_id = services.create_meeting(
            actor, _input(world, venue, book_room=False, title="后来的会议")).id
    staff = login_as("staff")
    path = f"/meetings/{meeting_id}/edit"
    response = staff.post(path, data=form_data(
        staff, path, title="改了名的会议", day=_day().isoformat(), start="09:30", end="10:30",
        supplier_ids=[str(world.supplier_id)], venue_id=str(venue), book_room="y",
        booking_id="0"))
    assert response.status_code == 422
    assert 'id="venue_id-error"' in response.get_data(as_text=True)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.title == "后来的会议" and meeting.booking_id is None
        assert _counts() == (2, 1)
        db.session.remove()


def test_the_form_shows_the_booking_forms_conflict_beside_the_venue(app, login_as, world):
    venue = make_venue(app, name="第一会议室")
    staff = login_as("staff")
    fields = {"title": "联席会议", "day": _day().isoformat(), "start": "09:00", "end": "11:00",
              "supplier_ids": [str(world.supplier_id)], "venue_id": str(venue),
              "book_room": "y", "booking_id": "0"}
    response = staff.post("/meetings/new", data=form_data(staff, "/meetings/new", **fields))
    assert response.status_code in (302, 303)
    response = staff.post("/meetings/new", data=form_data(
        staff, "/meetings/new", **{**fields, "title": "另一个会议"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    venue_field = html[html.index('id="book-room"'):]
    assert 'id="venue_id-error"' in venue_field  # the message beside the venue
    assert "conflict" in venue_field[:venue_field.index("</fieldset>")]
    with app.app_context():
        assert _counts() == (1, 1)


@pytest.mark.live
def test_two_meetings_booking_one_room_at_once_get_one_booking(live_server):
    from tests.conftest import make_user
    from tests.meetings.factories import make_world

    app = live_server.app
    world = make_world(app)
    venue = make_venue(app, name="第一会议室")
    clerks = [make_user(app, "staff", email=f"booker{n}@example.com") for n in range(3)]
    browsers = [signed_in(live_server, clerk, "/meetings/new") for clerk in clerks]
    fields = {"day": _day().isoformat(), "start": "09:00", "end": "11:00",
              "supplier_ids": str(world.supplier_id), "venue_id": str(venue),
              "book_room": "y", "booking_id": "0"}
    results = race([Attempt(browser, "/meetings/new", {**fields, "title": f"会议{n}"})
                    for n, browser in enumerate(browsers)])
    statuses = sorted(status for status, _body in results)
    assert statuses[0] in (200, 302, 303) and statuses[1:] == [422, 422], statuses
    with app.app_context():
        assert _counts() == (1, 1)
        db.session.remove()


# --- a feedback item's page: the meetings that dealt with it ----------------------------------


def _feedback(app, w: World) -> int:
    from tests.feedback.factories import make_feedback

    return make_feedback(app, w.supervisor_id, w.category_id, supplier_id=w.supplier_id,
                         contract_id=w.contract_id, status="in_progress")


def _verify(app, action_id: int) -> None:
    from portal.database import utcnow, write_transaction
    from portal.meetings.models import ActionItem

    with app.test_request_context(), write_transaction():
        action = db.session.get(ActionItem, action_id)
        action.status, action.verified_at = "verified", utcnow()


def _decide(app, item_id: int, decisions: str) -> None:
    from portal.database import write_transaction
    from portal.meetings.models import AgendaItem

    with app.test_request_context(), write_transaction():
        db.session.get(AgendaItem, item_id).decisions = decisions


@dataclass
class Dealings:
    feedback: int
    held: int  # its agenda item and an action item on that item (not linked directly)
    item: int
    on_item: int
    published: int  # an action item answering it (linked directly), verified
    answered: int
    cancelled: int


def _dealings(app, w: World, feedback: int | None = None) -> Dealings:
    from tests.meetings.factories import make_action, make_agenda_item, make_meeting

    feedback = feedback or _feedback(app, w)
    today = datetime.now(ZONE).date()
    held = make_meeting(app, [w.supplier_id], status="held", title="十月联席会议",
                        day=today - timedelta(days=3))
    item = make_agenda_item(app, held, supplier_id=w.supplier_id, feedback_id=feedback)
    _decide(app, item, "保洁公司增派人手")
    on_item = make_action(app, held, supplier_id=w.supplier_id, agenda_item_id=item,
                          description="每两小时巡查一次卫生间")
    published = make_meeting(app, [w.supplier_id], status="minutes_published",
                             title="九月联席会议", day=today - timedelta(days=20))
    answered = make_action(app, published, supplier_id=w.supplier_id,
                           description="更换三楼卫生间防滑地垫", feedback_ids=(feedback,))
    _verify(app, answered)
    cancelled = make_meeting(app, [w.supplier_id], status="cancelled", title="取消的会议")
    make_agenda_item(app, cancelled, supplier_id=w.supplier_id, feedback_id=feedback)
    return Dealings(feedback, held, item, on_item, published, answered, cancelled)


def _supervisor(app, w: World):
    from portal.auth.models import User
    from tests.conftest import PASSWORD, Account, login

    with app.app_context():
        email = db.session.get(User, w.supervisor_id).email
        db.session.remove()
    browser = app.test_client()
    assert login(browser, Account(w.supervisor_id, email, PASSWORD, "supervisor")
                 ).status_code == 303
    return browser


def test_staff_see_links_to_the_meetings_agenda_and_action_items_of_a_feedback_item(
        app, login_as, world):
    d = _dealings(app, world)
    html = login_as("staff").get(f"/feedback/{d.feedback}").get_data(as_text=True)
    section = html[html.index('id="feedback-meetings"'):]
    for href in (f"/meetings/{d.held}#item-{d.item}", f"/meetings/{d.held}#action-{d.on_item}",
                 f"/meetings/{d.published}#action-{d.answered}"):
        assert f'href="{href}"' in section
    assert "保洁公司增派人手" in section  # the decisions
    assert section.index("十月联席会议") < section.index("九月联席会议")  # newest first
    assert "取消的会议" not in section and f"/meetings/{d.cancelled}" not in section


def test_the_supervisor_reads_a_sentence_per_meeting_with_published_minutes(app, world):
    d = _dealings(app, world)
    html = _supervisor(app, world).get(f"/feedback/{d.feedback}").get_data(as_text=True)
    section = html[html.index('id="feedback-meetings"'):html.index('id="feedback-timeline"')]
    assert "九月联席会议" in section and "更换三楼卫生间防滑地垫" in section
    assert "已在" in section and "整改措施" in section and "核实" in section
    assert "十月联席会议" not in section  # held, the minutes not published yet: internal
    assert "取消的会议" not in section
    assert "/meetings/" not in section  # the staff pages are not linked


def test_a_supervisor_sees_no_meetings_section_before_the_minutes_are_published(app, world):
    from tests.meetings.factories import make_agenda_item, make_meeting

    feedback = _feedback(app, world)
    held = make_meeting(app, [world.supplier_id], status="held")
    make_agenda_item(app, held, supplier_id=world.supplier_id, feedback_id=feedback)
    html = _supervisor(app, world).get(f"/feedback/{feedback}").get_data(as_text=True)
    assert 'id="feedback-meetings"' not in html


@pytest.mark.parametrize("viewer", ["staff", "supervisor"])
def test_the_feedback_page_runs_a_fixed_number_of_queries(app, login_as, world, count_queries,
                                                         monkeypatch, viewer):
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)  # count the rendering, not a hit
    browser = login_as("staff") if viewer == "staff" else _supervisor(app, world)
    small = _feedback(app, world)
    _dealings(app, world, small)
    browser.get(f"/feedback/{small}")
    with count_queries() as few:
        assert browser.get(f"/feedback/{small}").status_code == 200
    large = _feedback(app, world)
    for _n in range(4):
        _dealings(app, world, large)
    with count_queries() as many:
        assert browser.get(f"/feedback/{large}").status_code == 200
    assert len(many) == len(few), (len(few), len(many))


# --- agenda and action items link to their feedback -------------------------------------------


def test_agenda_and_action_items_link_to_their_feedback(app, login_as, world):
    d = _dealings(app, world)
    staff = login_as("staff")
    link = f'href="/feedback/{d.feedback}"'
    meeting_page = staff.get(f"/meetings/{d.held}").get_data(as_text=True)
    assert link in meeting_page[meeting_page.index(f'id="item-{d.item}"'):]
    published = staff.get(f"/meetings/{d.published}").get_data(as_text=True)
    assert link in published[published.index(f'id="action-{d.answered}"'):]
    assert link in staff.get("/meetings/actions").get_data(as_text=True)
    assert link in staff.get(f"/meetings/agenda/{d.item}/minutes").get_data(as_text=True)


def test_a_reader_who_cannot_open_the_feedback_gets_plain_text(app):
    from flask import render_template_string

    with app.test_request_context():
        macro = ('{% from "meetings/_feedback_ref.html" import feedback_ref %}'
                 '{{ feedback_ref(7, true) }}|{{ feedback_ref(7, false) }}')
        linked, plain = render_template_string(macro).split("|")
    assert 'href="/feedback/7"' in linked and "#7" in linked
    assert "href" not in plain and "#7" in plain


# --- a supplier's meetings --------------------------------------------------------------------


def test_a_supplier_page_lists_its_newest_meetings_and_links_to_all(app, login_as, world):
    from portal.meetings.links import SUPPLIER_PAGE_MEETINGS
    from tests.feedback.factories import make_supplier
    from tests.meetings.factories import make_action, make_meeting

    today = datetime.now(ZONE).date()
    other = make_supplier(app)
    for n in range(SUPPLIER_PAGE_MEETINGS + 1):
        make_meeting(app, [world.supplier_id], title=f"会议{n:02d}",
                     day=today - timedelta(days=30 - n))
    # Not invited, but its action item names the supplier: it took part.
    named = make_meeting(app, [other], title="其他单位的会议", day=today + timedelta(days=1))
    make_action(app, named, supplier_id=world.supplier_id)
    elsewhere = make_meeting(app, [other], title="无关的会议", day=today + timedelta(days=2))
    staff = login_as("staff")
    html = staff.get(f"/suppliers/{world.supplier_id}").get_data(as_text=True)
    section = html[html.index('id="supplier-meetings"'):]
    section = section[:section.index("</section>")]
    assert section.index("其他单位的会议") < section.index(f"会议{SUPPLIER_PAGE_MEETINGS:02d}")
    assert "会议00" not in section  # limited to the newest
    assert f'href="/meetings/?supplier={world.supplier_id}"' in section
    listed = staff.get(f"/meetings/?supplier={world.supplier_id}").get_data(as_text=True)
    assert "会议00" in listed and "其他单位的会议" in listed
    assert "无关的会议" not in listed and f"/meetings/{elsewhere}" not in listed


def test_the_supplier_page_runs_a_fixed_number_of_queries(app, login_as, world, count_queries,
                                                         monkeypatch):
    from tests.meetings.factories import make_meeting

    monkeypatch.setitem(app.config, "PAGE_CACHE", False)
    staff = login_as("staff")
    make_meeting(app, [world.supplier_id])
    staff.get(f"/suppliers/{world.supplier_id}")
    with count_queries() as few:
        assert staff.get(f"/suppliers/{world.supplier_id}").status_code == 200
    for _n in range(8):
        make_meeting(app, [world.supplier_id])
    with count_queries() as many:
        assert staff.get(f"/suppliers/{world.supplier_id}").status_code == 200
    assert len(many) == len(few), (len(few), len(many))


# --- a booking's meeting ----------------------------------------------------------------------


def test_a_booking_page_shows_its_meeting_to_staff_not_to_the_client(app, login_as, world):
    from portal.database import write_transaction
    from tests.bookings.factories import make_booking
    from tests.meetings.factories import make_meeting

    client = login_as("client")
    booking = make_booking(app, client.account.id, make_venue(app, name="第二会议室"))
    meeting = make_meeting(app, [world.supplier_id], title="借用客户场地的联席会议")
    with app.test_request_context(), write_transaction():
        db.session.get(Meeting, meeting).booking_id = booking
    staff_html = login_as("staff").get(f"/venues/bookings/{booking}").get_data(as_text=True)
    assert f'href="/meetings/{meeting}"' in staff_html and "借用客户场地的联席会议" in staff_html
    client_html = client.get(f"/venues/bookings/{booking}").get_data(as_text=True)
    assert "借用客户场地的联席会议" not in client_html and "/meetings/" not in client_html
