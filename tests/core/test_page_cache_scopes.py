"""Every cached page renders afresh after a change to any model it reads, people included.

``PAGES`` lists each cached page (every view wrapped by ``cached_page``: a new one without a row
here fails) with the models it reads, on data like the demo's.  For each row the test checks
that the list is what the page really reads (the tables named in the SQL it sends while it
renders), that each model's scope is among the page's scopes, and that changing a row of each
model makes the next request render the page again, showing a changed name or organisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified

from portal.audit.models import AuditLog
from portal.auth.models import User
from portal.bookings.models import (
    Blackout,
    Booking,
    CalendarFeed,
    Venue,
    VenueEquipment,
    VenueLayout,
    VenuePhoto,
    VenueSlot,
)
from portal.catalogue.models import ServiceCategory
from portal.database import write_transaction
from portal.extensions import db
from portal.feedback import services as feedback
from portal.feedback.models import (
    Feedback,
    FeedbackEvent,
    FeedbackPhoto,
    SupervisorAppointment,
)
from portal.meetings import services as meetings
from portal.meetings.models import (
    ActionItem,
    AgendaItem,
    Meeting,
    MeetingAttendee,
    MinutesRevision,
)
from portal.page_cache import scope_of_model
from portal.partners.models import NoteKind, SupplierNote
from portal.rentals.models import Building, Lease, LeaseRoom, Payment, RentPeriod, Room, Tenant
from portal.rentals.reports import REPORTS
from portal.search.models import SearchEntry, SearchGram
from portal.suppliers.models import ServiceContract, Supplier, SupplierContact
from portal.surveys import services as surveys
from portal.surveys.models import (
    Question,
    RoundCategory,
    RoundFigure,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)
from tests.bookings.factories import future_day, make_booking, make_photo, make_venue
from tests.conftest import login, make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)
from tests.meetings.factories import make_action, make_agenda_item, make_meeting
from tests.rentals.factories import make_lease, make_room, make_tenant
from tests.surveys.factories import answer, invite, make_questionnaire, make_round

# Rows written only together with a change of the record they describe, whose scope the page
# names already: the audit trail of a feedback item.
FOLLOWS_ITS_RECORD = {AuditLog}

BOOKINGS_LIST = {Booking, User, Venue, VenueSlot}
RENTALS = {Building, Lease, LeaseRoom, Payment, RentPeriod, Room, Tenant}
SATISFACTION = {Question, RoundCategory, RoundFigure, SurveyAnswer, SurveyInvitation,
                SurveyResponse, SurveyRound}  # RoundFigure: the closed rounds' stored figures
RENTAL_EXPORTS = {
    "income": {Lease, Payment, RentPeriod},
    "income_tenant": RENTALS - {Payment},
    "income_room": RENTALS - {Payment},
    "occupancy": {Building, LeaseRoom, Room},
    "arrears": {Lease, RentPeriod, Tenant},
}
RATES = SATISFACTION - {SurveyInvitation}  # the satisfaction rates, not who was asked
FEEDBACK_ITEM = {ActionItem, AgendaItem, Building, Feedback, FeedbackEvent, FeedbackPhoto,
                 Meeting, Room, ServiceCategory, ServiceContract, SupervisorAppointment, Supplier,
                 User}  # with the joint meetings that dealt with it


@dataclass(frozen=True)
class Page:
    endpoint: str
    role: str  # who reads it: "anonymous" or a role (logged in with the world's account)
    url: str  # formatted with the world's ids
    models: frozenset  # what the page reads, so what must invalidate it
    # read, but the world's rows of it belong to another record the page follows by key (a
    # closed round's figures on an open round's page): another page checks them
    others: frozenset = frozenset()

    def __str__(self) -> str:
        return f"{self.endpoint}-{self.role}-{self.url}"


def page(endpoint, role, url, *models, others=()) -> Page:
    flat = set()
    for model in models:
        flat |= model if isinstance(model, set) else {model}
    return Page(endpoint, role, url, frozenset(flat), frozenset(others))


PAGES = [
    page("bookings.venues", "anonymous", "/venues/", Venue, VenueEquipment, VenueLayout),
    page("bookings.venues", "client", "/venues/?day={day}&session=morning&headcount=10",
         Venue, VenueLayout, VenueSlot),
    page("bookings.overview", "staff", "/venues/overview?month={month}", Venue, VenueSlot),
    page("bookings.grid_page", "anonymous", "/venues/grid?date={day}", Blackout, Booking,
         Venue, VenueLayout, VenueSlot),
    page("bookings.grid_page", "staff", "/venues/grid?date={day}&view=week", Blackout, Booking,
         Venue, VenueLayout, VenueSlot),
    page("bookings.venue", "anonymous", "/venues/{venue_id}?view=week&date={day}",
         Blackout, Booking, Venue, VenueEquipment, VenueLayout, VenuePhoto, VenueSlot),
    page("bookings.venue", "staff", "/venues/{venue_id}?view=week&date={day}",
         Blackout, Booking, CalendarFeed, Venue, VenueEquipment, VenueLayout, VenuePhoto,
         VenueSlot),
    page("bookings.mine", "client", "/venues/bookings/mine", BOOKINGS_LIST, CalendarFeed),
    page("bookings.queue", "staff", "/venues/queue?status=all", BOOKINGS_LIST),
    page("rentals.rooms", "staff", "/rentals/rooms", Building, LeaseRoom, Room),
    # The list's overdue figure is summed from the schedule lines (payments not read).
    page("rentals.leases", "admin", "/rentals/leases", RENTALS - {Payment}),
    page("rentals.reports", "staff", "/rentals/reports", RENTALS),
    *(page("rentals.reports_export", "staff", f"/rentals/reports/export?report={key}", models)
      for key, models in RENTAL_EXPORTS.items()),
    page("feedback.dashboard", "staff", "/feedback/dashboard", Feedback, ServiceCategory,
         Supplier, SATISFACTION),
    page("feedback.queue", "staff", "/feedback/?status=all", Building, Feedback,
         ServiceCategory, Supplier, User),
    page("feedback.item", "staff", "/feedback/{feedback_id}", FEEDBACK_ITEM | {SupplierNote}),
    page("feedback.item", "supervisor", "/feedback/{feedback_id}", FEEDBACK_ITEM),
    page("meetings.prefill", "staff", "/meetings/prefill?supplier_ids={supplier_id}",
         ActionItem, Feedback, Meeting, ServiceCategory, Supplier, RATES),
    page("meetings.meeting", "staff", "/meetings/{meeting_id}", ActionItem, AgendaItem, Booking,
         Feedback, Meeting, MeetingAttendee, MinutesRevision, ServiceCategory, Supplier,
         SupplierContact, User),
    # An open round's results (counted live) and a closed one's (its stored figures): a
    # round's figures are keyed by round, so each page follows its own round's rows.
    page("surveys.results", "staff", "/surveys/rounds/{round_id}/results", ServiceCategory,
         Supplier, SATISFACTION - {RoundFigure}, others={RoundFigure}),
    page("surveys.results", "staff", "/surveys/rounds/{closed_round_id}/results",
         ServiceCategory, Supplier, SATISFACTION),
    page("surveys.trend", "staff", "/surveys/trend", ServiceCategory, Supplier, SATISFACTION),
    page("surveys.rounds", "staff", "/surveys/", SATISFACTION - {RoundCategory}),
    # Two characters: every module is read (a longer query leaves out the modules that lack
    # one of its grams).
    *(page(endpoint, "staff", f"/search{path}?q=华晨", SearchEntry, SearchGram, Booking,
           Feedback, Lease, Meeting, Room, ServiceContract, Supplier, Tenant, User, Venue)
      for endpoint, path in (("search.index", ""), ("search.suggest", "/suggest"))),
    page("suppliers.scorecard_page", "staff", "/suppliers/{supplier_id}/scorecard",
         ActionItem, Feedback, Meeting, ServiceCategory, ServiceContract, Supplier,
         RATES),
]


def test_every_cached_page_is_in_the_table(app):
    assert RENTAL_EXPORTS.keys() == REPORTS.keys()
    cached = {endpoint for endpoint, view in app.view_functions.items()
              if hasattr(view, "cache_scopes")}
    assert cached, "cached_page no longer marks its views"
    assert cached - {p.endpoint for p in PAGES} == set(), "cached pages missing from PAGES"
    assert {p.endpoint for p in PAGES} - cached == set(), "PAGES lists pages not cached"


def test_every_scope_a_page_names_is_declared(app):
    declared = {scope_of_model(mapper.class_) for mapper in db.Model.registry.mappers} - {None}
    for endpoint, view in app.view_functions.items():
        assert set(getattr(view, "cache_scopes", ())) <= declared, endpoint


# --- the world: one of everything the pages show, linked as in the demo -----------------------


def _world(app, ctx) -> dict:
    staff = make_user(app, "staff", name="物业管理科王科长")
    colleague = make_user(app, "staff", name="会务科孙干事")
    admin = make_user(app, "admin", name="局办公室李主任")
    supervisor = make_user(app, "supervisor", name="区委办赵主任", organisation="区委办公室")
    client = make_user(app, "client", name="陈经理", organisation="华晨科技有限公司")
    tenant_account = make_user(app, "client", name="周女士", organisation="周记茶社")

    venue_id = make_venue(app, name="第一会议室")
    make_photo(app, venue_id)
    day = future_day(3)
    booking_id = make_booking(app, client.id, venue_id, day=day)
    with ctx(staff.id):
        from portal.bookings import services as bookings

        start = bookings.local_datetime(day + timedelta(days=1), time(9))
        bookings.create_blackout(venue_id, start, start + timedelta(hours=3), "设备检修")
    with ctx(client.id):
        from portal.bookings import calendars

        calendars.create_personal_feed(db.session.get(User, client.id))

    category_id = make_category(app, name="保洁", name_en="Cleaning")
    supplier_id = make_supplier(app, name="洁美物业服务有限公司", category_ids=(category_id,))
    contract_id = make_contract(app, supplier_id, category_id)
    with ctx(), write_transaction():
        db.session.get(ServiceCategory, category_id).contract_id = contract_id
    make_appointment(app, supervisor.id, unit="区委办公室")
    room_id = make_room(app)
    with ctx():
        building_id = db.session.get(Room, room_id).building_id
    feedback_id = make_feedback(app, supervisor.id, category_id, building_id=building_id,
                                room_id=room_id)
    with ctx(staff.id):
        feedback.apply_transition(feedback_id, "accept", db.session.get(User, staff.id),
                                  assignee_id=staff.id)
        _feedback_photo(feedback_id)
    with ctx(), write_transaction():  # the supplier's progress note, shown to staff
        db.session.add(SupplierNote(feedback_id=feedback_id, supplier_id=supplier_id,
                                    kind=NoteKind.PROGRESS, body="已安排保洁员重新清扫"))

    meeting_id = make_meeting(app, [supplier_id], created_by_id=staff.id)
    with ctx(staff.id), write_transaction():
        db.session.get(Meeting, meeting_id).booking_id = booking_id
    with ctx(staff.id):
        meetings.add_attendee(db.session.get(Meeting, meeting_id), user_id=colleague.id)
    agenda_id = make_agenda_item(app, meeting_id, supplier_id=supplier_id,
                                 feedback_id=feedback_id)
    make_action(app, meeting_id, supplier_id=supplier_id, agenda_item_id=agenda_id,
                feedback_ids=(feedback_id,))
    _minutes_revision(app, ctx, meeting_id, staff.id)

    round_id = make_round(app, make_questionnaire(app, [category_id]), anonymous=False)
    with ctx(staff.id):
        surveys.invite_roster(db.session.get(SurveyRound, round_id))
    answer(app, round_id, invite(app, round_id, "liu@example.gov.cn")[0], text="保洁很及时")
    closed_id = make_round(app, make_questionnaire(app, [category_id]), title="上一轮满意度调查")
    answer(app, closed_id, invite(app, closed_id, "zhou@example.gov.cn")[0], text="满意")
    with ctx(staff.id):  # closed: its figures stored
        surveys.close_round(db.session.get(SurveyRound, closed_id), db.session.get(User, staff.id))

    lease_id = make_lease(app, make_tenant(app, name="周记茶社", user_id=tenant_account.id),
                          [room_id], start=date.today() - timedelta(days=60))
    with ctx(staff.id):
        from portal.rentals import services as rentals

        rentals.record_payment(db.session.get(User, staff.id), db.session.get(Lease, lease_id),
                               date.today(), 1_000, "bank_transfer", "SK-001", "cache-scopes-1")
    return {"accounts": {"staff": staff, "admin": admin, "supervisor": supervisor,
                         "client": client},
            "ids": {"venue_id": venue_id, "day": day.isoformat(), "month": day.strftime("%Y-%m"),
                    "feedback_id": feedback_id, "supplier_id": supplier_id,
                    "meeting_id": meeting_id, "round_id": round_id,
                    "closed_round_id": closed_id}}


def _feedback_photo(feedback_id: int) -> None:
    import io

    from werkzeug.datastructures import FileStorage

    from portal import uploads
    from tests.bookings.factories import jpeg_bytes

    uploads.add_photo(FeedbackPhoto, "feedback", FileStorage(io.BytesIO(jpeg_bytes()), "x.jpg"),
                      "积水", feedback_id=feedback_id)


def _minutes_revision(app, ctx, meeting_id: int, staff_id: int) -> None:
    """Hold the meeting, publish its minutes, amend them once: a revision."""
    with ctx(staff_id):
        actor = db.session.get(User, staff_id)
        meeting = db.session.get(Meeting, meeting_id)
        meetings.act(meeting, "hold", actor)
        meetings.act(meeting, "publish", actor)
        item = meeting.agenda[0]
        meetings.save_minutes(item, "已讨论", "加强巡查", actor, reason="补记决定")


# --- reading the pages ---------------------------------------------------------------------------

def _table_patterns() -> dict[str, re.Pattern]:
    """Every table's pattern, built when asked: at collection time only the models that the
    test modules collected so far imported are known (the app imports them all)."""
    return {table.name: re.compile(rf'(?:FROM|JOIN|,)\s+"?{table.name}"?(?:\s|$|\))')
            for table in db.metadata.sorted_tables}


def _models_of_tables() -> dict[str, set[type]]:
    """Each table's model; an association table stands for the models on its two sides."""
    models: dict[str, set[type]] = {}
    for mapper in db.Model.registry.mappers:
        models.setdefault(mapper.local_table.name, set()).add(mapper.class_)
        for relation in mapper.relationships:
            if relation.secondary is not None:
                models.setdefault(relation.secondary.name, set()).update(
                    {mapper.class_, relation.mapper.class_})
    return models


_UNREAD_BADGE = re.compile(r"FROM notification\s")


def _view_statements(statements: list[str]) -> list[str]:
    """The statements after the cache's token read: the view's own (none on a hit).

    Left out: the unread count of the navigation's badge, which is filled in outside the
    cached body on every response (``portal/notifications``), hit or not.
    """
    statements = [s for s in statements if "SAVEPOINT" not in s]  # the tests' isolation
    statements = [s for s in statements if not _UNREAD_BADGE.search(s)]
    marks = [n for n, statement in enumerate(statements) if "data_version" in statement]
    assert marks, "no token read: is the page still cached?"
    return statements[marks[0] + 1:]


def _read(client, url, count_queries) -> tuple[str, list[str]]:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True), _view_statements(statements)


def _models_read(statements: list[str]) -> set[type]:
    of_table = _models_of_tables()
    models = set()
    for name, pattern in _table_patterns().items():
        if any(pattern.search(statement) for statement in statements):
            models |= of_table[name]
    return models - FOLLOWS_ITS_RECORD


def _change(model, html: str, reader_id: int | None, url: str = "") -> str | None:
    """Change one row of ``model`` (in the caller's write transaction).

    For accounts, the name or organisation of someone the page shows, when it shows one (the
    reader's own name is in the cache key, so it does not count): the new text is returned,
    for the fresh page to show.  Otherwise a column is rewritten as it is (an UPDATE all the
    same).
    """
    if model is User:
        for user in db.session.scalars(sa.select(User).order_by(User.id)):
            for field in ("name", "organisation"):
                value = getattr(user, field)
                if value and value in html and (field != "name" or user.id != reader_id):
                    setattr(user, field, f"{value}（新）")
                    return f"{value}（新）"
    rows = sa.select(model).limit(1)
    shown_round = re.search(r"/surveys/rounds/(\d+)/", url)
    if shown_round and hasattr(model, "round_id"):  # a round's rows are keyed by round
        rows = rows.where(model.round_id == int(shown_round.group(1)))
    elif shown_round and model is SurveyRound:
        rows = rows.where(SurveyRound.id == int(shown_round.group(1)))
    elif shown_round and model is SurveyAnswer:  # through its response
        rows = rows.join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id).where(
            SurveyResponse.round_id == int(shown_round.group(1)))
    row = db.session.scalars(rows).first()
    assert row is not None, f"the world has no {model.__name__}: add one to _world"
    columns = [attr.key for attr in sa.inspect(model).column_attrs
               if not attr.columns[0].primary_key]
    if columns:
        flag_modified(row, columns[0])
    else:  # a row that is all key (a venue's equipment): the change is its removal
        db.session.delete(row)
    return None


@pytest.mark.parametrize("shown", PAGES, ids=str)
def test_a_change_to_any_model_a_page_reads_renders_it_afresh(app, ctx, count_queries, shown):
    world = _world(app, ctx)
    client = app.test_client()
    reader = world["accounts"].get(shown.role)
    if reader is not None:
        assert login(client, reader).status_code == 303
    url = shown.url.format(**world["ids"])
    html, statements = _read(client, url, count_queries)
    assert statements, "the first request rendered nothing"

    read = _models_read(statements)
    assert read == shown.models | shown.others, (
        f"{url} reads {sorted(m.__name__ for m in read)}: correct its row in PAGES "
        f"(missing {sorted(m.__name__ for m in read - shown.models - shown.others)}, "
        f"not read {sorted(m.__name__ for m in shown.models | shown.others - read)})")
    scopes = app.view_functions[shown.endpoint].cache_scopes
    unscoped = {m.__name__: scope_of_model(m) for m in read if scope_of_model(m) not in scopes}
    assert not unscoped, f"{shown.endpoint} is cached under {scopes} but shows {unscoped}"

    for model in sorted(read - shown.others, key=lambda m: m.__name__):
        html, statements = _read(client, url, count_queries)
        assert statements == [], f"{url}: not served from the cache before {model.__name__}"
        with ctx(), write_transaction():
            expected = _change(model, html, reader.id if reader else None, url)
        html, statements = _read(client, url, count_queries)
        assert statements, f"{url} was served from the cache after {model.__name__} changed"
        assert expected is not None or model is not User, f"{url} shows nobody's name"
        if expected is not None:
            assert expected in html, f"{url} does not show the changed {model.__name__}"
