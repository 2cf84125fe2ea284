"""The page cache: hits skip the work, every change to a scope's data is seen at once."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified

from portal.auth import services as accounts
from portal.auth.models import User
from portal.bookings.models import CalendarFeed, Venue
from portal.database import write_transaction
from portal.extensions import db
from portal.page_cache import DataVersion, tokens
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import PASSWORD, make_user
from tests.helpers import form_data

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(app, scope):
    with app.test_request_context():
        return tokens((scope,))[0]


# A CSRF token signed in another second differs (it carries its time): a page served from
# the cache carries the reader's token of the moment, so pages are compared without them.
_SIGNED_TOKEN = re.compile(r'("X-CSRFToken": "|name="csrf_token" (?:type="hidden" )?value=")'
                           r'[^"]+"')


def _without_tokens(html: str) -> str:
    return _SIGNED_TOKEN.sub(r'\1…"', html)


def test_a_repeated_page_is_served_from_the_cache(app, client, count_queries):
    venue_id = make_venue(app, name="大礼堂")
    first = client.get(f"/venues/{venue_id}?view=week").get_data(as_text=True)
    with count_queries() as queries:
        again = client.get(f"/venues/{venue_id}?view=week").get_data(as_text=True)
    assert _without_tokens(again) == _without_tokens(first) and "X-CSRFToken" in first
    work = [q for q in queries if "SAVEPOINT" not in q]  # the tests' isolation, not the page
    assert len(work) == 1 and "data_version" in work[0]  # no venue, no slots


def test_a_booking_is_seen_at_once_and_changes_only_its_scope(app, client):
    venue_id = make_venue(app, name="大礼堂")
    day = future_day(3)
    path = f"/venues/{venue_id}?view=day&date={day.isoformat()}"
    assert "已保留（待审批）" not in client.get(path).get_data(as_text=True)
    rentals_before, bookings_before = _token(app, "rentals"), _token(app, "bookings")
    make_booking(app, make_user(app, "client").id, venue_id, day=day)
    assert _token(app, "bookings") != bookings_before
    assert _token(app, "rentals") == rentals_before
    assert "已保留（待审批）" in client.get(path).get_data(as_text=True)


def test_a_rolled_back_change_keeps_the_token(app):
    venue_id = make_venue(app)
    before = _token(app, "bookings")
    with pytest.raises(RuntimeError), app.test_request_context(), write_transaction():
        db.session.get(Venue, venue_id).name = "改名后"
        db.session.flush()
        raise RuntimeError("the service failed after its flush")
    assert _token(app, "bookings") == before


def test_a_scope_without_its_row_gets_one(app):
    with app.test_request_context(), write_transaction():
        db.session.execute(sa.delete(DataVersion).where(DataVersion.scope == "bookings"))
    assert _token(app, "bookings") == ""
    make_venue(app)
    assert len(_token(app, "bookings")) == 32


def test_bulk_statements_change_the_token(app):
    make_venue(app)
    before = _token(app, "bookings")
    with app.test_request_context(), write_transaction():
        db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.id == -1))
    assert _token(app, "bookings") != before


def test_each_reader_gets_its_own_csrf_token(app, login_as):
    venue_id = make_venue(app)
    client_id = make_user(app, "client").id
    make_booking(app, client_id, venue_id)
    first, second = login_as("staff"), login_as("staff")
    one = first.get("/venues/queue").get_data(as_text=True)
    two = second.get("/venues/queue").get_data(as_text=True)
    tokens_one, tokens_two = set(_CSRF.findall(one)), set(_CSRF.findall(two))
    assert tokens_one and tokens_two and tokens_one.isdisjoint(tokens_two)
    assert "\x00" not in two
    # The second reader's token works: approving from its cached page succeeds.
    booking_id = re.search(r"/venues/bookings/(\d+)", two).group(1)
    response = second.post(f"/venues/bookings/{booking_id}/approve",
                           data={"csrf_token": tokens_two.pop(), "back": "queue"})
    assert response.status_code == 303


def test_users_do_not_share_pages(app, login_as):
    venue_id = make_venue(app)
    alice, bob = login_as("client", name="甲客户"), login_as("client", name="乙客户")
    make_booking(app, alice.account.id, venue_id)
    assert "测试会议" in alice.get("/venues/bookings/mine").get_data(as_text=True)
    assert "测试会议" not in bob.get("/venues/bookings/mine").get_data(as_text=True)


def test_waiting_messages_bypass_the_cache(app, login_as, client):
    venue_id = make_venue(app)
    staff = login_as("staff")
    staff.get("/venues/queue")  # cached
    with staff.session_transaction() as session:
        session["_flashes"] = [("success", "已批准")]
    assert "已批准" in staff.get("/venues/queue").get_data(as_text=True)
    assert venue_id


def test_the_cache_can_be_switched_off(app, client, count_queries):
    venue_id = make_venue(app)
    app.config["PAGE_CACHE"] = False
    try:
        client.get(f"/venues/{venue_id}")
        with count_queries() as queries:
            client.get(f"/venues/{venue_id}")
        assert len(queries) > 1
    finally:
        app.config["PAGE_CACHE"] = True



# What signing in and out and changing a password write: shown on no cached page.
NOT_SHOWN = {"password_hash", "session_epoch", "last_login_at", "email_verified_at"}


@pytest.mark.parametrize("column", [attr.key for attr in sa.inspect(User).column_attrs
                                    if attr.key != "id"])
def test_an_account_update_changes_the_people_scope_unless_no_page_shows_the_column(app, column):
    account_id = make_user(app, "staff").id
    before = _token(app, "people")
    with app.test_request_context(), write_transaction():
        flag_modified(db.session.get(User, account_id), column)
    assert (_token(app, "people") != before) == (column not in NOT_SHOWN)


def test_signing_in_and_out_leaves_the_pages_alone_account_changes_do_not(app, ctx):
    admin = make_user(app, "admin")
    account = make_user(app, "client", organisation="华晨科技有限公司")
    with ctx():
        user = db.session.get(User, account.id)
        people = _token(app, "people")
        accounts.record_login(user, PASSWORD)
        accounts.end_all_sessions(user)
        accounts.change_password(user, current=PASSWORD, new="a different horse battery 2")
        assert _token(app, "people") == people
        changes = [
            lambda: accounts.update_profile(user, name="陈经理", organisation="华晨科技",
                                            phone="", locale="zh_Hans_CN"),
            lambda: accounts.update_account(user, role="supervisor", active=True,
                                            acting_user=db.session.get(User, admin.id)),
            lambda: accounts.update_account(user, role="supervisor", active=False,
                                            acting_user=db.session.get(User, admin.id)),
        ]
        for change in changes:
            change()
            assert _token(app, "people") != people
            people = _token(app, "people")


def test_a_new_name_and_a_deactivation_are_seen_on_cached_pages_at_once(app, login_as):
    admin, staff = login_as("admin"), login_as("staff", name="物业管理科王科长")
    colleague = make_user(app, "staff", name="会务科孙干事")
    customer = make_user(app, "client", organisation="华晨科技有限公司")
    make_booking(app, customer.id, make_venue(app))
    assert "华晨科技有限公司" in staff.get("/venues/queue").get_data(as_text=True)
    assert "会务科孙干事" in staff.get("/feedback/").get_data(as_text=True)  # the assignee filter
    with app.test_request_context():
        accounts.update_profile(db.session.get(User, customer.id), name="陈经理",
                                organisation="华晨智能科技有限公司", phone="", locale="zh_Hans_CN")
    assert "华晨智能科技有限公司" in staff.get("/venues/queue").get_data(as_text=True)
    path = f"/admin/users/{colleague.id}"
    response = admin.post(path, data=form_data(admin, path, role="staff"))  # "active" unticked
    assert response.status_code == 303
    assert "会务科孙干事" not in staff.get("/feedback/").get_data(as_text=True)
