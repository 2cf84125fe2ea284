"""Joint meetings: agenda pre-fill, minutes, action items, publication lock, exports,
feedback ready to resolve, the scorecard, and fixed query counts."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_login import current_user

from portal.database import write_transaction
from portal.errors import NotAllowed, ServiceError
from portal.extensions import db
from portal.feedback.models import Feedback
from portal.markdown import render_markdown
from portal.meetings import satisfaction, services
from portal.meetings.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    AgendaKind,
    Meeting,
    MeetingStatus,
    MinutesRevision,
)
from tests.conftest import make_user
from tests.feedback.factories import (
    make_feedback,
    make_supplier,
)
from tests.helpers import form_data, work_lines
from tests.meetings.factories import World, make_action, make_agenda_item, make_meeting

ZONE = ZoneInfo("Asia/Shanghai")


def _today() -> date:
    return datetime.now(ZONE).date()


def _feedback(app, w: World, status="accepted", **fields) -> int:
    return make_feedback(app, w.supervisor_id, w.category_id, supplier_id=w.supplier_id,
                         contract_id=w.contract_id, status=status, **fields)


def _plan(w: World, **changes) -> Meeting:
    data = services.MeetingInput(
        title="联席会议", day=_today() + timedelta(days=3), start=time(9),
        end=time(11), location="三楼会议室", supplier_ids=[w.supplier_id],
        staff_ids=[w.staff_id])
    for key, value in changes.items():
        setattr(data, key, value)
    return services.create_meeting(current_user._get_current_object(), data)


@dataclass
class Figure:
    round_id: int
    round_title: str
    closes_on: date
    category_label: str
    rate: float | None
    valid_responses: int


def _fake_figures(monkeypatch):
    def fake(supplier_ids, rounds=2):
        return {sid: [Figure(7, "2026年上半年满意度调查", date(2026, 6, 30), "保洁", 93.5, 41)]
                for sid in supplier_ids}

    monkeypatch.setattr(satisfaction, "supplier_satisfaction", fake)
    monkeypatch.setattr(services, "supplier_satisfaction", fake)
    from portal.suppliers import scorecard

    return fake, scorecard


# --- pre-fill ---------------------------------------------------------------------------------


def test_a_new_meeting_agenda_is_prefilled_per_supplier(app, ctx, world):
    open_id = _feedback(app, world, "in_progress", description="会议室空调不制冷")
    _feedback(app, world, "resolved")  # waits for the supervisor: not on the agenda
    _feedback(app, world, "closed")
    earlier = make_meeting(app, [world.supplier_id], status="minutes_published",
                           day=_today() - timedelta(days=60))
    overdue = make_action(app, earlier, supplier_id=world.supplier_id,
                          due_on=_today() - timedelta(days=3))
    make_action(app, earlier, supplier_id=world.supplier_id, status=ActionStatus.VERIFIED)
    with ctx(world.staff_id):
        meeting = _plan(world)
        kinds = [(item.kind, item.feedback_id, item.carried_action_id) for item in meeting.agenda]
        assert kinds == [(AgendaKind.FEEDBACK, open_id, None), (AgendaKind.ACTION, None, overdue)]
        assert {a.user_id for a in meeting.attendees if a.user_id} == {world.staff_id}
        # refreshing adds nothing new
        assert services.refresh_agenda(meeting) == 0
        new_id = _feedback(app, world, "submitted")
        assert services.refresh_agenda(meeting) == 1
        assert meeting.agenda[-1].feedback_id == new_id


def test_satisfaction_figures_are_prefilled_and_rendered_when_the_adapter_has_them(
        app, ctx, world, monkeypatch, login_as):
    _fake_figures(monkeypatch)
    with ctx(world.staff_id):
        meeting = _plan(world)
        item = meeting.agenda[-1]
        assert item.kind == AgendaKind.SATISFACTION
        assert item.figures[0]["rate"] == 93.5
        meeting_id = meeting.id
    staff = login_as("staff")
    html = staff.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert "2026年上半年满意度调查" in html and "93.5%" in html
    preview = staff.get(f"/meetings/prefill?supplier_ids={world.supplier_id}")
    assert "93.5%" in preview.get_data(as_text=True)
    scorecard = staff.get(f"/suppliers/{world.supplier_id}/scorecard").get_data(as_text=True)
    assert "93.5%" in scorecard


def test_real_survey_figures_reach_the_agenda_and_the_scorecard(app, ctx, world, login_as):
    """The surveys module's figures, by the supplier responsible when the round was published."""
    from portal.catalogue.models import ServiceCategory
    from portal.surveys.models import Scale
    from tests.surveys.factories import answer, close, invite, make_questionnaire, make_round

    with app.test_request_context(), write_transaction():
        db.session.get(ServiceCategory, world.category_id).contract_id = world.contract_id
    round_id = make_round(app, make_questionnaire(app, [world.category_id]))
    tokens = invite(app, round_id, "a@example.com", "b@example.com", "c@example.com",
                    "d@example.com")
    for token, value in zip(tokens, (4, 4, 3, 1), strict=True):  # 3 of 4 satisfied
        answer(app, round_id, token, value=value)
    close(app, round_id)
    assert len(Scale.POINTS) >= 4
    with ctx(world.staff_id):
        figures = satisfaction.supplier_satisfaction([world.supplier_id])[world.supplier_id]
        assert [(f.round_id, f.rate, f.valid_responses) for f in figures] == [(round_id, 75.0, 4)]
        meeting = _plan(world)
        item = meeting.agenda[-1]
        assert item.kind == AgendaKind.SATISFACTION and item.figures[0]["rate"] == 75.0
    staff = login_as("staff")
    scorecard = staff.get(f"/suppliers/{world.supplier_id}/scorecard").get_data(as_text=True)
    assert "75%" in scorecard or "75.0%" in scorecard


def test_meeting_times_and_suppliers_are_checked(app, ctx, world):
    with ctx(world.staff_id):
        with pytest.raises(ServiceError) as refused:
            _plan(world, start=time(11), end=time(9))
        assert refused.value.field == "end"
        with pytest.raises(ServiceError):
            _plan(world, supplier_ids=[])


def test_a_meeting_can_be_held_in_a_conference_center_booking(app, ctx, world):
    from tests.bookings.factories import make_booking, make_venue

    client = make_user(app, "client")
    booking_id = make_booking(app, client.id, make_venue(app))
    with ctx(world.staff_id):
        assert booking_id in {b.id for b in services.booking_choices()}
        meeting = _plan(world, booking_id=booking_id, location="")
        assert meeting.booking_id == booking_id and meeting.location


# --- agenda editing (htmx) --------------------------------------------------------------------


def test_staff_add_reorder_and_remove_agenda_items_with_htmx(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id])
    first = make_agenda_item(app, meeting_id, "第一项", position=1)
    second = make_agenda_item(app, meeting_id, "第二项", position=2)
    staff = login_as("staff")
    page = f"/meetings/{meeting_id}"
    htmx = {"HX-Request": "true"}
    response = staff.post(f"/meetings/agenda/{second}/move/up", headers=htmx,
                          data=form_data(staff, page))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="agenda">')
    assert html.index("第二项") < html.index("第一项")
    response = staff.post(f"/meetings/{meeting_id}/agenda", headers=htmx,
                          data=form_data(staff, page, title="食堂卫生", supplier_id="0"))
    assert "食堂卫生" in response.get_data(as_text=True)
    response = staff.post(f"/meetings/agenda/{first}/delete", headers=htmx,
                          data=form_data(staff, page))
    assert "第一项" not in response.get_data(as_text=True)


# --- minutes, actions, publication ------------------------------------------------------------


def test_publishing_is_refused_while_actions_lack_an_owner_or_due_date(app, ctx, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    make_action(app, meeting_id, description="整改外墙渗水", person="", due_on=None)
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        meeting = db.session.get(Meeting, meeting_id)
        action = services.save_action(meeting, None, services.ActionInput(
            description="更换电梯钢丝绳", supplier_id=world.supplier_id), actor)
        with pytest.raises(ServiceError) as refused:
            services.act(meeting, "publish", actor)
        assert "整改外墙渗水" in str(refused.value.message)
        assert "更换电梯钢丝绳" in str(refused.value.message)
        assert db.session.get(Meeting, meeting_id).status == MeetingStatus.HELD
        for item in meeting.actions:
            services.save_action(meeting, item, services.ActionInput(
                description=item.description, supplier_id=world.supplier_id,
                due_on=_today() + timedelta(days=7)), actor)
        assert action.has_owner
        services.act(meeting, "publish", actor)
        assert meeting.status == MeetingStatus.PUBLISHED and meeting.published_at


def test_the_publish_refusal_lists_the_actions_on_the_page(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    make_action(app, meeting_id, description="补充消防巡检记录", person="", due_on=None)
    staff = login_as("staff")
    response = staff.post(f"/meetings/{meeting_id}/act/publish",
                          data=form_data(staff, f"/meetings/{meeting_id}"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="page-error"' in html and "补充消防巡检记录" in html


def test_published_minutes_need_a_reason_and_keep_revisions(app, ctx, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    item_id = make_agenda_item(app, meeting_id, "保洁")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        item = db.session.get(AgendaItem, item_id)
        services.save_minutes(item, "讨论了**卫生间**保洁频次", "每日两次", actor)
        services.act(item.meeting, "publish", actor)
        with pytest.raises(NotAllowed) as refused:
            services.save_minutes(item, "改动", "每日三次", actor)
        assert refused.value.field == "reason"
        assert db.session.get(AgendaItem, item_id).decisions == "每日两次"
        with pytest.raises(NotAllowed):
            services.add_agenda_item(item.meeting, "新议题", actor=actor)
        services.save_minutes(item, "讨论了卫生间保洁频次", "每日三次", actor,
                              reason="会后核对录音，更正频次")
        revision = db.session.scalar(sa.select(MinutesRevision).where(
            MinutesRevision.meeting_id == meeting_id))
        assert revision.reason == "会后核对录音，更正频次"
        assert revision.before["decisions"] == "每日两次"
        assert revision.after["decisions"] == "每日三次"


def test_editing_published_minutes_without_a_reason_shows_the_message(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    item_id = make_agenda_item(app, meeting_id, "保洁")
    staff = login_as("staff")
    path = f"/meetings/agenda/{item_id}/minutes"
    response = staff.post(path, data=form_data(staff, path, discussion="新内容", decisions=""))
    assert response.status_code == 422
    assert "reason-error" in response.get_data(as_text=True)


def test_action_items_go_open_done_verified_and_overdue_is_derived(app, ctx, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    action_id = make_action(app, meeting_id, supplier_id=world.supplier_id,
                            due_on=_today() - timedelta(days=1))
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        action = db.session.get(ActionItem, action_id)
        assert action.is_overdue(_today())
        with pytest.raises(NotAllowed):
            services.act_on_action(action, "verify", actor)
        services.act_on_action(action, "complete", actor)
        assert not action.is_overdue(_today())
        services.act_on_action(action, "verify", actor)
        assert action.status == ActionStatus.VERIFIED and action.verified_by_id == actor.id
        with pytest.raises(NotAllowed):
            services.act_on_action(action, "reopen", actor)  # needs a reason
        services.act_on_action(action, "reopen", actor, reason="复查发现仍有问题")
        assert action.status == ActionStatus.OPEN


def test_feedback_is_ready_to_resolve_when_all_its_actions_are_verified(app, ctx, world):
    answered = _feedback(app, world)
    other = _feedback(app, world)
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    first = make_action(app, meeting_id, supplier_id=world.supplier_id, feedback_ids=(answered,),
                        status=ActionStatus.VERIFIED)
    second = make_action(app, meeting_id, supplier_id=world.supplier_id,
                         feedback_ids=(answered, other), status=ActionStatus.DONE)

    def ready():
        return [f.id for f in db.session.scalars(services.ready_to_resolve_stmt())]

    with ctx(world.staff_id):
        assert ready() == []
        services.act_on_action(db.session.get(ActionItem, second), "verify",
                               current_user._get_current_object())
        assert ready() == [answered, other]
        assert first


def test_staff_resolve_answered_feedback_in_one_step_and_the_supervisor_is_asked(
        app, ctx, login_as, world):
    from portal.auth.models import User
    from tests.helpers import outbox_for

    waiting = _feedback(app, world)  # its action is not verified yet
    answered = _feedback(app, world, status="submitted")  # nobody accepted it yet
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    make_action(app, meeting_id, supplier_id=world.supplier_id, feedback_ids=(waiting,),
                status=ActionStatus.DONE)
    make_action(app, meeting_id, supplier_id=world.supplier_id, feedback_ids=(answered,),
                status=ActionStatus.VERIFIED)
    staff = login_as("staff")
    refused = staff.post(f"/meetings/feedback/{waiting}/resolve",
                         data=form_data(staff, "/meetings/ready-to-resolve", response="已整改"))
    assert refused.status_code == 303
    page = staff.get("/meetings/ready-to-resolve").get_data(as_text=True)
    assert "not ready to resolve" in page or "尚不能标记为已处理" in page
    response = staff.post(f"/meetings/feedback/{answered}/resolve",
                          data=form_data(staff, "/meetings/ready-to-resolve",
                                         response="保洁公司已增派人员，积水已清理"))
    assert response.status_code == 303
    with app.app_context():
        item = db.session.get(Feedback, answered)
        assert item.status == "resolved" and item.response.startswith("保洁公司已增派人员")
        assert [e.action for e in item.events][-2:] == ["accept", "resolve"]
        assert db.session.get(Feedback, waiting).status == "accepted"
        supervisor_email = db.session.get(User, world.supervisor_id).email
    assert outbox_for(app, supervisor_email)  # asked to confirm and rate it
    with ctx(world.staff_id):
        assert answered not in [f.id for f in db.session.scalars(
            services.ready_to_resolve_stmt())]


# --- Markdown ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[点我](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "<javascript:alert(1)>",
    '<a href="/x" hx-get="/admin" data-hx-post="/y">x</a>',
    '<div hx-post="/meetings/1/act/publish" hx-trigger="load">x</div>',
    '[x](https://example.com "t" onclick=alert(1))',
])
def test_markdown_is_rendered_inert(text):
    """Raw HTML is shown as text; no tag carries a script, handler, hx attribute or
    javascript: link."""
    html = str(render_markdown(text))
    tags = re.findall(r"<[a-z][^>]*>", html)
    assert all(not re.search(r"\s(on\w+|hx-[\w-]+|data-hx-[\w-]+)=", tag) for tag in tags)
    assert all(tag.split()[0] in ("<p>", "<p", "<a", "<strong>", "<em>") for tag in tags), tags
    assert "javascript:" not in " ".join(tags).lower()
    assert "<script" not in html


def test_markdown_keeps_ordinary_formatting():
    html = str(render_markdown("**加粗**\n\n- 一\n- 二\n\n[链接](https://example.com)"))
    assert "<strong>加粗</strong>" in html and "<li>一</li>" in html
    assert 'href="https://example.com"' in html and "noopener" in html


def test_live_preview_renders_sanitised_markdown(app, login_as):
    staff = login_as("staff")
    response = staff.post("/meetings/preview", headers={"HX-Request": "true"},
                          data=form_data(staff, "/meetings/",
                                         discussion="**好**<script>x</script>"))
    html = response.get_data(as_text=True)
    assert "<strong>好</strong>" in html and "<script>" not in html


# --- exports ----------------------------------------------------------------------------------


def _published(app, world) -> int:
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    item_id = make_agenda_item(app, meeting_id, "保洁服务质量", supplier_id=world.supplier_id)
    with app.test_request_context():
        from portal.database import write_transaction

        with write_transaction():
            item = db.session.get(AgendaItem, item_id)
            item.discussion = "讨论了**卫生间**积水问题"
            item.decisions = "增加巡查频次"
    make_action(app, meeting_id, supplier_id=world.supplier_id, agenda_item_id=item_id,
                description="每日巡查两次")
    return meeting_id


def test_minutes_download_as_pdf_and_docx(app, login_as, world):
    meeting_id = _published(app, world)
    staff = login_as("staff")
    pdf = staff.get(f"/meetings/{meeting_id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "每日巡查两次" in text and "增加巡查频次" in text
    docx = staff.get(f"/meetings/{meeting_id}/minutes.docx")
    assert docx.status_code == 200
    from docx import Document

    document = Document(io.BytesIO(docx.data))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "联席会议" in body and "增加巡查频次" in body
    cells = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert "每日巡查两次" in cells and "王经理" in cells


def test_a_planned_meeting_has_an_ical_invitation(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id])
    response = login_as("staff").get(f"/meetings/{meeting_id}/invitation.ics")
    from icalendar import Calendar

    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert response.mimetype == "text/calendar"
    assert str(event["summary"]) == "第三季度服务质量联席会议"
    assert event["dtstart"].dt < event["dtend"].dt


# --- scorecard --------------------------------------------------------------------------------


def test_scorecard_counts_feedback_sla_and_actions(app, ctx, login_as, world):
    from portal.reporting import half_year
    from portal.suppliers import scorecard
    from portal.suppliers.models import Supplier

    today = _today()
    # Every item is submitted on one day of the period looked at, 20 days ago or more (so
    # that the open one is past its deadline): the test never depends on today's date.
    day = today - timedelta(days=20)
    period = half_year(day.year, 1 if day.month <= 6 else 2)
    at = {"submitted_on": day, "submitted_at": datetime.combine(day, time(10), tzinfo=ZONE)}
    _feedback(app, world, "accepted", **at)  # open, past its deadline
    _feedback(app, world, "resolved", resolved_late=False, **at)
    _feedback(app, world, "closed", resolved_late=True, **at)
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    make_action(app, meeting_id, supplier_id=world.supplier_id,
                due_on=today - timedelta(days=2))
    make_action(app, meeting_id, supplier_id=world.supplier_id, status=ActionStatus.DONE)
    with ctx(world.staff_id):
        figures = scorecard.scorecard(db.session.get(Supplier, world.supplier_id), period)
        row = figures["rows"][0]
        assert period.first <= day < period.end
        assert (row.received, row.open, row.decided, row.missed) == (3, 1, 3, 2)
        assert figures["open_actions"] == 1 and figures["overdue_actions"] == 1
        assert figures["awaiting_actions"] == 1
    staff = login_as("staff")
    csv = staff.get(f"/suppliers/{world.supplier_id}/scorecard/export?period={period.key}")
    assert csv.status_code == 200 and "33.3%" in csv.get_data(as_text=True)
    xlsx = staff.get(f"/suppliers/{world.supplier_id}/scorecard/export?period={period.key}"
                     "&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


# --- fixed query counts -----------------------------------------------------------------------


def _grow(app, world, n: int) -> int:
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    for k in range(n):
        fid = _feedback(app, world)
        item = make_agenda_item(app, meeting_id, f"议题{k}", supplier_id=world.supplier_id,
                                feedback_id=fid, position=k + 1)
        make_action(app, meeting_id, supplier_id=world.supplier_id, agenda_item_id=item,
                    feedback_ids=(fid,))
    return meeting_id


@pytest.mark.parametrize("page", ["meeting", "prefill", "scorecard"])
def test_pages_run_a_fixed_number_of_queries(app, login_as, world, count_queries, page,
                                             monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)  # count the rendering, not a hit
    staff = login_as("staff")

    def url(meeting_id):
        return {"meeting": f"/meetings/{meeting_id}",
                "prefill": f"/meetings/prefill?supplier_ids={world.supplier_id}",
                "scorecard": f"/suppliers/{world.supplier_id}/scorecard"}[page]

    small = _grow(app, world, 1)
    staff.get(url(small))
    with count_queries() as few:
        assert staff.get(url(small)).status_code == 200
    large = _grow(app, world, 6)
    with count_queries() as many:
        assert staff.get(url(large)).status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_unknown_agenda_items_are_404(app, login_as):
    assert login_as("staff").get("/meetings/agenda/999999/minutes").status_code == 404


def test_feedback_links_are_limited_to_the_meeting(app, ctx, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="held")
    other_supplier = make_supplier(app)
    stranger = make_feedback(app, world.supervisor_id, world.category_id,
                             supplier_id=other_supplier, status="accepted")
    with ctx(world.staff_id):
        meeting = db.session.get(Meeting, meeting_id)
        with pytest.raises(ServiceError) as refused:
            services.save_action(meeting, None, services.ActionInput(
                description="x", feedback_ids=[stranger]), current_user._get_current_object())
        assert refused.value.field == "feedback_ids"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionItem).where(
            ActionItem.meeting_id == meeting_id)) == 0


def test_work_lines_action_items_of_their_own_ready_feedback_and_expiring_contracts(
        app, ctx, world, count_queries, login_as):
    from portal.meetings import tiles

    staff = login_as("staff", name="会务科孙干事")
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    make_action(app, meeting_id, supplier_id=world.supplier_id, person="会务科孙干事",
                       description="逾期的本人事项", due_on=_today() - timedelta(days=1))
    make_action(app, meeting_id, person="会务科孙干事 ", description="下周的本人事项",
                due_on=_today() + timedelta(days=5))
    make_action(app, meeting_id, person="会务科孙干事", description="一个月后的本人事项",
                due_on=_today() + timedelta(days=30))
    make_action(app, meeting_id, person="王经理", description="别人的事项",
                due_on=_today() - timedelta(days=3))
    with ctx(staff.account.id):
        with count_queries() as queries:
            lines = tiles.meeting_work(current_user._get_current_object())
        assert len(queries) == 3  # one per line
    assert [line.count for line in lines] == [2, 0, 0]
    html = staff.get("/?lang=en").get_data(as_text=True)
    line = work_lines(html)["2 of your action items due within 7 days or overdue"]
    assert line[0] == "/meetings/actions?state=due&mine=1"
    assert line[1].startswith("Due yesterday: 逾期的本人事项")
    listed = staff.get(line[0]).get_data(as_text=True)
    assert "逾期的本人事项" in listed and "下周的本人事项" in listed
    assert "一个月后的本人事项" not in listed and "别人的事项" not in listed
    assert 'href="/meetings/' not in login_as("supervisor").get("/").get_data(as_text=True)


def test_the_action_list_filters_overdue_items(app, login_as, world):
    meeting_id = make_meeting(app, [world.supplier_id], status="minutes_published")
    make_action(app, meeting_id, supplier_id=world.supplier_id, description="逾期事项",
                due_on=_today() - timedelta(days=1))
    make_action(app, meeting_id, supplier_id=world.supplier_id, description="未到期事项")
    html = login_as("staff").get("/meetings/actions?state=overdue").get_data(as_text=True)
    assert "逾期事项" in html and "未到期事项" not in html
