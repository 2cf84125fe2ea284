"""Demo data for service-quality supervision, drawn from the seed (聘请区府大院内主要委、办、局
办公室主任为服务质量监督员，并发聘书; 大楼保洁、外墙清洗、汽车维修保养、绿化养护、电梯、消防监控、
智能化会议室、空调机组维护、通勤车租赁等委托服务协议书).

Two loaders, both before the surveys' (order 60), which invites the active roster:

* order 40 — the service catalogue (12 categories) and the roster: the demo supervisors of the
  district's main offices with their appointment letters, one term ended early, and one
  replacement (the new director of the CPPCC office replaces the former one);
* order 55 — once the suppliers' demo (another module) may have written service contracts:
  each category without a contract is linked to a contract of its service in force today, if
  any; then feedback in every state, made through the services (so the timeline, the emails
  and the supplier snapshot are real) and moved back in time where the story needs it, some
  in earlier months for the dashboard.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from ..auth.models import User
from ..auth.passwords import hash_password
from ..catalogue.models import ServiceCategory
from ..database import utcnow, write_transaction
from ..demo import DEMO_PASSWORD, demo_loader
from ..extensions import db
from ..i18n import local_zone
from ..roles import Role
from ..suppliers.models import ServiceContract
from . import services
from .models import Feedback, FeedbackEvent, FeedbackStatus

S = FeedbackStatus
STAFF_EMAIL = "staff@jgj.example.gov.cn"

# code, name, English name, team, response days, resolution days
CATEGORIES = [
    ("canteen", "食堂餐饮", "Canteen and catering", "餐饮服务中心", 1, 3),
    ("meeting", "会议服务", "Meeting service", "会议中心", 1, 2),
    ("cleaning", "大楼保洁", "Cleaning", "物业管理科", 1, 3),
    ("exterior_walls", "外墙清洗", "Exterior walls", "物业管理科", 2, 10),
    ("greening", "绿化养护", "Greening", "物业管理科", 2, 7),
    ("elevators", "电梯", "Elevators", "设备管理科", 1, 3),
    ("fire_security", "消防监控", "Fire and security monitoring", "安全保卫科", 1, 2),
    ("smart_meeting_rooms", "智能化会议室", "Smart meeting rooms", "会议中心", 1, 3),
    ("air_conditioning", "空调机组维护", "Air conditioning", "设备管理科", 1, 5),
    ("vehicles", "车辆及通勤车", "Vehicles and commuter buses", "车辆管理科", 1, 5),
    ("building_maintenance", "房屋维修", "Building maintenance", "物业管理科", 2, 10),
    ("other", "其他", "Other", "综合办公室", 2, 10),
]

# Supervisors beyond the demo accounts of portal/auth/demo.py (email, name, unit).
EXTRA_SUPERVISORS = [
    ("jianduyuan@qzf.example.gov.cn", "吴晓东", "区政府办公室"),
    ("wangjp@zx.example.gov.cn", "王建平", "区政协办公室"),  # replaced by 孙志刚
]
# email: (unit, title)
TERMS = {
    "supervisor@fgw.example.gov.cn": ("区发展和改革委员会办公室", "主任"),
    "jianduyuan@czj.example.gov.cn": ("区财政局办公室", "主任"),
    "jianduyuan@rd.example.gov.cn": ("区人大常委会办公室", "主任"),
    "jianduyuan@qzf.example.gov.cn": ("区政府办公室", "副主任"),
    "wangjp@zx.example.gov.cn": ("区政协办公室", "主任"),
}


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


@demo_loader(order=40)
def load_catalogue_and_roster(context: dict) -> None:
    staff = _user(STAFF_EMAIL)
    meeting_staff = _user("meeting@jgj.example.gov.cn")
    with write_transaction():
        for order, (code, name, name_en, team, response, resolution) in enumerate(CATEGORIES):
            assignee = meeting_staff if code in ("meeting", "smart_meeting_rooms") else staff
            db.session.add(ServiceCategory(
                code=code, name=name, name_en=name_en, team=team, response_days=response,
                resolution_days=resolution, sort_order=order * 10,
                default_assignee_id=assignee.id if assignee else None))
        password_hash = hash_password(DEMO_PASSWORD)
        for email, name, unit in EXTRA_SUPERVISORS:
            if _user(email) is None:
                db.session.add(User(email=email, name=name, organisation=unit,
                                    role=Role.SUPERVISOR, password_hash=password_hash,
                                    email_verified_at=utcnow()))
    today = services.today()
    start = date(today.year - 1, 7, 1)  # terms of two years from last July
    end = date(today.year + 1, 6, 30)
    number = 0
    appointments = {}
    for email, (unit, title) in TERMS.items():
        user = _user(email)
        if user is None:
            continue
        number += 1
        appointments[email] = services.appoint(services.AppointmentInput(
            user_id=user.id, unit=unit, title=title,
            letter_number=f"机管监聘〔{start.year}〕{number:03d}号", term_start=start,
            term_end=end))
    # One term ended early: the NPC office's director moved to another post.
    npc = appointments.get("jianduyuan@rd.example.gov.cn")
    if npc is not None:
        services.end_term(npc, today - timedelta(days=20), "工作调动，不再担任办公室主任")
    # One replacement: the CPPCC office's new director takes over from the former one.
    old = appointments.get("wangjp@zx.example.gov.cn")
    successor = _user("jianduyuan@zx.example.gov.cn")
    if old is not None and successor is not None:
        services.replace(old, services.AppointmentInput(
            user_id=successor.id, unit="区政协办公室", title="主任",
            letter_number=f"机管监聘〔{today.year}〕{number + 1:03d}号",
            term_start=today - timedelta(days=60), term_end=end), reason="办公室主任调整")


def link_contracts(on: date) -> int:
    """Link each category without a contract to a contract of its service in force."""
    linked = 0
    with write_transaction():
        categories = db.session.scalars(sa.select(ServiceCategory).where(
            ServiceCategory.contract_id.is_(None))).all()
        for category in categories:
            contract = db.session.scalar(
                sa.select(ServiceContract).where(
                    ServiceContract.category_id == category.id,
                    ServiceContract.starts_on <= on, ServiceContract.ends_on >= on)
                .order_by(ServiceContract.ends_on.desc()).limit(1))
            if contract is not None:
                category.contract_id = contract.id
                linked += 1
    return linked


def _photo() -> FileStorage:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (205, 215, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 300, 600, 460), fill=(120, 150, 170))  # water on the floor
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    buffer.seek(0)
    return FileStorage(buffer, "floor.jpg", content_type="image/jpeg")


def _backdate(item_id: int, days_ago: int, respond_hours: float | None = None,
              resolve_hours: float | None = None, close_hours: float | None = None) -> None:
    """Move an item's story back in time (demo only): submitted ``days_ago`` days ago at
    9:30, each later step the given hours after submission; deadlines and flags follow."""
    zone = local_zone()
    with write_transaction():
        item = db.session.get(Feedback, item_id)
        day = services.today() - timedelta(days=days_ago)
        submitted = datetime.combine(day, time(9, 30), tzinfo=zone)
        item.submitted_at = submitted
        for column, due in item.category.deadlines(day).items():
            setattr(item, column, due)
        steps = {"submit": submitted}
        if respond_hours is not None and item.first_response_at is not None:
            item.first_response_at = submitted + timedelta(hours=respond_hours)
            item.responded_late = item.first_response_at.astimezone(zone).date() > \
                item.response_due_on
            steps.update(accept=item.first_response_at, reject=item.first_response_at,
                         mark_duplicate=item.first_response_at,
                         start=item.first_response_at + timedelta(hours=1))
        if resolve_hours is not None and item.resolved_at is not None:
            item.resolved_at = submitted + timedelta(hours=resolve_hours)
            item.resolved_late = item.resolved_at.astimezone(zone).date() > \
                item.resolution_due_on
            steps["resolve"] = item.resolved_at
        if close_hours is not None and item.closed_at is not None:
            item.closed_at = submitted + timedelta(hours=close_hours)
            steps["close"] = item.closed_at
        for event in db.session.scalars(sa.select(FeedbackEvent).where(
                FeedbackEvent.feedback_id == item_id)):
            if event.action in steps:
                event.at = steps[event.action]


@demo_loader(order=55)
def load_feedback(context: dict) -> None:
    link_contracts(services.today())
    staff = _user(STAFF_EMAIL)
    categories = {c.code: c.id for c in db.session.scalars(sa.select(ServiceCategory))}
    from ..rentals.models import Building, Room

    room = db.session.scalar(sa.select(Room).join(Building).where(
        Building.name == "区政府大院2号楼", Room.code == "202"))
    li, zhang, wu, sun = (_user(e) for e in (
        "supervisor@fgw.example.gov.cn", "jianduyuan@czj.example.gov.cn",
        "jianduyuan@qzf.example.gov.cn", "jianduyuan@zx.example.gov.cn"))
    if not all((staff, li, zhang, wu, sun)):
        return

    def submit(who, code, text, rating=3, urgency="normal", photos=()):
        return services.submit_feedback(who, services.FeedbackInput(
            category_id=categories[code], description=text, service_rating=rating,
            urgency=urgency, building_id=room.building_id if room else None,
            room_id=room.id if room and code in ("cleaning", "air_conditioning") else None,
            location_detail="" if room else "区政府大院", photos=list(photos))).id

    def step(item_id, name, actor, **fields):
        services.apply_transition(item_id, name, actor, **fields)

    # Submitted today, with a photo; and one submitted ten days ago nobody took up (overdue).
    water = submit(li, "cleaning", "2号楼二楼男卫生间地面有积水，容易滑倒", 2, "urgent",
                   [_photo()])
    late = submit(zhang, "exterior_walls", "1号楼南侧外墙玻璃积灰严重，影响采光", 3)
    _backdate(late, 16)
    # Accepted (an outsourced service shows the supplier it is transferred to).
    accepted = submit(wu, "greening", "大院东侧绿化带有枯死的灌木，需要补种", 3)
    step(accepted, "accept", staff)
    # In progress.
    lift = submit(sun, "elevators", "1号楼2号电梯运行时有明显异响", 2, "urgent")
    step(lift, "accept", staff)
    step(lift, "start", staff)
    # Resolved, waiting for the supervisor.
    aircon = submit(li, "air_conditioning", "202会议室空调制冷效果差，会议期间室温偏高", 2)
    step(aircon, "accept", staff)
    step(aircon, "resolve", staff, response="已清洗过滤网并补充冷媒，室温恢复正常")
    # Rejected, and a duplicate of the first.
    rejected = submit(zhang, "other", "建议在大院内增设共享单车停放点", 4)
    step(rejected, "reject", staff, reason="不属于机关后勤服务范围，已转区交通委研究")
    duplicate = submit(wu, "cleaning", "二楼卫生间地面湿滑", 2)
    step(duplicate, "mark_duplicate", staff, reason=f"与第 {water} 号反馈为同一问题",
         duplicate_of_id=water)
    # Reopened twice: escalated to the admins.
    bus = submit(sun, "vehicles", "金山卫方向通勤车早班经常晚点10分钟以上", 2)
    step(bus, "accept", staff)
    for answer in ("已提醒通勤车租赁公司按时发车", "已调整发车时间并增加一辆备用车"):
        step(bus, "resolve", staff, response=answer)
        step(bus, "reopen", sun, reason="本周仍有两天晚点")
    _backdate(bus, 12, respond_hours=3)
    # Closed, rated — some in earlier months, for the dashboard.
    # (who, service, text, rating, response, handling rating, hours to respond, hours to
    #  resolve, days ago)
    history = [
        (li, "canteen", "食堂午餐菜品种类偏少，素菜品种单一", 3, "已增加每日素菜品种至四种",
         5, 20, 30, 70),
        (zhang, "meeting", "区人代会分组会议室茶水供应不及时", 2, "已增派会务人员专人负责茶水",
         4, 6, 9, 30),
        (wu, "cleaning", "3号楼楼梯间扶手灰尘较多", 3, "已要求保洁公司每日擦拭扶手并抽查",
         4, 50, 80, 45),
        (li, "smart_meeting_rooms", "智能化会议室投屏无法连接", 2, "已更换无线投屏接收器",
         5, 4, 26, 100),
        (sun, "fire_security", "消防监控室夜间值班记录不完整", 3,
         "已约谈消防监控服务单位，完善交接班记录", 3, 30, 100, 130),
        (zhang, "building_maintenance", "1号楼301室窗户关不严，漏风", 3, "已更换窗户密封条",
         4, 70, 220, 160),
        (li, "canteen", "食堂早餐供应时间希望延长到8:30", 4, "已将早餐供应延长至8:30",
         5, 5, 48, 10),
    ]
    for who, code, text, rating, answer, handling, respond, resolve, ago in history:
        item = submit(who, code, text, rating)
        step(item, "accept", staff)
        step(item, "start", staff)
        step(item, "resolve", staff, response=answer)
        step(item, "close", who, handling_rating=handling,
             comment="处理及时，感谢" if handling >= 4 else "")
        _backdate(item, ago, respond_hours=respond, resolve_hours=resolve,
                  close_hours=resolve + 24)
    # One meeting-service item reopened once, then closed.
    tea = submit(wu, "meeting", "政协常委会会场话筒有杂音", 3)
    step(tea, "accept", staff)
    step(tea, "resolve", staff, response="已更换话筒电池")
    step(tea, "reopen", wu, reason="第二天仍有杂音")
    step(tea, "resolve", staff, response="已更换整套无线话筒")
    step(tea, "close", wu, handling_rating=3, comment="第二次才解决")
    _backdate(tea, 25, respond_hours=2, resolve_hours=50, close_hours=80)
    # Through a canteen hall's QR code: a diner's report, resolved and waiting for the
    # diner's confirmation through the follow link; and an advertisement marked as spam.
    from ..bookings.models import Venue
    from . import public

    hall = db.session.scalar(sa.select(Venue).where(Venue.kind == "banquet_hall")
                             .order_by(Venue.id).limit(1))
    if hall is not None:
        place = public.Place(public.VENUE, hall.id, hall.name, venue_id=hall.id)
        tray = public.submit_public(place, public.PublicInput(
            categories["canteen"], "餐盘回收区地面有汤水，比较脏", 2, contact="diner@example.com",
            photos=[_photo()]), "192.0.2.10")[0].id
        step(tray, "accept", staff)
        step(tray, "resolve", staff, response="已安排保洁人员清理餐盘回收区，并增加午餐高峰巡查")
        advert = public.submit_public(place, public.PublicInput(
            categories["canteen"], "低价代开各类发票，详询微信", 1), "192.0.2.99")[0].id
        step(advert, "mark_spam", staff)
    context.setdefault("feedback", {}).update(water=water, escalated=bus)
