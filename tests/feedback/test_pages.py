"""Feedback pages through HTTP: submitting with photos, bad input, who sees what, actions,
the roster page, the dashboard, and bounded query counts."""

import io
import os
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.catalogue.models import ServiceCategory
from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackPhoto, FeedbackStatus
from portal.outbox.models import OutboxMessage
from tests.bookings.factories import jpeg_bytes
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.helpers import form_data
from tests.rentals.factories import make_building, make_room

S = FeedbackStatus


@cache
def bomb_png() -> bytes:
    """A small file that decodes to 225 million pixels: a decompression bomb."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (15_000, 15_000)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _uploaded_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "feedback"
    return set(os.listdir(folder)) if folder.exists() else set()


@pytest.fixture
def supervisor(app, login_as):
    client = login_as("supervisor")
    make_appointment(app, client.account.id)
    return client


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _submit(client, category, **fields):
    """Post the form as one multipart body in memory (the test client would spool a large
    upload to a temporary file it never closes)."""
    photos = fields.pop("photos", [])
    values = MultiDict({**form_data(client, "/feedback/new"), "category_id": str(category),
                        "description": "三楼会议室空调不制冷", "service_rating": "2",
                        "urgency": "urgent", **fields})
    for stream, name in photos:
        values.add("photos", FileStorage(stream=stream, filename=name,
                                         content_type="image/jpeg"))
    boundary, body = encode_multipart(values)
    return client.post("/feedback/new", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_a_supervisor_submits_feedback_with_a_photo_and_sees_it(app, supervisor):
    category = make_category(app)
    building = make_building(app, name="区政府大院1号楼")
    room = make_room(app, building_id=building, code="301")
    page = supervisor.get("/feedback/new").get_data(as_text=True)
    assert 'hx-get="/feedback/rooms"' in page
    response = _submit(supervisor, category, building_id=str(building), room_id=str(room),
                       photos=[(io.BytesIO(jpeg_bytes()), "ac.jpg")])
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(sa.select(Feedback))
        photo = db.session.scalar(sa.select(FeedbackPhoto))
        assert (item.room_id, item.building_id, item.urgency) == (room, building, "urgent")
    page = supervisor.get(response.headers["Location"]).get_data(as_text=True)
    assert "三楼会议室空调不制冷" in page and photo.file_name in page
    served = supervisor.get(f"/feedback/{item.id}/photos/{photo.file_name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    served.close()
    assert "三楼会议室空调不制冷" in supervisor.get("/feedback/mine").get_data(as_text=True)


def test_the_room_picker_follows_the_building_with_and_without_javascript(app, supervisor):
    building = make_building(app, name="区政府大院2号楼")
    make_room(app, building_id=building, code="202")
    partial = supervisor.get(f"/feedback/rooms?building_id={building}",
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.strip().startswith('<div id="room-field">') and ">202" in partial
    no_js = supervisor.get(f"/feedback/new?building_id={building}&description=漏水&show_rooms=1")
    html = no_js.get_data(as_text=True)
    assert no_js.status_code == 200 and ">202" in html and "漏水" in html


@pytest.mark.parametrize("case", ["empty description", "11 MB photo", "PDF renamed .jpg",
                                  "image bomb", "six photos", "outside term"])
def test_bad_input_is_refused_beside_the_field_and_nothing_is_left(app, login_as, case):
    category = make_category(app)
    client = login_as("supervisor")
    if case == "outside term":
        with app.app_context():
            from datetime import timedelta

            from portal.i18n import local_today
            today = local_today()
        make_appointment(app, client.account.id, start=today - timedelta(days=800),
                         end=today - timedelta(days=70))
    else:
        make_appointment(app, client.account.id)
    fields, expected = {}, ""
    if case == "empty description":
        fields, expected = {"description": "  "}, "请描述发生的情况"
    elif case == "11 MB photo":
        fields = {"photos": [(io.BytesIO(jpeg_bytes()), "ok.jpg"),
                             (io.BytesIO(b"\xff" * (11 * 1024 * 1024)), "big.jpg")]}
        expected = "图片超过 8 MB"
    elif case == "PDF renamed .jpg":
        fields = {"photos": [(io.BytesIO(jpeg_bytes()), "ok.jpg"),
                             (io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"), "scan.jpg")]}
        expected = "不是可识别的图片"
    elif case == "image bomb":
        fields = {"photos": [(io.BytesIO(jpeg_bytes()), "ok.jpg"),
                             (io.BytesIO(bomb_png()), "bomb.png")]}
        expected = "不是可识别的图片"
    elif case == "six photos":
        fields = {"photos": [(io.BytesIO(jpeg_bytes()), f"{n}.jpg") for n in range(6)]}
        expected = "最多 5 张照片"
    else:
        expected = "您的监督员聘期今天不在有效期内"
    before = _uploaded_files(app)
    response = _submit(client, category, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:500]
    assert expected in html
    if case in ("11 MB photo", "PDF renamed .jpg", "image bomb", "six photos"):
        assert 'id="photos-error"' in html
    if case == "empty description":
        assert 'id="description-error"' in html
    assert _uploaded_files(app) == before  # the good photo was removed again
    with app.app_context():
        assert _count(Feedback) == 0 and _count(FeedbackPhoto) == 0
        assert _count(OutboxMessage) == 0


def test_another_supervisors_feedback_is_a_404(app, supervisor, login_as):
    category = make_category(app)
    other = login_as("supervisor")
    make_appointment(app, other.account.id)
    item = make_feedback(app, other.account.id, category)
    assert supervisor.get(f"/feedback/{item}").status_code == 404
    closing = supervisor.post(f"/feedback/{item}/close",
                              data={**form_data(supervisor, "/feedback/mine"),
                                    "close-handling_rating": "5"})
    assert closing.status_code == 404
    assert other.get(f"/feedback/{item}").status_code == 200


def test_staff_cannot_close_and_the_supervisor_can(app, supervisor, login_as):
    category = make_category(app)
    item = make_feedback(app, supervisor.account.id, category, status=S.RESOLVED,
                         response="已处理")
    staff = login_as("staff")
    page = staff.get(f"/feedback/{item}").get_data(as_text=True)
    assert f"/feedback/{item}/close" not in page
    refused = staff.post(f"/feedback/{item}/close", data={
        **form_data(staff, f"/feedback/{item}"), "close-handling_rating": "5",
        "close-expected_status": "resolved"})
    assert refused.status_code == 409
    assert "当前状态下不能执行此操作" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Feedback, item).status == S.RESOLVED
    unrated = supervisor.post(f"/feedback/{item}/close", data={
        **form_data(supervisor, f"/feedback/{item}"), "close-expected_status": "resolved"})
    assert unrated.status_code == 422
    assert 'id="close-handling_rating-error"' in unrated.get_data(as_text=True)
    closed = supervisor.post(f"/feedback/{item}/close", data={
        **form_data(supervisor, f"/feedback/{item}"), "close-handling_rating": "4",
        "close-expected_status": "resolved"})
    assert closed.status_code == 303
    with app.app_context():
        assert db.session.get(Feedback, item).handling_rating == 4


def test_staff_accept_shows_the_supplier_it_is_transferred_to(app, supervisor, login_as):
    from tests.feedback.factories import make_contract, make_supplier

    category = make_category(app)
    supplier = make_supplier(app, name="上海绿源园林绿化有限公司", category_ids=(category,))
    contract = make_contract(app, supplier, category)
    from portal.database import write_transaction

    with app.test_request_context(), write_transaction():
        db.session.get(ServiceCategory, category).contract_id = contract
    item = make_feedback(app, supervisor.account.id, category)
    staff = login_as("staff")
    accepted = staff.post(f"/feedback/{item}/accept", data={
        **form_data(staff, f"/feedback/{item}"), "accept-expected_status": "submitted"})
    assert accepted.status_code == 303
    page = supervisor.get(f"/feedback/{item}").get_data(as_text=True)
    assert "上海绿源园林绿化有限公司" in page and "不属于" not in page
    # Once more with the state the page showed: a clear conflict, nothing changes.
    again = staff.post(f"/feedback/{item}/accept", data={
        **form_data(staff, "/feedback/"), "accept-expected_status": "submitted"})
    assert again.status_code == 409
    assert "该反馈刚刚被" in again.get_data(as_text=True)
    # With htmx the current actions, message on top, replace the stale ones in place.
    inline = staff.post(f"/feedback/{item}/accept", headers={"HX-Request": "true"}, data={
        **form_data(staff, "/feedback/"), "accept-expected_status": "submitted"})
    assert inline.status_code == 409
    assert inline.headers["HX-Retarget"] == "#feedback-actions"
    assert inline.headers["HX-Reswap"] == "outerHTML"
    html = inline.get_data(as_text=True)
    assert html.strip().startswith('<section class="card" id="feedback-actions">')
    assert "该反馈刚刚被" in html and "/accept" not in html


def test_queue_filters_and_lists_overdue_items(app, login_as, supervisor):
    from datetime import timedelta

    from portal.i18n import local_today

    category = make_category(app, name="电梯", name_en="Elevators")
    other = make_category(app)
    with app.app_context():
        long_ago = local_today() - timedelta(days=30)
    late = make_feedback(app, supervisor.account.id, category, status=S.ACCEPTED,
                         submitted_on=long_ago, description="电梯异响")
    make_feedback(app, supervisor.account.id, other, description="走廊地面湿滑")
    staff = login_as("staff")
    html = staff.get(f"/feedback/?overdue=1&category_id={category}").get_data(as_text=True)
    assert "电梯异响" in html and "走廊地面湿滑" not in html and f'id="feedback-{late}"' in html
    partial = staff.get("/feedback/?status=submitted", headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert text.strip().startswith('<div id="results">') and "走廊地面湿滑" in text
    assert "电梯异响" not in text


def _many(app, supervisor_id, categories, count):
    from tests.conftest import make_user

    staff = make_user(app, "staff")
    states = [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED, S.REJECTED]
    ids = []
    for n in range(count):
        ids.append(make_feedback(app, supervisor_id, categories[n % len(categories)],
                                 status=states[n % len(states)],
                                 assignee_id=staff.id if n % 6 else None))
    return ids


def test_every_page_runs_a_fixed_number_of_queries(app, login_as, supervisor, count_queries,
                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)  # count the rendering, not a hit
    categories = [make_category(app), make_category(app)]
    staff = login_as("staff")
    pages = {"mine": (supervisor, "/feedback/mine"), "queue": (staff, "/feedback/?status=all"),
             "dashboard": (staff, "/feedback/dashboard"), "roster": (staff, "/feedback/roster"),
             "categories": (staff, "/catalogue/")}
    first = _many(app, supervisor.account.id, categories, 3)

    def measure(client, url):
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for client, url in pages.values():  # warm up (the first request loads what is cached)
        client.get(url)
    few = {name: measure(client, url) for name, (client, url) in pages.items()}
    # An accepted item of the small data, then one in the same state among many more.
    item_few = measure(staff, f"/feedback/{first[1]}")
    more = _many(app, supervisor.account.id, [*categories, make_category(app)], 24)
    many = {name: measure(client, url) for name, (client, url) in pages.items()}
    assert many == few
    assert measure(staff, f"/feedback/{more[7]}") == item_few


def test_dashboard_figures_and_exports(app, login_as, supervisor):
    category = make_category(app, name="会议服务", name_en="Meeting service")
    make_feedback(app, supervisor.account.id, category, status=S.CLOSED, handling_rating=5,
                  resolved_late=False)
    staff = login_as("staff")
    html = staff.get("/feedback/dashboard?lang=en").get_data(as_text=True)
    assert 'id="figure-volume">1<' in html and "<svg" in html and "Meeting service" in html
    csv = staff.get("/feedback/dashboard/export?report=categories&format=csv")
    assert csv.status_code == 200 and "Meeting service" in csv.get_data(as_text=True)
    xlsx = staff.get("/feedback/dashboard/export?report=months&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert staff.get("/feedback/dashboard/export?report=nope").status_code == 400


def test_roster_pages_and_the_appointment_letter(app, login_as):
    from datetime import timedelta

    from portal.i18n import local_today

    staff = login_as("staff")
    person = login_as("supervisor", name="张卫东")
    with app.app_context():
        today = local_today()
    form = form_data(staff, "/feedback/roster/new")
    created = staff.post("/feedback/roster/new", data={
        **form, "user_id": str(person.account.id), "unit": "区财政局办公室", "title": "主任",
        "letter_number": "机管监聘〔2026〕001号", "term_start": today.isoformat(),
        "term_end": (today + timedelta(days=700)).isoformat()})
    assert created.status_code == 303, created.get_data(as_text=True)
    url = created.headers["Location"]
    appointment_id = int(url.rsplit("/", 1)[1])
    assert "区财政局办公室" in staff.get("/feedback/roster").get_data(as_text=True)
    duplicate = staff.post("/feedback/roster/new", data={
        **form, "user_id": str(person.account.id), "unit": "x", "letter_number":
        "机管监聘〔2026〕001号", "term_start": today.isoformat(),
        "term_end": today.isoformat()})
    assert duplicate.status_code == 422
    assert 'id="letter_number-error"' in duplicate.get_data(as_text=True)
    pdf = person.get(f"/feedback/roster/{appointment_id}/letter.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert login_as("supervisor").get(
        f"/feedback/roster/{appointment_id}/letter.pdf").status_code == 404
    no_reason = staff.post(f"/feedback/roster/{appointment_id}/end", data={
        **form_data(staff, url), "ended_on": today.isoformat(), "reason": ""})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.get_data(
        as_text=True)
    ended = staff.post(f"/feedback/roster/{appointment_id}/end", data={
        **form_data(staff, url), "ended_on": today.isoformat(), "reason": "岗位调整"})
    assert ended.status_code == 303
    assert "岗位调整" in staff.get(url).get_data(as_text=True)


def test_refusals_need_their_reason_beside_the_field(app, supervisor, login_as):
    category = make_category(app)
    original = make_feedback(app, supervisor.account.id, category)
    item = make_feedback(app, supervisor.account.id, category)
    staff = login_as("staff")
    path = f"/feedback/{item}"
    no_reason = staff.post(f"{path}/reject", data={**form_data(staff, path),
                                                   "reject-expected_status": "submitted"},
                           headers={"HX-Request": "true"})
    html = no_reason.get_data(as_text=True)
    assert no_reason.status_code == 422 and 'id="reject-reason-error"' in html
    assert html.strip().startswith('<section class="card" id="feedback-actions">')  # the block
    no_original = staff.post(f"{path}/mark_duplicate", data={
        **form_data(staff, path), "mark_duplicate-reason": "重复"})
    assert no_original.status_code == 422
    assert 'id="mark_duplicate-duplicate_of_id-error"' in no_original.get_data(as_text=True)
    done = staff.post(f"{path}/mark_duplicate", data={
        **form_data(staff, path), "mark_duplicate-reason": "重复",
        "mark_duplicate-duplicate_of_id": str(original)})
    assert done.status_code == 303
    page = supervisor.get(path).get_data(as_text=True)
    assert f'href="/feedback/{original}"' in page and "重复" in page


def test_staff_replace_a_supervisor_from_the_roster(app, login_as):
    from datetime import timedelta

    from portal.feedback.models import SupervisorAppointment
    from portal.i18n import local_today

    staff = login_as("staff")
    old = login_as("supervisor", name="王建平")
    new = login_as("supervisor", name="孙志刚")
    with app.app_context():
        today = local_today()
    old_term = make_appointment(app, old.account.id, unit="区政协办公室",
                                start=today - timedelta(days=300))
    path = f"/feedback/roster/{old_term}/replace"
    page = staff.get(path).get_data(as_text=True)
    assert "区政协办公室" in page
    replaced = staff.post(path, data={
        **form_data(staff, path), "user_id": str(new.account.id), "unit": "区政协办公室",
        "title": "主任", "letter_number": "机管监聘〔2026〕009号",
        "term_start": today.isoformat(),
        "term_end": (today + timedelta(days=400)).isoformat(), "reason": "办公室主任调整"})
    assert replaced.status_code == 303, replaced.get_data(as_text=True)
    with app.app_context():
        first = db.session.get(SupervisorAppointment, old_term)
        assert first.ended_on == today - timedelta(days=1)
        assert first.end_reason == "办公室主任调整"
    roster = staff.get("/feedback/roster?scope=all").get_data(as_text=True)
    assert "接替王建平" in roster and "由孙志刚接替" in roster
    # The old supervisor keeps their history but can no longer submit.
    assert old.get("/feedback/mine").status_code == 200
    refused = old.get("/feedback/new").get_data(as_text=True)
    assert 'id="term-inactive"' in refused


def test_dashboard_shows_the_satisfaction_rounds_beside_the_feedback(app, login_as,
                                                                     count_queries):
    from tests.surveys.factories import answer, invite, make_round

    staff = login_as("staff")
    empty = staff.get("/feedback/dashboard").get_data(as_text=True)
    assert 'id="satisfaction-heading"' in empty and "暂无数据" in empty
    round_id = make_round(app)
    # Scale points: 4 = 非常满意 … 1 = 不满意; the default rate counts the top three.
    for token, value in zip(invite(app, round_id, "a@example.com", "b@example.com",
                                   "c@example.com", "d@example.com"), (4, 3, 2, 1),
                            strict=True):
        answer(app, round_id, token, value=value)
    with count_queries() as queries:
        html = staff.get("/feedback/dashboard?lang=en").get_data(as_text=True)
    assert "Satisfaction surveys" in html and "75%" in html
    round_two = make_round(app)
    answer(app, round_two, invite(app, round_two, "e@example.com")[0], value=4)
    with count_queries() as more:
        staff.get("/feedback/dashboard?lang=en")
    assert len(more) == len(queries)  # a second round costs no extra query


def test_reopening_needs_a_reason_beside_its_field_and_saves_nothing(app, supervisor, login_as):
    from portal.feedback.models import FeedbackEvent

    handler = login_as("staff", email="handler@example.com")
    item = make_feedback(app, supervisor.account.id, make_category(app), status=S.RESOLVED,
                         response="已处理", assignee_id=handler.account.id)
    path = f"/feedback/{item}"
    page = supervisor.get(path).get_data(as_text=True)
    assert f'action="{path}/reopen"' in page
    for headers in ({}, {"HX-Request": "true"}):
        refused = supervisor.post(f"{path}/reopen", headers=headers, data={
            **form_data(supervisor, path), "reopen-expected_status": "resolved",
            "reopen-reason": "  "})
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422
        assert 'id="reopen-reason-error"' in html and "请填写原因" in html
    with app.app_context():
        row = db.session.get(Feedback, item)
        assert (row.status, row.reopen_count) == (S.RESOLVED, 0)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent).where(
            FeedbackEvent.feedback_id == item, FeedbackEvent.action == "reopen")) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == "handler@example.com")) == 0
    reopened = supervisor.post(f"{path}/reopen", data={
        **form_data(supervisor, path), "reopen-expected_status": "resolved",
        "reopen-reason": "地面仍有积水"})
    assert reopened.status_code == 303
    with app.app_context():
        assert db.session.get(Feedback, item).status == S.IN_PROGRESS
    assert "地面仍有积水" in supervisor.get(path).get_data(as_text=True)  # on the timeline


def _outsourced(app, *, ended_days_ago: int, successor: str | None):
    """A cleaning category whose contract ended ``ended_days_ago`` days ago; ``successor``:
    None, "in force" (started the day after) or "ended" (ended too)."""
    from datetime import timedelta

    from portal.database import write_transaction
    from portal.i18n import local_today
    from tests.feedback.factories import make_contract, make_supplier

    with app.app_context():
        today = local_today()
    category = make_category(app, team="物业管理科")
    old_end = today - timedelta(days=ended_days_ago)
    old = make_contract(app, make_supplier(app, name="上海旧洁物业有限公司"), category,
                        starts_on=old_end - timedelta(days=364), ends_on=old_end)
    new_supplier = None
    if successor is not None:
        new_supplier = make_supplier(app, name="上海新洁物业有限公司")
        new_end = today + timedelta(days=200) if successor == "in force" else today - \
            timedelta(days=1)
        new = make_contract(app, new_supplier, category, starts_on=old_end + timedelta(days=1),
                            ends_on=new_end)
    with app.test_request_context(), write_transaction():
        db.session.get(ServiceCategory, category).contract_id = old
        if successor is not None:
            from portal.suppliers.models import ServiceContract

            db.session.get(ServiceContract, old).successor_id = new
    return category, old_end, new_supplier


def _accept(staff, item):
    return staff.post(f"/feedback/{item}/accept", data={
        **form_data(staff, f"/feedback/{item}"), "accept-expected_status": "submitted"})


@pytest.mark.parametrize("successor", [None, "ended"])
def test_accepting_under_an_ended_contract_routes_to_the_bureaus_own_team(app, supervisor,
                                                                          login_as, successor):
    from flask_babel import format_date

    category, old_end, _ = _outsourced(app, ended_days_ago=10, successor=successor)
    item = make_feedback(app, supervisor.account.id, category)
    staff = login_as("staff")
    assert _accept(staff, item).status_code == 303
    page = staff.get(f"/feedback/{item}").get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Feedback, item)
        assert row.status == S.ACCEPTED and (row.supplier_id, row.contract_id) == (None, None)
        # The renewal chain is read to its end: an ended successor ended the service.
        last_day = old_end if successor is None else row.category.contract.successor.ends_on
    with app.test_request_context():
        expired = format_date(last_day, "long")
    notice = f"该服务的委托协议已于{expired}到期，已改由本局物业管理科办理。"
    assert page.count(notice) == 2  # the message to the staff member, and the timeline note
    assert "转交" not in page and "上海旧洁物业有限公司" not in page
    mine = supervisor.get(f"/feedback/{item}").get_data(as_text=True)
    assert notice in mine and 'id="feedback-supplier"' not in mine


def test_accepting_under_an_ended_contract_goes_to_its_successor_in_force(app, supervisor,
                                                                         login_as):
    category, _, new_supplier = _outsourced(app, ended_days_ago=10, successor="in force")
    item = make_feedback(app, supervisor.account.id, category)
    staff = login_as("staff")
    assert _accept(staff, item).status_code == 303
    page = staff.get(f"/feedback/{item}").get_data(as_text=True)
    assert 'id="feedback-supplier"' in page and "上海新洁物业有限公司" in page
    assert "到期" not in page
    with app.app_context():
        row = db.session.get(Feedback, item)
        assert row.supplier_id == new_supplier
        assert row.contract_id == row.category.contract.successor_id


def _error_beside(html: str, field: str) -> str:
    """The message shown beside a field (its id-error paragraph), '' when none."""
    import re

    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def test_every_problem_is_shown_at_once_beside_its_field(app, supervisor):
    category = make_category(app)
    response = _submit(supervisor, "", description="  ", service_rating="",
                       location_detail="东" * 201)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _error_beside(html, "category_id") == "请选择涉及的服务项目。"
    assert _error_beside(html, "description") == "请描述发生的情况。"
    assert _error_beside(html, "service_rating") == "请为服务评分（1–5）。"
    assert "最多 200 个字符" in _error_beside(html, "location_detail")
    assert html.count('class="error"') == 4  # each once, none repeated at the top
    # A problem only the service can see (a room of another building) comes with the rest.
    other = make_building(app, name="区政府大院3号楼")
    room = make_room(app, building_id=other, code="101")
    response = _submit(supervisor, category, description="", building_id=str(
        make_building(app, name="区政府大院4号楼")), room_id=str(room))
    html = response.get_data(as_text=True)
    assert _error_beside(html, "description") and _error_beside(html, "room_id")
    with app.app_context():
        assert _count(Feedback) == 0 and _count(OutboxMessage) == 0


def test_a_description_over_the_limit_is_refused_not_cut(app, supervisor):
    category = make_category(app)
    page = supervisor.get("/feedback/new").get_data(as_text=True)
    assert 'maxlength="4000"' in page and 'id="description-count">0 / 4000<' in page
    response = _submit(supervisor, category, description="漏" * 4001)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _error_beside(html, "description") == "最多 4000 个字符，当前为 4001 个。"
    assert 'id="description-count">4001 / 4000<' in html  # the counter says by how much
    assert "漏" * 4001 in html  # what was typed comes back whole, to be shortened by its author
    with app.app_context():
        assert _count(Feedback) == 0
    # A line break counts once, as in the browser (which sends it as CRLF).
    text = "漏" * 3998 + "\r\n" + "漏"
    assert _submit(supervisor, category, description=text).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Feedback.description)) == "漏" * 3998 + "\n漏"


def test_the_service_refuses_every_problem_of_an_input_together(app, supervisor):
    from portal.errors import ServiceError
    from portal.feedback import services

    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        services.check_input(services.FeedbackInput(
            category_id=None, description="x" * 4001, service_rating=9, urgency="soon"))
    assert set(refused.value.fields) == {"category_id", "description", "service_rating",
                                         "urgency"}
