"""The supplier channel: accounts made from contacts, what a supplier sees (two suppliers: A
never sees B's), what it may do and when it may no longer act."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.auth.models import User
from portal.database import write_transaction
from portal.errors import ServiceError
from portal.extensions import db
from portal.feedback import services as feedback_services
from portal.feedback.models import Feedback, FeedbackStatus
from portal.i18n import local_today
from portal.meetings import services as meeting_services
from portal.meetings.models import ActionItem, ActionStatus, MeetingStatus
from portal.notifications.models import Notification
from portal.outbox.models import OutboxMessage
from portal.partners import services
from portal.partners.models import ActionItemPhoto, ProposalStatus, SupplierNote
from portal.suppliers.models import ServiceContract, SupplierContact
from tests.conftest import csrf_token, login
from tests.feedback.factories import make_feedback
from tests.meetings.factories import make_action, make_meeting
from tests.partners.factories import first_contact, make_two_suppliers


@pytest.fixture
def world(app):
    return make_two_suppliers(app)


def accept(app, ctx, world, key: str) -> int:
    """A supervisor's item about supplier ``key``'s service, accepted by staff (transferred)."""
    item_id = make_feedback(app, world["supervisor"].id, world[key]["category"],
                            description=f"{key} 走廊垃圾未清")
    with ctx(world["staff"].id):
        staff = db.session.get(User, world["staff"].id)
        feedback_services.apply_transition(item_id, "accept", staff)
    return item_id


def client_of(app, account):
    test_client = app.test_client()
    assert login(test_client, account).status_code == 303
    return test_client


def post(test_client, url, data, page):
    return test_client.post(url, data={**data, "csrf_token": csrf_token(test_client, page)})


def recipients(app, template: str) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(OutboxMessage.recipient).where(
            OutboxMessage.template == template)))


def png() -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    buffer.seek(0)
    return FileStorage(buffer, filename="done.png", content_type="image/png")


# --- accounts ----------------------------------------------------------------------------------


def test_staff_invite_a_contact_through_the_invitation_flow(app, login_as):
    from tests.feedback.factories import make_supplier

    supplier = make_supplier(app, email="Manager@Example.com")
    contact = first_contact(app, supplier)
    staff = login_as("staff")
    page = f"/suppliers/{supplier}"
    response = post(staff, f"/partner/contacts/{contact}/account", {}, page)
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.supplier_contact_id == contact))
        assert (user.role, user.supplier_id, user.email) == ("supplier", supplier,
                                                             "manager@example.com")
        assert user.password_hash is None
    assert recipients(app, "invitation") == {"manager@example.com"}
    assert "Invited to the portal" in staff.get(page + "?lang=en").get_data(as_text=True) or \
        "已邀请" in staff.get(page).get_data(as_text=True)
    # A second invitation of the same contact is refused with a message, nothing created.
    post(staff, f"/partner/contacts/{contact}/account", {}, page)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.supplier_id == supplier)) == 1


def test_an_admin_cannot_make_a_supplier_account_by_choosing_the_role(app, ctx):
    from portal.auth import services as accounts

    with ctx(), pytest.raises(ServiceError) as refused:
        accounts.create_account(role="supplier", email="x@example.com", name="X")
    assert refused.value.field == "role"


def test_the_database_refuses_a_supplier_account_without_supplier(app, ctx):
    with ctx(), pytest.raises(sa.exc.IntegrityError), write_transaction():
        db.session.add(User(email="y@example.com", name="Y", role="supplier"))


# --- what a supplier sees: A never B's --------------------------------------------------------


def test_a_supplier_sees_its_own_transferred_items_and_never_the_others(app, ctx, world):
    mine, theirs = accept(app, ctx, world, "a"), accept(app, ctx, world, "b")
    submitted = make_feedback(app, world["supervisor"].id, world["a"]["category"])
    a = client_of(app, world["a"]["account"])
    listing = a.get("/partner/feedback?state=all").get_data(as_text=True)
    assert f"/partner/feedback/{mine}" in listing
    assert f"/partner/feedback/{theirs}" not in listing
    assert f"/partner/feedback/{submitted}" not in listing
    assert a.get(f"/partner/feedback/{mine}").status_code == 200
    assert a.get(f"/partner/feedback/{theirs}").status_code == 404
    assert a.get(f"/partner/feedback/{submitted}").status_code == 404
    # Internal pages and the supervisor's and staff's views do not exist for it: 404.
    assert a.get(f"/feedback/{mine}").status_code == 404
    assert a.get("/feedback/").status_code == 404
    assert a.get(f"/suppliers/{world['a']['supplier']}").status_code == 404
    assert a.get(f"/suppliers/contracts/{world['a']['contract']}").status_code == 404
    with app.test_request_context():
        a_user = db.session.get(User, world["a"]["account"].id)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback).where(
            Feedback.visible_to(a_user))) == 1


def test_contracts_minutes_action_items_and_scorecard_are_the_suppliers_own(app, world):
    a_meeting = make_meeting(app, [world["a"]["supplier"]], status=MeetingStatus.PUBLISHED,
                             title="A 联席会议")
    b_meeting = make_meeting(app, [world["b"]["supplier"]], status=MeetingStatus.PUBLISHED,
                             title="B 联席会议")
    planned = make_meeting(app, [world["a"]["supplier"]], title="A 计划会议")
    a_action = make_action(app, a_meeting, supplier_id=world["a"]["supplier"],
                           description="A 加强巡查")
    b_action = make_action(app, b_meeting, supplier_id=world["b"]["supplier"],
                           description="B 加强巡查")
    a = client_of(app, world["a"]["account"])
    contracts = a.get("/partner/contracts").get_data(as_text=True)
    assert f'id="contract-{world["a"]["contract"]}"' in contracts
    assert f'id="contract-{world["b"]["contract"]}"' not in contracts
    minutes = a.get("/partner/meetings").get_data(as_text=True)
    assert "A 联席会议" in minutes and "B 联席会议" not in minutes and "A 计划会议" not in minutes
    assert a.get(f"/partner/meetings/{a_meeting}").status_code == 200
    assert a.get(f"/partner/meetings/{b_meeting}").status_code == 404
    assert a.get(f"/partner/meetings/{planned}").status_code == 404
    assert a.get(f"/meetings/{a_meeting}").status_code == 404
    actions = a.get("/partner/actions?state=all").get_data(as_text=True)
    assert "A 加强巡查" in actions and "B 加强巡查" not in actions
    assert a.get(f"/partner/actions/{a_action}").status_code == 200
    assert a.get(f"/partner/actions/{b_action}").status_code == 404
    assert a.get("/partner/scorecard").status_code == 200
    assert a.get(f"/suppliers/{world['b']['supplier']}/scorecard").status_code == 404


def test_search_finds_the_suppliers_own_records_on_its_pages_and_never_the_others(
        app, ctx, world):
    """Issue 13: a supplier's account finds its own transferred items, contracts and
    published minutes, linked to its partners pages; never another supplier's, nothing
    internal (on both engines: the statement is the engine's own)."""
    from portal.search import services as search

    mine, theirs = accept(app, ctx, world, "a"), accept(app, ctx, world, "b")
    submitted = make_feedback(app, world["supervisor"].id, world["a"]["category"],
                              description="a 走廊垃圾未清 未受理")
    a_meeting = make_meeting(app, [world["a"]["supplier"]], status=MeetingStatus.PUBLISHED,
                             title="A 保洁联席会议")
    b_meeting = make_meeting(app, [world["b"]["supplier"]], status=MeetingStatus.PUBLISHED,
                             title="B 保洁联席会议")
    planned = make_meeting(app, [world["a"]["supplier"]], title="A 保洁联席会议（计划）")

    def found(account, text):
        with app.test_request_context():
            user = db.session.get(User, account.id)
            return {group.key: {hit.object_id: hit.url for hit in group.hits}
                    for group in search.search(user, text)}

    a_found = found(world["a"]["account"], "走廊垃圾")
    assert a_found == {"feedback": {mine: f"/partner/feedback/{mine}"}}
    assert theirs not in a_found["feedback"] and submitted not in a_found["feedback"]
    assert found(world["b"]["account"], "走廊垃圾") == {
        "feedback": {theirs: f"/partner/feedback/{theirs}"}}
    contract = world["a"]["contract"]
    assert found(world["a"]["account"], "保洁服务合同") == {
        "contracts": {contract: f"/partner/contracts#contract-{contract}"}}
    assert found(world["a"]["account"], "保洁联席会议") == {
        "meetings": {a_meeting: f"/partner/meetings/{a_meeting}"}}
    assert b_meeting not in found(world["a"]["account"], "B 保洁联席会议").get("meetings", {})
    assert planned not in found(world["a"]["account"], "计划").get("meetings", {})
    # Modules it has no page for are left out (its supplier, rooms, the staff directory).
    with app.test_request_context():
        user = db.session.get(User, world["a"]["account"].id)
        assert not {source.key for source in search.sources_for(user)} & {
            "suppliers", "tenants", "rooms", "people"}
    # The results page links to the supplier's own pages, which open.
    a = client_of(app, world["a"]["account"])
    html = a.get("/search?q=走廊垃圾").get_data(as_text=True)
    assert f'href="/partner/feedback/{mine}"' in html
    assert f"/feedback/{theirs}" not in html and f'href="/feedback/{mine}"' not in html
    assert a.get(f"/partner/feedback/{mine}").status_code == 200
    assert a.get(f"/partner/meetings/{a_meeting}").status_code == 200
    assert f'id="contract-{contract}"' in a.get("/partner/contracts").get_data(as_text=True)


# --- transfer, notes, proposals ----------------------------------------------------------------


def test_a_transfer_mails_the_suppliers_accounts_and_contact_only(app, ctx, world):
    accept(app, ctx, world, "a")
    assert recipients(app, "feedback_transferred") == {"user-a@example.com",
                                                       "contact-a@example.com"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == world["a"]["account"].id,
            Notification.kind == "feedback_transferred")) == 1


def test_answer_propose_staff_confirm_supervisor_closes(app, ctx, world):
    item = accept(app, ctx, world, "a")
    a = client_of(app, world["a"]["account"])
    page = f"/partner/feedback/{item}"
    assert post(a, f"{page}/notes", {"kind": "progress", "body": "已安排保洁员"},
                page).status_code == 303
    assert post(a, f"{page}/notes", {"kind": "proposal", "body": "已清理并增加巡查"},
                page).status_code == 303
    # A second proposal while one waits: refused beside the field, nothing saved.
    again = post(a, f"{page}/notes", {"kind": "proposal", "body": "再次提议"}, page)
    assert again.status_code == 422
    assert recipients(app, "supplier_note") == {world["staff"].email}
    with app.app_context():
        notes = db.session.scalars(sa.select(SupplierNote).order_by(SupplierNote.id)).all()
        assert [(n.kind, n.status) for n in notes] == [("progress", None),
                                                       ("proposal", "pending")]
        proposal = notes[1].id
        assert db.session.get(Feedback, item).status == FeedbackStatus.ACCEPTED
    # The supervisor does not see it resolved before staff confirm.
    supervisor = client_of(app, world["supervisor"])
    assert "已清理并增加巡查" not in supervisor.get(f"/feedback/{item}").get_data(as_text=True)
    staff = client_of(app, world["staff"])
    staff_page = staff.get(f"/feedback/{item}").get_data(as_text=True)
    assert 'id="supplier-notes"' in staff_page and "已安排保洁员" in staff_page
    confirmed = post(staff, f"/partner/proposals/{proposal}/confirm",
                     {f"proposal-{proposal}-expected_status": "pending"}, f"/feedback/{item}")
    assert confirmed.status_code == 303
    with app.app_context():
        fresh = db.session.get(Feedback, item)
        assert fresh.status == FeedbackStatus.RESOLVED
        assert fresh.response == "已清理并增加巡查"
        assert db.session.get(SupplierNote, proposal).status == ProposalStatus.CONFIRMED
    assert recipients(app, "proposal_decided") == {"user-a@example.com"}
    # No longer transferred-and-open: a note is a 404.
    assert post(a, f"{page}/notes", {"kind": "progress", "body": "补充"},
                page).status_code == 404
    with ctx(world["supervisor"].id):
        user = db.session.get(User, world["supervisor"].id)
        closed = feedback_services.apply_transition(item, "close", user, handling_rating=5)
        assert closed.status == FeedbackStatus.CLOSED


def test_staff_decline_needs_a_reason(app, ctx, world):
    item = accept(app, ctx, world, "a")
    with ctx(world["a"]["account"].id):
        user = db.session.get(User, world["a"]["account"].id)
        note = services.post_note(user, db.session.get(Feedback, item),
                                  services.NoteInput("proposal", "已处理"))
        note_id = note.id
    with ctx(world["staff"].id):
        staff = db.session.get(User, world["staff"].id)
        with pytest.raises(ServiceError):
            services.decide_proposal(db.session.get(SupplierNote, note_id), "decline", staff)
        declined = services.decide_proposal(db.session.get(SupplierNote, note_id), "decline",
                                            staff, reason="现场仍有垃圾")
        assert declined.status == ProposalStatus.DECLINED
        assert db.session.get(Feedback, item).status == FeedbackStatus.ACCEPTED


def test_posting_on_another_suppliers_item_is_a_404(app, ctx, world):
    theirs = accept(app, ctx, world, "b")
    mine = accept(app, ctx, world, "a")
    a = client_of(app, world["a"]["account"])
    page = f"/partner/feedback/{mine}"
    assert post(a, f"/partner/feedback/{theirs}/notes", {"kind": "progress", "body": "x"},
                page).status_code == 404
    # An empty answer: the message beside the field, nothing saved.
    empty = post(a, f"{page}/notes", {"kind": "progress", "body": ""}, page)
    assert empty.status_code == 422
    assert 'id="body-error"' in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupplierNote)) == 0


# --- reading only: contact removed, no contract in force -------------------------------------


def test_a_removed_contact_can_read_but_not_act(app, ctx, world):
    item = accept(app, ctx, world, "a")
    contact = first_contact(app, world["a"]["supplier"])
    with ctx(), write_transaction():
        db.session.delete(db.session.get(SupplierContact, contact))
    with ctx():
        assert db.session.get(User, world["a"]["account"].id).supplier_contact_id is None
    a = client_of(app, world["a"]["account"])
    page = f"/partner/feedback/{item}"
    html = a.get(page).get_data(as_text=True)
    assert 'id="acting-problem"' in html and 'id="note-form"' not in html.split(
        'id="acting-problem"')[0]
    refused = post(a, f"{page}/notes", {"kind": "progress", "body": "已处理"}, page)
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupplierNote)) == 0


def test_a_supplier_without_a_contract_in_force_can_read_but_not_act(app, ctx, world):
    item = accept(app, ctx, world, "a")
    with ctx(), write_transaction():
        contract = db.session.get(ServiceContract, world["a"]["contract"])
        contract.ends_on = local_today() - timedelta(days=1)
    a = client_of(app, world["a"]["account"])
    assert a.get("/partner/feedback?state=all").status_code == 200
    assert a.get(f"/partner/feedback/{item}").status_code == 200
    with ctx(world["a"]["account"].id):
        user = db.session.get(User, world["a"]["account"].id)
        assert services.acting_problem(user) is not None
        with pytest.raises(ServiceError):
            services.post_note(user, db.session.get(Feedback, item),
                               services.NoteInput("progress", "已处理"))


# --- action items ------------------------------------------------------------------------------


def test_a_supplier_marks_its_action_item_done_with_photos_and_staff_verify(app, ctx, world):
    meeting = make_meeting(app, [world["a"]["supplier"]], status=MeetingStatus.HELD)
    with app.app_context():
        due = local_today() + timedelta(days=2)
    action = make_action(app, meeting, supplier_id=world["a"]["supplier"], due_on=due)
    a = client_of(app, world["a"]["account"])
    page = f"/partner/actions/{action}"
    home = a.get("/").get_data(as_text=True)
    assert "/partner/actions?state=due" in home
    response = a.post(page, data={"csrf_token": csrf_token(a, page), "note": "已增加巡查频次",
                                  "expected_status": "open", "photos": [png()]},
                      content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        done = db.session.get(ActionItem, action)
        assert done.status == ActionStatus.DONE and "已增加巡查频次" in done.note
        photo = db.session.scalar(sa.select(ActionItemPhoto))
        assert photo.action_item_id == action
        name = photo.file_name
    staff, b = client_of(app, world["staff"]), client_of(app, world["b"]["account"])
    for test_client, status in ((a, 200), (staff, 200), (b, 404)):
        with test_client.get(f"{page}/photos/{name}") as response:
            assert response.status_code == status
    with ctx(world["staff"].id):
        staff_user = db.session.get(User, world["staff"].id)
        verified = meeting_services.act_on_action(db.session.get(ActionItem, action), "verify",
                                                  staff_user)
        assert verified.status == ActionStatus.VERIFIED


def test_a_non_image_photo_is_refused_beside_the_field(app, world):
    meeting = make_meeting(app, [world["a"]["supplier"]], status=MeetingStatus.HELD)
    action = make_action(app, meeting, supplier_id=world["a"]["supplier"])
    a = client_of(app, world["a"]["account"])
    page = f"/partner/actions/{action}"
    bad = FileStorage(io.BytesIO(b"not an image"), filename="x.png", content_type="image/png")
    response = a.post(page, data={"csrf_token": csrf_token(a, page), "note": "完成",
                                  "photos": [bad]}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="photos-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ActionItem, action).status == ActionStatus.OPEN


# --- the work list and bounded queries ---------------------------------------------------------


def test_the_home_work_list_shows_items_waiting_for_the_answer(app, ctx, world):
    accept(app, ctx, world, "a")
    a = client_of(app, world["a"]["account"])
    assert "/partner/feedback?state=waiting" in a.get("/").get_data(as_text=True)
    b = client_of(app, world["b"]["account"])
    assert "/partner/feedback?state=waiting" not in b.get("/").get_data(as_text=True)


def test_list_pages_run_a_bounded_number_of_queries(app, ctx, world, count_queries):
    a = client_of(app, world["a"]["account"])
    counts = []
    for _round in range(2):
        for _n in range(3):
            accept(app, ctx, world, "a")
        with count_queries() as queries:
            assert a.get("/partner/feedback?state=all").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]



def test_the_staffs_cached_item_page_shows_a_new_answer(app, ctx, world):
    item = accept(app, ctx, world, "a")
    staff = client_of(app, world["staff"])
    assert "已安排保洁员" not in staff.get(f"/feedback/{item}").get_data(as_text=True)
    a = client_of(app, world["a"]["account"])
    page = f"/partner/feedback/{item}"
    post(a, f"{page}/notes", {"kind": "progress", "body": "已安排保洁员"}, page)
    assert "已安排保洁员" in staff.get(f"/feedback/{item}").get_data(as_text=True)


def test_a_decline_without_reason_is_refused_beside_the_field(app, ctx, world):
    item = accept(app, ctx, world, "a")
    with ctx(world["a"]["account"].id):
        user = db.session.get(User, world["a"]["account"].id)
        note_id = services.post_note(user, db.session.get(Feedback, item),
                                     services.NoteInput("proposal", "已处理")).id
    staff = client_of(app, world["staff"])
    url = f"/partner/proposals/{note_id}/decline"
    data = {f"proposal-{note_id}-expected_status": "pending"}
    refused = post(staff, url, data, f"/feedback/{item}")
    assert refused.status_code == 422
    assert f'id="proposal-{note_id}-reason-error"' in refused.get_data(as_text=True)
    post(staff, url, {**data, f"proposal-{note_id}-reason": "现场仍有垃圾"}, f"/feedback/{item}")
    # Decided already: a second decision is refused with who decided (409), nothing changes.
    again = post(staff, f"/partner/proposals/{note_id}/confirm", data, f"/feedback/{item}")
    assert again.status_code == 409
    with app.app_context():
        assert db.session.get(SupplierNote, note_id).status == ProposalStatus.DECLINED
        assert db.session.get(Feedback, item).status == FeedbackStatus.ACCEPTED


def test_a_supplier_sees_the_photos_of_its_transferred_items_only(app, ctx, world):
    from portal import uploads
    from portal.feedback.models import FeedbackPhoto

    items = {key: accept(app, ctx, world, key) for key in ("a", "b")}
    names = {}
    with ctx(), write_transaction():
        for key, item in items.items():
            image = uploads.store_image(png(), feedback_services.PHOTO_FOLDER)
            db.session.add(FeedbackPhoto(feedback_id=item, file_name=image.name,
                                         width=image.width, height=image.height))
            names[key] = image.name
    a = client_of(app, world["a"]["account"])
    assert names["a"] in a.get(f"/partner/feedback/{items['a']}").get_data(as_text=True)
    for key, status in (("a", 200), ("b", 404)):
        with a.get(f"/feedback/{items[key]}/photos/{names[key]}") as response:
            assert response.status_code == status
