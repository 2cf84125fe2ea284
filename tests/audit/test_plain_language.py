"""The history block and the audit page read like the pages: labels, ¥, names, local times."""

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.audit.models import AuditLog
from portal.audit.services import Audited, acting_as
from portal.audit.vocabulary import describe_rows, vocabulary_of
from portal.auth.models import User
from portal.bookings.models import Booking
from portal.database import utcnow, write_transaction
from portal.extensions import db
from tests.bookings.factories import future_day, make_booking, make_venue


def _text(html: str) -> str:
    """What a reader sees: the page without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _approve_with_quote(app, booking_id: int, staff) -> None:
    with app.test_request_context(), acting_as(staff.id, staff.email):
        booking = db.session.get(Booking, booking_id)
        with write_transaction():
            booking.quote_total_fen = 2_918_000
            booking.status = "approved"
            booking.decided_at = datetime(2026, 3, 1, 2, 5, tzinfo=UTC)


def _history_text(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('class="card history"')
    return _text(html[start:html.index("</section>", start)])


def test_history_block_speaks_the_pages_language(app, login_as, user_factory):
    client = user_factory("client", name="王建国")
    staff = login_as("staff", name="李秀英")
    booking_id = make_booking(app, client.id, make_venue(app))
    _approve_with_quote(app, booking_id, staff.account)

    history = _history_text(staff.get(f"/venues/bookings/{booking_id}"))
    assert "报价合计: ¥3,000.00 → ¥29,180.00" in history
    assert "状态: 待审批 → 已确认" in history
    assert "李秀英" in history  # the actor's name, not their email
    assert "2026-03-01 10:05" in history  # 02:05 UTC is 10:05 in Shanghai
    assert "客户: 王建国" in history  # a foreign key to an account: the person's name
    assert "布置方式: 剧院式" in history  # a choice: its label
    for dump in ("_fen", "quote_total", "status:", f"#{client.id}", "user_account",
                 "2026-03-01T02:05", "approved"):
        assert dump not in history, dump

    english = _history_text(staff.get(f"/venues/bookings/{booking_id}",
                                      query_string={"lang": "en"}))
    assert "Quote total: CN¥3,000.00 → CN¥29,180.00" in english
    assert "Status: Requested → Approved" in english


def test_foreign_keys_booleans_and_other_records_read_as_labels(app, ctx):
    from decimal import Decimal

    from portal.catalogue.models import ServiceCategory
    from portal.rentals.models import Building, Room

    def rows_of(object_type, object_id):
        return list(db.session.scalars(
            sa.select(AuditLog).where(AuditLog.object_type == object_type,
                                      AuditLog.object_id == str(object_id))
            .order_by(AuditLog.id)))

    with ctx(), acting_as(None, "module test"):
        with write_transaction():
            category = ServiceCategory(code="clean-x", name="保洁服务", name_en="Cleaning")
            building = Building(name="综合楼")
            db.session.add_all([category, building])
            db.session.flush()
            room = Room(building_id=building.id, code="305", area_m2=Decimal("42.5"),
                        rent_standard_fen=4_500)
            db.session.add(room)
        with write_transaction():
            category.active = False
        created, changed = describe_rows(rows_of("service_category", category.id))
        assert (created.type_label, created.record) == ("服务类别", "保洁服务")
        assert [(c.label, c.old, c.new) for c in changed.changes] == [("向监督员开放", "是", "否")]
        assert created.actor == "module test"
        [room_created] = describe_rows(rows_of("room", room.id))
        shown = {change.label: change.new for change in room_created.changes}
        assert room_created.record == "305"
        assert shown["楼宇"] == "综合楼"  # another record: its own label, not "#id"
        assert shown["租金标准（元/m²/月）"] == "¥45.00" and shown["使用面积（m²）"] == "42.5"
        assert shown["状态"] == "闲置"


def test_times_of_day_and_rates_read_as_on_the_venue_form(app, ctx):
    from datetime import time

    from portal.bookings.models import Venue

    venue_id = make_venue(app)
    with ctx(), acting_as(None, "module test"):
        venue = db.session.get(Venue, venue_id)
        with write_transaction():
            venue.opens_at = time(9, 30)
            venue.external_half_day_fen = 350_000
            venue.public = False
        [changed] = describe_rows(list(db.session.scalars(
            sa.select(AuditLog).where(AuditLog.object_type == "venue",
                                      AuditLog.object_id == str(venue_id),
                                      AuditLog.action == "update"))))
    shown = {change.label: (change.old, change.new) for change in changed.changes}
    assert shown["开放开始时间"] == ("08:00", "09:30")  # a time of day is not moved by zones
    assert shown["对外价格·半天"] == ("¥3,000.00", "¥3,500.00")  # "（元）" left to the ¥
    assert ("是", "否") in shown.values()


def test_every_audited_column_has_a_label(app):
    """A new column of an audited model must say how the trail calls it."""
    with app.app_context():
        missing = []
        for mapper in db.Model.registry.mappers:
            if not issubclass(mapper.class_, Audited):
                continue
            vocabulary = vocabulary_of(mapper.class_.audit_type())
            assert vocabulary is not None, mapper.class_.__name__
            missing += [f"{mapper.class_.__name__}.{attr.key}" for attr in mapper.column_attrs
                        if attr.key not in vocabulary.labels | dict.fromkeys(vocabulary.hidden)]
        assert missing == []


def _sign_in_rows(app, user_id: int, times: int) -> None:
    for _ in range(times):
        with app.test_request_context(), acting_as(user_id, "sign-in"):
            user = db.session.get(User, user_id)
            with write_transaction():
                user.last_login_at = utcnow()
                user.session_epoch += 1


def test_audit_page_hides_sign_ins_unless_asked(app, login_as, user_factory):
    admin = login_as("admin")
    target = user_factory("staff", name="赵丽华")
    _sign_in_rows(app, target.id, 2)
    with app.test_request_context(), acting_as(admin.account.id, admin.account.email):
        user = db.session.get(User, target.id)
        with write_transaction():
            user.role = "supervisor"
            user.session_epoch += 1  # a real change with bookkeeping beside it stays shown

    query = {"object_type": "user_account", "object_id": target.id}
    page = _text(admin.get("/admin/audit/", query_string=query).get_data(as_text=True))
    assert "账户 赵丽华" in page and "user_account" not in page
    assert "角色: 后勤工作人员 → 服务质量监督员" in page
    assert "最近登录" not in page and "sign-in" not in page
    assert "已结束的会话" not in page  # the bookkeeping beside a real change is left out too

    shown = _text(admin.get("/admin/audit/", query_string={**query, "routine": "1"})
                  .get_data(as_text=True))
    assert shown.count("最近登录") == 2 and "已结束的会话" in shown

    # The history block on the account's page leaves the sign-ins out as well.
    detail = _history_text(admin.get(f"/admin/users/{target.id}"))
    assert "最近登录" not in detail and "角色" in detail


def test_audit_page_query_count_does_not_grow_with_rows(app, login_as, user_factory,
                                                       count_queries):
    admin = login_as("admin", name="周建华")
    venue_id = make_venue(app)

    def page_queries() -> tuple[int, int]:
        with count_queries() as statements:
            response = admin.get("/admin/audit/", query_string={"routine": "1"})
        assert response.status_code == 200
        return len(statements), response.get_data(as_text=True).count("<tr")

    def more_rows(day: int) -> None:
        client = user_factory("client")
        booking_id = make_booking(app, client.id, venue_id, day=future_day(10 + day))
        _approve_with_quote(app, booking_id, admin.account)
        _sign_in_rows(app, client.id, 1)

    more_rows(0)
    queries, rows = page_queries()
    for day in range(1, 5):
        more_rows(day)
    more_queries, more_rows_shown = page_queries()
    assert more_rows_shown > rows + 5
    assert more_queries <= queries  # one query per kind of record, not one per row

    # The audit page reads like the history block: labels, ¥, status labels, names, local time.
    html = admin.get("/admin/audit/", query_string={"object_type": "booking"}).get_data(
        as_text=True)
    page = _text(html[html.index('id="results"'):])  # the rows, not the header's menu
    assert "报价合计: ¥3,000.00 → ¥29,180.00" in page and "状态: 待审批 → 已确认" in page
    assert "预订 HY" in page and "周建华" in page and "2026-03-01 10:05" in page
    for dump in ("_fen", "quote_total", "user_account", "booking #", "2026-03-01T02:05"):
        assert dump not in page, dump
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) > 20
