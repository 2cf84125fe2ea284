"""The steps of meetings and action items through the one transition mechanism: the buttons
a page offers (MEETING_FLOW/ACTION_FLOW.offered), the state the page showed, who hears of a
step, the reason beside its field, and the due date of an action item not before its meeting."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_login import current_user

from portal.auth.models import User
from portal.extensions import db
from portal.meetings import services
from portal.meetings.models import ActionItem, Meeting, MeetingStatus
from tests.conftest import make_user
from tests.feedback.factories import make_supplier
from tests.helpers import form_data, outbox_for
from tests.meetings.factories import make_action, make_meeting
from tests.meetings.test_meetings import _today
from tests.races import STALE, status_changes

SUPPLIER_EMAIL = "contact@lifts.example.com"


def _supplier(app, world) -> int:
    return make_supplier(app, category_ids=(world.category_id,), email=SUPPLIER_EMAIL)


# --- an action item falls due on or after its meeting ------------------------------------------


def _action_fields(**changes) -> dict:
    fields = {"description": "更换电梯钢丝绳", "supplier_id": "0",
              "responsible_person": "郑海", "due_on": ""}
    fields.update(changes)
    return fields


def test_a_new_action_item_due_before_its_meeting_is_refused_beside_the_field(
        app, login_as, world):
    meeting_day = _today() - timedelta(days=3)
    meeting_id = make_meeting(app, [world.supplier_id], status="held", day=meeting_day)
    staff = login_as("staff")
    path = f"/meetings/{meeting_id}/actions/new"
    early = (meeting_day - timedelta(days=1)).isoformat()
    response = staff.post(path, data=form_data(staff, path, **_action_fields(due_on=early)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="due_on-error"' in html
    assert "待办事项的完成期限不能早于会议日期" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionItem)) == 0
    english = staff.post(f"{path}?lang=en",
                         data=form_data(staff, path, **_action_fields(due_on=early)))
    assert "An action item cannot fall due before its meeting" in \
        english.get_data(as_text=True)
    # The meeting's own day is allowed.
    saved = staff.post(path, data=form_data(
        staff, path, **_action_fields(due_on=meeting_day.isoformat())))
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(ActionItem.due_on)) == meeting_day


def test_moving_an_action_item_before_its_meeting_is_refused_and_nothing_changes(
        app, login_as, world):
    meeting_day = _today() - timedelta(days=3)
    meeting_id = make_meeting(app, [world.supplier_id], status="held", day=meeting_day)
    due = _today() + timedelta(days=10)
    action_id = make_action(app, meeting_id, description="更换电梯钢丝绳", due_on=due)
    staff = login_as("staff")
    path = f"/meetings/actions/{action_id}/edit"
    response = staff.post(path, data=form_data(staff, path, **_action_fields(
        description="更换电梯钢丝绳并复检", due_on=(meeting_day - timedelta(days=7)).isoformat())))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="due_on-error"' in html and "待办事项的完成期限不能早于会议日期" in html
    with app.app_context():
        action = db.session.get(ActionItem, action_id)
        assert action.due_on == due and action.description == "更换电梯钢丝绳"


# --- the buttons come from the table ----------------------------------------------------------


def test_the_meeting_page_offers_the_steps_of_the_table(app, login_as, world):
    planned = make_meeting(app, [world.supplier_id])
    held = make_meeting(app, [world.supplier_id], status="held")
    make_action(app, held, description="补充消防巡检记录", person="", due_on=None)
    staff = login_as("staff")
    page = staff.get(f"/meetings/{planned}?lang=en").get_data(as_text=True)
    assert "Mark as held" in page and "Cancel the meeting" in page
    assert 'name="expected_status" value="planned"' in page
    page = staff.get(f"/meetings/{held}?lang=en").get_data(as_text=True)
    # Publishing waits for every action item's owner and due date: no button, the list says.
    assert 'id="missing-owners"' in page and "Publish the minutes" not in page
    assert "Mark as done" in page and ">Verify<" not in page
    assert 'name="expected_status" value="open"' in page


def test_a_cancelled_meetings_action_items_offer_no_step(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="cancelled")
    action_id = make_action(app, meeting_id, supplier_id=world.supplier_id)
    staff = login_as("staff")
    page = staff.get(f"/meetings/{meeting_id}?lang=en").get_data(as_text=True)
    assert "Mark as done" not in page
    path = f"/meetings/actions/{action_id}/act/complete"
    response = staff.post(path, data=form_data(staff, f"/meetings/{meeting_id}",
                                               expected_status="open"))
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(ActionItem, action_id).status == "open"


def test_cancelling_without_a_reason_says_so_beside_the_reason(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id])
    staff = login_as("staff")
    response = staff.post(f"/meetings/{meeting_id}/act/cancel",
                          data=form_data(staff, f"/meetings/{meeting_id}",
                                         expected_status="planned", reason=" "))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="meeting-cancel-reason-error"' in html and "请填写原因" in html
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).status == MeetingStatus.PLANNED
    assert status_changes(app, "meeting", meeting_id) == []


def test_a_step_on_a_page_that_moved_on_names_who_moved_it(app, ctx, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    first = make_user(app, "staff", name="李科长")
    with ctx(first.id):
        services.act(db.session.get(Meeting, meeting_id), "publish",
                     current_user._get_current_object(), expected="held")
    staff = login_as("staff")
    response = staff.post(f"/meetings/{meeting_id}/act/publish",
                          data=form_data(staff, f"/meetings/{meeting_id}",
                                         expected_status="held"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert STALE in html and "李科长" in html and "纪要已发布" in html
    assert status_changes(app, "meeting", meeting_id) == [["held", "minutes_published"]]


# --- who hears of a step -----------------------------------------------------------------------


def test_published_minutes_reach_the_attendees_and_each_supplier_its_own_actions(
        app, login_as, world):
    lifts = _supplier(app, world)
    clerk = make_user(app, "staff", email="clerk@example.com", locale="en")
    meeting_id = make_meeting(app, [world.supplier_id, lifts], status="held",
                              staff_ids=(clerk.id,))
    make_action(app, meeting_id, supplier_id=lifts, description="更换电梯钢丝绳")
    make_action(app, meeting_id, supplier_id=world.supplier_id, description="增派保洁员")
    staff = login_as("staff")
    response = staff.post(f"/meetings/{meeting_id}/act/publish",
                          data=form_data(staff, f"/meetings/{meeting_id}",
                                         expected_status="held"))
    assert response.status_code == 303
    [to_supplier] = outbox_for(app, SUPPLIER_EMAIL)
    assert "更换电梯钢丝绳" in to_supplier.body_text
    assert "增派保洁员" not in to_supplier.body_text  # another supplier's action
    assert "/meetings/" not in to_supplier.body_text  # no account, so no link
    [to_clerk] = outbox_for(app, clerk.email)
    assert "Minutes published" in to_clerk.subject  # in the attendee's language
    assert "更换电梯钢丝绳" in to_clerk.body_text and "增派保洁员" in to_clerk.body_text
    assert f"/meetings/{meeting_id}" in to_clerk.body_text


def test_a_cancelled_meeting_tells_the_attendees_why(app, ctx, world):
    lifts = _supplier(app, world)
    meeting_id = make_meeting(app, [lifts])
    with ctx(world.staff_id):
        services.act(db.session.get(Meeting, meeting_id), "cancel",
                     current_user._get_current_object(), reason="电梯停运检修")
    [message] = outbox_for(app, SUPPLIER_EMAIL)
    assert "已取消" in message.subject and "电梯停运检修" in message.body_text


def test_verifying_and_reopening_an_action_item_tell_its_supplier(app, ctx, world):
    lifts = _supplier(app, world)
    meeting_id = make_meeting(app, [lifts], status="minutes_published")
    action_id = make_action(app, meeting_id, supplier_id=lifts, description="更换电梯钢丝绳",
                            status="done")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        action = services.act_on_action(db.session.get(ActionItem, action_id), "verify", actor)
        assert action.status == "verified" and action.verified_by_id == actor.id
        action = services.act_on_action(action, "reopen", actor, reason="复检不合格",
                                        expected="verified")
        assert action.status == "open" and action.verified_by_id is None
        assert "复检不合格" in action.note
        staff_email = db.session.get(User, world.staff_id).email
    verified, reopened = outbox_for(app, SUPPLIER_EMAIL)
    assert "已核实" in verified.subject and "更换电梯钢丝绳" in verified.body_text
    assert "复检不合格" in reopened.body_text
    assert outbox_for(app, staff_email) == []
    assert [change for change in status_changes(app, "action_item", action_id)] == [
        ["done", "verified"], ["verified", "open"]]
