"""In-app notifications: every mail to an account also lands in its inbox, in the same
transaction; the account chooses per kind whether it also wants the email; mails carrying a
secret go by email only; the inbox, the badge and the preferences over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.auth import services as accounts
from portal.auth.models import User
from portal.bookings import services as bookings
from portal.bookings.models import Booking
from portal.database import write_transaction
from portal.extensions import db
from portal.notifications import services
from portal.notifications.kinds import BY_TEMPLATE, EMAIL_ONLY, kinds_for
from portal.notifications.models import Notification, NotificationPreference
from portal.outbox.models import OutboxMessage
from portal.outbox.services import queue_email
from tests.bookings.factories import make_booking, make_venue
from tests.conftest import make_user
from tests.helpers import form_data

ROOT = Path(__file__).resolve().parents[2]


def _notifications(app, user_id: int) -> list[Notification]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Notification).where(
            Notification.user_id == user_id).order_by(Notification.id)))
        db.session.expunge_all()
        return rows


def _mails(app, recipient: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def _approve(app, booking_id: int, staff_id: int) -> None:
    with app.test_request_context():
        bookings.transition(db.session.get(Booking, booking_id), "approve",
                            db.session.get(User, staff_id))


def _add(app, user_id: int, count: int, **fields) -> list[int]:
    """``count`` notifications for ``user_id`` written directly (no mail)."""
    with app.test_request_context(), write_transaction():
        rows = [Notification(user_id=user_id, kind=fields.get("kind", "booking_status"),
                             subject=f"{fields.get('subject', '通知')} {n}", text="正文",
                             link=fields.get("link", "/venues/")) for n in range(count)]
        db.session.add_all(rows)
        db.session.flush()
        return [row.id for row in rows]


@pytest.fixture
def booked(app):
    """A client's requested booking (its request mail already in the inbox) and staff."""
    client = make_user(app, "client", organisation="华晨科技有限公司")
    staff = make_user(app, "staff")
    booking_id = make_booking(app, client.id, make_venue(app))
    return client, staff, booking_id


# --- the outbox records the notification -------------------------------------------------------


def test_a_booking_approved_by_staff_lands_in_the_clients_inbox_and_mails_once(app, booked):
    client, staff, booking_id = booked
    desk = app.config["BOOKINGS_DESK_EMAIL"]
    before_notes, before_mails = len(_notifications(app, client.id)), len(_mails(app, client.email))
    desk_before = len(_mails(app, desk))
    _approve(app, booking_id, staff.id)

    [note] = _notifications(app, client.id)[before_notes:]
    assert note.unread and note.kind == "booking_status"
    assert note.link == f"/venues/bookings/{booking_id}"
    assert "已确认" in note.subject and note.text and "http" not in note.text
    [mail] = _mails(app, client.email)[before_mails:]
    assert mail.subject == note.subject
    # The bookings desk has no account: its mail, and no notification for anybody else.
    assert len(_mails(app, desk)) == desk_before + 1
    with app.app_context():
        owners = set(db.session.scalars(sa.select(Notification.user_id)))
    assert owners == {client.id}


def test_opting_out_of_email_keeps_the_notification_and_sends_no_mail(app, booked):
    client, staff, booking_id = booked
    with app.test_request_context():
        services.save_email_preferences(db.session.get(User, client.id),
                                        {"booking_status": False})
    before_notes, before_mails = len(_notifications(app, client.id)), len(_mails(app, client.email))
    desk_before = len(_mails(app, app.config["BOOKINGS_DESK_EMAIL"]))
    _approve(app, booking_id, staff.id)
    assert len(_notifications(app, client.id)) == before_notes + 1
    assert len(_mails(app, client.email)) == before_mails
    assert len(_mails(app, app.config["BOOKINGS_DESK_EMAIL"])) == desk_before + 1


def _contract_mail(recipient: str) -> None:
    """A contract expiry warning (any kind of mail would do) to ``recipient``."""
    contract = type("Contract", (), {"reference": "HT-1", "ends_on": None, "category": None})()
    queue_email(recipient, "contract_expiring", supplier_name="洁美物业", contract=contract,
                link="http://localhost/suppliers/contracts/1", days=30)


def test_an_address_without_an_account_gets_mail_only_and_addresses_match_any_case(app):
    client = make_user(app, "client", email="chen.jingli@example.com")
    with app.test_request_context(), write_transaction():
        _contract_mail("desk@example.gov.cn")
        _contract_mail("Chen.Jingli@Example.COM")
    assert len(_mails(app, "desk@example.gov.cn")) == 1
    [note] = _notifications(app, client.id)
    assert note.link == "/suppliers/contracts/1" and note.kind == "contract_expiring"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1


def test_a_link_outside_the_portal_is_not_kept(app):
    with app.test_request_context():
        assert services.local_path("http://localhost/venues/1?x=1") == "/venues/1?x=1"
        assert services.local_path("https://evil.example.com/venues/1") == ""
        assert services.local_path("http://localhost//evil.example.com") == ""
        assert services.local_path("http://localhost/\\evil.example.com") == ""
        assert services.local_path("http://localhost.evil.example.com/x") == ""
        assert services.local_path(None) == ""


def test_password_reset_and_invitations_never_become_notifications(app):
    client = make_user(app, "client")
    with app.test_request_context():
        # Even an account that opted out of every kind gets its security mails by email.
        services.save_email_preferences(
            db.session.get(User, client.id),
            {kind.template: False for kind in kinds_for("client")})
        accounts.request_password_reset(client.email.upper())
        invited = accounts.create_account(role="staff", email="new.colleague@example.gov.cn",
                                          name="新同事")
        assert invited.id
    assert [m.template for m in _mails(app, client.email)] == ["reset_password"]
    assert [m.template for m in _mails(app, "new.colleague@example.gov.cn")] == ["invitation"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_every_mail_template_is_a_kind_or_email_only():
    templates = {path.stem for path in (ROOT / "templates" / "emails").glob("*.txt")}
    assert templates == set(BY_TEMPLATE) | EMAIL_ONLY
    assert not set(BY_TEMPLATE) & EMAIL_ONLY


def test_a_rolled_back_change_leaves_no_notification(app, booked):
    client, _staff, _booking_id = booked
    before = len(_notifications(app, client.id))
    with pytest.raises(RuntimeError), app.test_request_context(), write_transaction():
        _contract_mail(client.email)
        raise RuntimeError("the change failed")
    assert len(_notifications(app, client.id)) == before


# --- the inbox over HTTP -------------------------------------------------------------------------


def test_the_inbox_lists_newest_first_marks_unread_and_opening_marks_read(app, login_as):
    supervisor = login_as("supervisor")
    old, new = _add(app, supervisor.account.id, 2, link="/feedback/7")
    html = supervisor.get("/inbox/").get_data(as_text=True)
    assert html.index(f'id="notification-{new}"') < html.index(f'id="notification-{old}"')
    assert html.count('class="notification unread"') == 2
    assert re.search(r'id="unread-count">2<', html)

    response = supervisor.post(f"/inbox/{new}/open",
                               data=form_data(supervisor, "/inbox/"))
    assert response.status_code == 303 and response.headers["Location"] == "/feedback/7"
    html = supervisor.get("/inbox/").get_data(as_text=True)
    assert html.count('class="notification unread"') == 1
    assert re.search(r'id="unread-count">1<', html)
    # Opening it again is harmless: it keeps its first reading time.
    [first] = [n for n in _notifications(app, supervisor.account.id) if n.id == new]
    supervisor.post(f"/inbox/{new}/open", data=form_data(supervisor, "/inbox/"))
    [again] = [n for n in _notifications(app, supervisor.account.id) if n.id == new]
    assert again.read_at == first.read_at

    # htmx: the open button answers with HX-Redirect.
    response = supervisor.post(f"/inbox/{old}/open", data=form_data(supervisor, "/inbox/"),
                               headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/feedback/7"


def test_mark_read_and_mark_all_read_work_without_and_with_htmx(app, login_as):
    client = login_as("client")
    ids = _add(app, client.account.id, 3)
    response = client.post(f"/inbox/{ids[0]}/read", data=form_data(client, "/inbox/", page="1"))
    assert response.status_code == 303 and response.headers["Location"] == "/inbox/?page=1"
    response = client.post(f"/inbox/{ids[1]}/read", data=form_data(client, "/inbox/"),
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="notification-{ids[1]}"' in response.get_data(as_text=True)
    assert "unread" not in response.get_data(as_text=True).split("\n")[0]
    assert "inbox-changed" in response.headers["HX-Trigger"]
    assert re.search(r'id="unread-count">1<', client.get("/inbox/badge").get_data(as_text=True))

    response = client.post("/inbox/read-all", data=form_data(client, "/inbox/"))
    assert response.status_code == 303
    html = client.get("/inbox/").get_data(as_text=True)
    assert 'class="notification unread"' not in html and re.search(r'id="unread-count">0<', html)
    # Without a CSRF token nothing happens.
    assert client.post("/inbox/read-all").status_code == 400


def test_another_accounts_notification_is_a_404(app, login_as):
    owner, other = login_as("client"), login_as("client")
    [note_id] = _add(app, owner.account.id, 1)
    for action in ("open", "read"):
        response = other.post(f"/inbox/{note_id}/{action}", data=form_data(other, "/inbox/"))
        assert response.status_code == 404, action
    assert f"notification-{note_id}" not in other.get("/inbox/").get_data(as_text=True)
    [note] = _notifications(app, owner.account.id)
    assert note.unread


def test_the_badge_is_never_frozen_in_a_cached_page(app, login_as, count_queries):
    staff = login_as("staff")
    make_venue(app)
    html = staff.get("/venues/queue").get_data(as_text=True)
    assert re.search(r'id="unread-count">0<', html)
    assert 'id="menu-unread"' not in html  # nothing unread: the menu button says nothing
    _add(app, staff.account.id, 2)
    with count_queries() as queries:
        html = staff.get("/venues/queue").get_data(as_text=True)
    # served from the cache (no booking read), with the count filled in afresh, also on the
    # phone's closed menu button
    assert not [q for q in queries if "booking" in q]
    assert re.search(r'id="unread-count">2<', html)
    assert re.search(r'<summary>[^<]*<span class="count unread" id="menu-unread">2<', html)
    assert "portal:unread-badge" not in html and "portal:unread-menu" not in html
    # The badge partial for htmx polling, and anonymous pages without any badge.
    badge = staff.get("/inbox/badge")
    assert badge.headers["Cache-Control"] == "no-store"
    assert re.search(r'id="unread-count">2<', badge.get_data(as_text=True))
    anonymous = app.test_client().get("/venues/").get_data(as_text=True)
    assert "inbox-badge" not in anonymous and "portal:unread-badge" not in anonymous


def test_the_badge_polls_every_minute_and_on_load(login_as):
    html = login_as("supervisor").get("/").get_data(as_text=True)
    badge = re.search(r'<li class="nav-inbox"[^>]*>', html).group(0)
    assert 'hx-get="/inbox/badge"' in badge
    assert 'hx-trigger="load, every 60s, inbox-changed from:body"' in badge
    assert 'hx-swap="innerHTML"' in badge  # the <li> stays: no reload loop


def test_the_inbox_and_the_badge_run_a_fixed_number_of_queries(app, login_as, count_queries):
    client = login_as("client")
    _add(app, client.account.id, 2)

    def counts():
        result = []
        for path in ("/inbox/", "/inbox/?page=2", "/inbox/badge"):
            with count_queries() as queries:
                assert client.get(path).status_code == 200
            result.append(len(queries))
        return result

    few = counts()
    _add(app, client.account.id, 60)
    many = counts()
    assert many == few
    assert "下一页" in client.get("/inbox/").get_data(as_text=True)  # 62 paginate


# --- preferences ---------------------------------------------------------------------------------


def test_preferences_list_the_kinds_of_the_role_and_are_saved_per_user(app, login_as):
    supervisor = login_as("supervisor")
    html = supervisor.get("/inbox/preferences?lang=en").get_data(as_text=True)
    assert 'name="feedback_status"' in html and 'name="meeting_status"' in html
    assert 'name="booking_status"' not in html and 'name="reset_password"' not in html
    assert re.search(r'name="feedback_status"[^>]*checked|checked[^>]*name="feedback_status"',
                     html)  # on by default

    response = supervisor.post("/inbox/preferences", data=form_data(
        supervisor, "/inbox/preferences", meeting_status="y"))
    assert response.status_code == 303
    with app.app_context():
        saved = dict(db.session.execute(sa.select(
            NotificationPreference.kind, NotificationPreference.email).where(
            NotificationPreference.user_id == supervisor.account.id)).all())
    assert saved == {"feedback_status": False, "meeting_status": True}
    html = supervisor.get("/inbox/preferences").get_data(as_text=True)
    assert not re.search(r'name="feedback_status"[^>]*checked', html)
    # Saving again (and from another user) updates in place.
    supervisor.post("/inbox/preferences", data=form_data(
        supervisor, "/inbox/preferences", feedback_status="y", meeting_status="y"))
    other = login_as("supervisor")
    other.post("/inbox/preferences", data=form_data(other, "/inbox/preferences"))
    with app.test_request_context():
        assert services.email_preferences(db.session.get(User, supervisor.account.id)) == {
            "feedback_status": True, "meeting_status": True}
        assert services.email_preferences(db.session.get(User, other.account.id)) == {
            "feedback_status": False, "meeting_status": False}


def test_the_user_and_the_unread_count_come_in_one_round_trip(app, login_as, count_queries):
    """Every logged-in page loads the user and shows the badge: one statement reads both
    (issue 17, the fixed cost of a page), and the count is right."""
    client = login_as("client")
    _add(app, client.account.id, 3)
    with count_queries() as queries:
        html = client.get("/inbox/").get_data(as_text=True)
    assert re.search(r'id="unread-count">3<', html)
    counting = [q for q in queries if "notification.read_at IS NULL" in q]
    assert len(counting) == 1 and "user_account" in counting[0]


def test_a_commit_in_the_request_drops_the_preloaded_unread_count(app):
    """A request that writes (marks a notification read, adds one) counts afresh."""
    from portal.notifications import services as notes

    user = make_user(app, "client")
    first, _second = _add(app, user.id, 2)
    with app.test_request_context():
        assert notes.load_user_with_unread(user.id).id == user.id
        assert notes.unread_count(user.id) == 2
        notes.mark_read(db.session.get(Notification, first))
        assert notes.unread_count(user.id) == 1
        assert notes.load_user_with_unread(10**9) is None
