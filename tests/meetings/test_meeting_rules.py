"""Rules around the meeting page: amendments only through the minutes editor, suppliers
un-invited, representatives from the suppliers' contacts, one staff query, the iCal helpers,
the scorecard's figures and rounds, and labels in the reader's language."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from flask_login import current_user

from portal.database import write_transaction
from portal.errors import NotAllowed, ServiceError
from portal.extensions import db
from portal.markdown import render_markdown
from portal.meetings import services
from portal.meetings.models import (
    AgendaItem,
    AgendaKind,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    MinutesRevision,
)
from portal.suppliers import services as supplier_services
from portal.suppliers.models import Supplier
from tests.conftest import make_user
from tests.feedback.factories import make_category, make_feedback, make_supplier
from tests.helpers import form_data
from tests.meetings.factories import World, make_agenda_item, make_meeting
from tests.meetings.test_meetings import _feedback, _plan, _today

# --- amendments go only through the minutes editor --------------------------------------------


def test_the_amend_transition_is_refused_by_act(app, ctx, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id], status=MeetingStatus.PUBLISHED)
    with ctx(world.staff_id), pytest.raises(NotAllowed):
        services.act(db.session.get(Meeting, meeting_id), "amend",
                     current_user._get_current_object(), reason="更正")
    staff = login_as("staff")
    page = f"/meetings/{meeting_id}"
    response = staff.post(f"/meetings/{meeting_id}/act/amend",
                          data=form_data(staff, page, reason="更正笔误"))
    assert response.status_code == 409  # not a step of this page: the page says why
    assert 'id="page-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MinutesRevision)) == 0
        assert db.session.get(Meeting, meeting_id).status == MeetingStatus.PUBLISHED
    # nothing was done, so nothing says "Done"
    assert "Done" not in staff.get(f"{page}?lang=en").get_data(as_text=True)


def test_an_unknown_transition_is_refused_not_an_error(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id])
    staff = login_as("staff")
    response = staff.post(f"/meetings/{meeting_id}/act/explode",
                          data=form_data(staff, f"/meetings/{meeting_id}"))
    assert response.status_code == 409
    assert 'id="page-error"' in response.get_data(as_text=True)


# --- un-inviting a supplier -------------------------------------------------------------------


def _second_supplier(app, world: World) -> tuple[int, int]:
    other = make_supplier(app, category_ids=(world.category_id,))
    feedback_id = make_feedback(app, world.supervisor_id, world.category_id,
                                supplier_id=other, status="accepted")
    return other, feedback_id


def test_uninviting_a_supplier_removes_its_prefilled_items_and_representatives(
        app, ctx, world):
    _feedback(app, world)
    other, other_feedback = _second_supplier(app, world)
    with ctx(world.staff_id):
        meeting = _plan(world, supplier_ids=[world.supplier_id, other])
        actor = current_user._get_current_object()
        services.add_agenda_item(meeting, "外包人员考勤", supplier_id=other, actor=actor)
        assert {i.feedback_id for i in meeting.agenda if i.supplier_id == other} == \
            {other_feedback, None}
        assert any(a.supplier_id == other for a in meeting.attendees)
        data = services.MeetingInput(
            title=meeting.title, day=_today() + timedelta(days=3), start=time(9), end=time(11),
            location="三楼会议室", supplier_ids=[world.supplier_id])
        services.update_meeting(meeting, data)
        meeting_id = meeting.id
    with ctx(world.staff_id):
        meeting = db.session.get(Meeting, meeting_id)
        assert [s.id for s in meeting.suppliers] == [world.supplier_id]
        assert other_feedback not in {item.feedback_id for item in meeting.agenda}
        assert not any(a.supplier_id == other for a in meeting.attendees)
        typed = [item for item in meeting.agenda if item.title == "外包人员考勤"]
        assert len(typed) == 1 and typed[0].supplier_id is None  # staff's topic stays
        assert any(a.supplier_id == world.supplier_id for a in meeting.attendees)
        # inviting it again brings its items and representative back
        data.supplier_ids = [world.supplier_id, other]
        services.update_meeting(meeting, data)
        assert other_feedback in {item.feedback_id for item in meeting.agenda}
        assert sum(a.supplier_id == other for a in meeting.attendees) == 1


def test_a_supplier_whose_items_have_minutes_cannot_be_uninvited(app, ctx, world):
    other, other_feedback = _second_supplier(app, world)
    with ctx(world.staff_id):
        meeting = _plan(world, supplier_ids=[world.supplier_id, other])
        meeting_id = meeting.id
    with app.test_request_context(), write_transaction():
        item = db.session.scalar(sa.select(AgendaItem).where(
            AgendaItem.meeting_id == meeting_id, AgendaItem.feedback_id == other_feedback))
        item.discussion = "已讨论"
    with ctx(world.staff_id):
        meeting = db.session.get(Meeting, meeting_id)
        with pytest.raises(NotAllowed) as refused:
            services.update_meeting(meeting, services.MeetingInput(
                title=meeting.title, day=_today() + timedelta(days=3), start=time(9),
                end=time(11), supplier_ids=[world.supplier_id]))
        assert "cannot be removed" in str(refused.value.message) or \
            "不能" in str(refused.value.message)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert {s.id for s in meeting.suppliers} == {world.supplier_id, other}
        assert other_feedback in {item.feedback_id for item in meeting.agenda}


# --- representatives from the suppliers' contacts ---------------------------------------------


def test_representatives_come_from_the_suppliers_contacts(app, ctx, login_as, world):
    with ctx(world.staff_id):
        supplier = db.session.get(Supplier, world.supplier_id)
        second = supplier_services.add_contact(supplier, supplier_services.ContactInput(
            name="李主管", title="现场主管"))
        second_id = second.id
        meeting = _plan(world)
        # the primary contact is listed when the meeting is planned
        assert [(a.name, a.supplier_id) for a in meeting.attendees if a.supplier_id] == \
            [("王经理", world.supplier_id)]
        meeting_id = meeting.id
    staff = login_as("staff")
    page = f"/meetings/{meeting_id}"
    html = staff.get(page).get_data(as_text=True)
    assert f'<option value="{second_id}">' in html  # offered to pick
    response = staff.post(f"/meetings/{meeting_id}/attendees", data=form_data(
        staff, page, user_id="0", contact_id=str(second_id), name="", title="",
        supplier_id="0"))
    assert response.status_code == 303
    with app.app_context():
        added = db.session.scalar(sa.select(MeetingAttendee).where(
            MeetingAttendee.meeting_id == meeting_id, MeetingAttendee.name == "李主管"))
        assert added.supplier_id == world.supplier_id and added.title == "现场主管"
    stranger = make_supplier(app)
    with app.app_context():
        foreign = db.session.get(Supplier, stranger).contacts[0].id
    refused = staff.post(f"/meetings/{meeting_id}/attendees", data=form_data(
        staff, page, user_id="0", contact_id=str(foreign), supplier_id="0"))
    assert refused.status_code == 422


# --- one staff query --------------------------------------------------------------------------


def test_only_active_staff_accounts_are_offered_and_accepted(app, ctx, world):
    gone = make_user(app, "staff", name="已离职员工", active=False)
    client = make_user(app, "client")
    with ctx(world.staff_id):
        ids = {user.id for user in services.staff_accounts()}
        assert world.staff_id in ids and gone.id not in ids and client.id not in ids
        meeting = _plan(world, staff_ids=[world.staff_id, gone.id])
        assert gone.id not in {a.user_id for a in meeting.attendees}
        with pytest.raises(ServiceError) as refused:
            services.add_attendee(meeting, user_id=gone.id)
        assert refused.value.field == "user_id"


# --- the iCal invitation ----------------------------------------------------------------------


def test_the_invitation_uses_the_one_ical_helpers_and_stays_private(app, login_as, world):
    from icalendar import Calendar

    from portal import ical

    meeting_id = make_meeting(app, [world.supplier_id])
    response = login_as("staff").get(f"/meetings/{meeting_id}/invitation.ics")
    assert response.headers["Cache-Control"] == "private"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="meeting-{meeting_id}.ics"'
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["prodid"]) == ical.PRODID
    with app.test_request_context():
        domain = ical.uid_domain()
    assert str(calendar.walk("VEVENT")[0]["uid"]) == f"meeting-{meeting_id}@{domain}"


# --- the scorecard ----------------------------------------------------------------------------


def test_the_scorecard_asks_for_eight_rounds_and_the_agenda_for_two(app, ctx, world,
                                                                   monkeypatch, login_as):
    from portal.surveys import reports

    asked = []
    real = reports.supplier_satisfaction

    def spy(supplier_ids, rounds=2):
        asked.append(rounds)
        return real(supplier_ids, rounds=rounds)

    monkeypatch.setattr(reports, "supplier_satisfaction", spy)
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)
    staff = login_as("staff")
    assert staff.get(f"/suppliers/{world.supplier_id}/scorecard").status_code == 200
    assert asked == [8]
    asked.clear()
    assert staff.get(f"/meetings/prefill?supplier_ids={world.supplier_id}").status_code == 200
    assert asked == [2]


def test_the_scorecard_figures_are_the_feedback_modules(app, ctx, world):
    from portal.feedback.reports import feedback_figures
    from portal.reporting import half_year
    from portal.suppliers import scorecard

    today = _today()
    period = half_year(today.year, 1 if today.month <= 6 else 2)
    _feedback(app, world, "accepted")
    _feedback(app, world, "closed", resolved_late=True)
    other_category = make_category(app)
    make_feedback(app, world.supervisor_id, other_category, supplier_id=world.supplier_id,
                  status="resolved", resolved_late=False)
    with ctx(world.staff_id):
        figures = scorecard.scorecard(db.session.get(Supplier, world.supplier_id), period)
        expected = feedback_figures(period.first, period.end, supplier_id=world.supplier_id)
        assert figures["figures"].as_dict() == expected.as_dict()
        total = figures["total"]
        assert (total.received, total.decided, total.missed) == (
            expected.volume, expected.sla_decided, expected.sla_missed)
        by_category = {category.id: found.volume for category, found in figures["by_category"]}
        assert by_category[world.category_id] == 2 and by_category[other_category] == 1


# --- labels in the reader's language ----------------------------------------------------------


def test_prefilled_agenda_titles_are_built_in_the_readers_language(app, ctx, world,
                                                                    monkeypatch, login_as):
    from tests.meetings.test_meetings import _fake_figures

    _fake_figures(monkeypatch)
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)
    _feedback(app, world, description="会议室空调不制冷")
    with ctx(world.staff_id):  # planned by someone reading Chinese
        meeting = _plan(world)
        stored = [(item.kind, item.title) for item in meeting.agenda]
        meeting_id = meeting.id
    # nothing in the creator's language is frozen into the stored titles
    assert (AgendaKind.SATISFACTION, "") in stored
    assert all("满意度" not in title and "：" not in title for _kind, title in stored)
    staff = login_as("staff")
    english = staff.get(f"/meetings/{meeting_id}?lang=en").get_data(as_text=True)
    assert "Satisfaction figures" in english
    assert ": 会议室空调不制冷" in english
    chinese = staff.get(f"/meetings/{meeting_id}?lang=zh").get_data(as_text=True)
    assert "满意度数据" in chinese and "：会议室空调不制冷" in chinese


def test_no_chinese_punctuation_on_the_english_meeting_page(app, ctx, world, login_as,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)
    second = make_supplier(app, name="Second Supplier Co")
    meeting_id = make_meeting(app, [world.supplier_id, second], status="held")
    item_id = make_agenda_item(app, meeting_id, "Cleaning")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        item = db.session.get(AgendaItem, item_id)
        services.save_minutes(item, "Discussed", "Twice a day", actor)
    staff = login_as("staff")
    html = staff.get(f"/meetings/{meeting_id}?lang=en").get_data(as_text=True)
    assert "Decisions:" in html
    for mark in ("：", "、", "（", "；"):
        assert mark not in html, mark
    chinese = staff.get(f"/meetings/{meeting_id}?lang=zh").get_data(as_text=True)
    assert "</a>和<a" in chinese or "</a>、<a" in chinese  # the suppliers, joined in Chinese


def test_the_publish_refusal_joins_the_list_in_the_readers_language(app, login_as, world):
    from tests.meetings.factories import make_action

    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    make_action(app, meeting_id, description="Fix the leak", person="", due_on=None)
    make_action(app, meeting_id, description="Check the lifts", person="", due_on=None)
    staff = login_as("staff")
    response = staff.post(f"/meetings/{meeting_id}/act/publish?lang=en",
                          data=form_data(staff, f"/meetings/{meeting_id}"))
    html = response.get_data(as_text=True)
    assert "Fix the leak and Check the lifts" in html and "；" not in html


# --- Markdown images --------------------------------------------------------------------------


def test_a_markdown_image_shows_its_alt_text_and_no_image():
    html = str(render_markdown('See ![the <b>chart</b>](https://example.com/x.png "t") here'))
    assert "<img" not in html and "example.com" not in html
    assert "the &lt;b&gt;chart&lt;/b&gt;" in html and "See" in html and "here" in html


# --- every problem at once, nothing cut ----------------------------------------------------------


def test_an_action_item_is_refused_with_all_its_problems_and_long_text_is_not_cut(app, ctx,
                                                                                  world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    other_supplier = make_supplier(app)
    with ctx(world.staff_id):
        meeting = db.session.get(Meeting, meeting_id)
        actor = current_user._get_current_object()
        with pytest.raises(ServiceError) as refused:
            services.save_action(meeting, None, services.ActionInput(
                description=" ", supplier_id=other_supplier, responsible_person="张" * 101,
                due_on=_today() - timedelta(days=400)), actor)
        assert set(refused.value.fields) == {"description", "supplier_id",
                                             "responsible_person", "due_on"}
        assert "最多 100 个字符，当前为 101 个。" in str(
            refused.value.fields["responsible_person"])
        attendees = len(meeting.attendees)
        with pytest.raises(ServiceError) as refused:
            services.add_attendee(meeting, name="王" * 101, title="主任" * 51)
        assert set(refused.value.fields) == {"name", "title"}
    with ctx(world.staff_id):
        meeting = db.session.get(Meeting, meeting_id)
        assert len(meeting.attendees) == attendees and not meeting.actions


def test_the_attendee_form_shows_its_problems_beside_the_fields(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    staff = login_as("staff")
    page = f"/meetings/{meeting_id}"
    response = staff.post(f"{page}/attendees", data=form_data(
        staff, page, name="王" * 101, title="主任" * 51))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "最多 100 个字符，当前为 101 个。" in html
    assert 'id="name-error"' in html and 'id="title-error"' in html
    assert "王" * 101 in html  # what was typed comes back whole
