"""Demo suppliers, service contracts in every state, and two past joint meetings.

From the seed: "上半年与社会有关单位签订了大楼保洁、外墙清洗、汽车维修保养、绿化养护、电梯、
消防监控、智能化会议室、空调机组维护、通勤车租赁等委托服务协议书" and "定期与合作单位召开服务
质量联席会议". Runs before the feedback demo (order 40 < 50): it makes the service categories
(found again by their ``code``) and points each at the contract in force, so the feedback
loader can route feedback to suppliers. No feedback exists yet, so the demo actions answer no
feedback item (the feedback loader may link them).
"""

from __future__ import annotations

from datetime import date, time, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from ..catalogue.models import ServiceCategory
from ..database import write_transaction
from ..demo import demo_loader
from ..extensions import db
from ..i18n import local_today
from ..roles import Role
from ..suppliers import services as suppliers
from ..validators import uscc_check_char
from . import services
from .models import ActionItem, ActionStatus

# code, name, English name, team, supplier, contact, phone, state of its contract
SERVICES = [
    ("cleaning", "大楼保洁", "Building cleaning", "物业管理科", "上海洁美物业服务有限公司",
     "王建华", "13916000001", "active"),
    ("facade_washing", "外墙清洗", "Exterior wall washing", "物业管理科",
     "上海高空外墙清洗有限公司", "陈立", "13916000002", "expiring"),
    ("vehicle_maintenance", "汽车维修保养", "Vehicle maintenance", "车辆管理科",
     "金山汽车维修服务有限公司", "周强", "13916000003", "renewed"),
    ("greening", "绿化养护", "Greening maintenance", "物业管理科", "上海绿源园林绿化有限公司",
     "吴敏", "13916000004", "ended"),
    ("elevator", "电梯维保", "Elevator maintenance", "设备管理科", "上海申达电梯工程有限公司",
     "郑海", "13916000005", "active"),
    ("fire_monitoring", "消防监控", "Fire monitoring", "安全保卫科", "上海安消消防技术服务有限公司",
     "冯刚", "13916000006", "expiring_soon"),
    ("smart_meeting_rooms", "智能化会议室", "Smart meeting rooms", "会议服务科",
     "上海智会信息科技有限公司", "蒋丽", "13916000007", "upcoming"),
    ("hvac_maintenance", "空调机组维护", "Air-conditioning maintenance", "设备管理科",
     "上海冷暖机电设备有限公司", "韩磊", "13916000008", "active"),
    ("commuter_bus", "通勤车租赁", "Commuter bus rental", "车辆管理科", "金山巴士租赁有限公司",
     "杨帆", "13916000009", "active"),
]


# The service catalogue's code of each supplier's service (the catalogue is the feedback
# module's, loaded before this; two suppliers may serve one category).
CATALOGUE_CODE = {"facade_washing": "exterior_walls", "vehicle_maintenance": "vehicles",
                  "elevator": "elevators", "fire_monitoring": "fire_security",
                  "hvac_maintenance": "air_conditioning", "commuter_bus": "vehicles"}


def _uscc(n: int) -> str:
    first17 = f"91310116MA1K{n:05d}"
    return first17 + uscc_check_char(first17)


def _category(code, name, name_en, team, order) -> ServiceCategory:
    category = db.session.scalar(sa.select(ServiceCategory).where(ServiceCategory.code == code))
    if category is None:
        with write_transaction():
            category = ServiceCategory(code=code, name=name, name_en=name_en, team=team,
                                       response_days=1, resolution_days=5, sort_order=order)
            db.session.add(category)
    return category


def _contract(supplier, category, number, start: date, end: date, amount_fen: int,
              renews=None):
    return suppliers.save_contract(None, suppliers.ContractInput(
        supplier_id=supplier.id, category_id=category.id, number=number,
        title=f"{category.name}委托服务协议", starts_on=start, ends_on=end,
        amount_fen=amount_fen, payment_terms="按季度支付，每季度末经考核后支付当季服务费",
        response_hours=2, fix_hours=24), renews=renews)


def _contracts(supplier, category, state: str, n: int, today: date):
    """The supplier's contract(s) so that the current one is in ``state``; the one in force."""
    year = today.year
    amount = 120_000_00 + n * 15_000_00
    number = f"JGJ-FW-{year}-{n:03d}"
    if state == "active":
        return _contract(supplier, category, number, today - timedelta(days=150),
                         today + timedelta(days=215), amount)
    if state == "expiring":
        return _contract(supplier, category, number, today - timedelta(days=320),
                         today + timedelta(days=45), amount)
    if state == "expiring_soon":
        return _contract(supplier, category, number, today - timedelta(days=340),
                         today + timedelta(days=25), amount)
    if state == "renewed":
        old = _contract(supplier, category, f"JGJ-FW-{year - 1}-{n:03d}",
                        today - timedelta(days=345), today + timedelta(days=20), amount)
        suppliers.save_contract(None, suppliers.renewal_defaults(old), renews=old)
        return old
    if state == "ended":
        _contract(supplier, category, f"JGJ-FW-{year - 2}-{n:03d}",
                  today - timedelta(days=800), today - timedelta(days=436), amount)
        return _contract(supplier, category, number, today - timedelta(days=435),
                         today - timedelta(days=70), amount)
    # upcoming: signed, starting next month
    _contract(supplier, category, number, today + timedelta(days=30),
              today + timedelta(days=395), amount)
    return None


@demo_loader(order=45)  # after the catalogue and roster (feedback, 40)
def load_suppliers_and_meetings(context: dict) -> None:
    users = context.get("users", {})
    staff = next((u for u in users.values() if u.role == Role.STAFF), None)
    actor = staff or SimpleNamespace(id=None, role=Role.STAFF)
    today = local_today()
    by_code = {}
    for n, (code, name, name_en, team, supplier_name, contact, phone, state) in \
            enumerate(SERVICES, start=1):
        category = _category(CATALOGUE_CODE.get(code, code), name, name_en, team, n * 10)
        supplier = suppliers.save_supplier(None, suppliers.SupplierInput(
            name=supplier_name, uscc=_uscc(n), address="上海市金山区",
            integrity_signed_on=today - timedelta(days=150 + n), category_ids=[category.id]))
        suppliers.add_contact(supplier, suppliers.ContactInput(
            name=contact, title="项目经理", phone=phone,
            email=f"service{n}@supplier.example.com"))
        suppliers.add_contact(supplier, suppliers.ContactInput(
            name=f"{contact[0]}主管", title="现场主管", phone=phone))
        in_force = _contracts(supplier, category, state, n, today)
        if in_force is not None:
            with write_transaction():
                category.contract_id = in_force.id
        by_code[code] = supplier
    context["suppliers"] = {code: supplier.id for code, supplier in by_code.items()}
    context["service_categories"] = {
        code: category_id for code, category_id in db.session.execute(
            sa.select(ServiceCategory.code, ServiceCategory.id)).all()}

    def meeting(days_ago: int, title: str, codes: list[str], topics, publish=True):
        data = services.MeetingInput(
            title=title, day=today - timedelta(days=days_ago), start=time(14, 0),
            end=time(16, 0), location="区政府大院1号楼三楼第二会议室",
            supplier_ids=[by_code[c].id for c in codes],
            staff_ids=[staff.id] if staff else [], chair="周建国", recorder="陈晓丽")
        made = services.create_meeting(actor, data)
        services.act(made, "hold", actor)
        services.mark_attendance(made, {a.id for a in made.attendees})
        for code, topic, discussion, decisions, actions in topics:
            item = services.add_agenda_item(made, topic, by_code[code].id, actor)
            services.save_minutes(item, discussion, decisions, actor)
            for description, person, due_in, status in actions:
                action = services.save_action(made, None, services.ActionInput(
                    description=description, supplier_id=by_code[code].id,
                    responsible_person=person,
                    due_on=today - timedelta(days=days_ago) + timedelta(days=due_in)), actor,
                    agenda_item=item)
                for step in {"done": ["complete"],
                             "verified": ["complete", "verify"]}.get(status, []):
                    services.act_on_action(action, step, actor)
        if publish:
            services.act(made, "publish", actor)
        return made

    meeting(95, "第一季度服务质量联席会议", ["cleaning", "elevator", "fire_monitoring"], [
        ("cleaning", "办公楼卫生间保洁不及时",
         "监督员反映**2号楼三楼**卫生间午间积水、纸巾补充不及时。\n\n- 供应商说明：午间人员不足\n"
         "- 机管局要求：高峰时段增加巡查", "午间（11:30–13:30）增加一名保洁员巡查。",
         [("午间增派一名保洁员，建立卫生间巡查记录表", "王建华", 14, "verified")]),
        ("elevator", "1号楼电梯故障响应时间",
         "3月两次困人故障，到场时间分别为35分钟和50分钟，超过合同约定的30分钟。",
         "维保单位在院内设驻点值班人员。",
         [("在大院设立电梯驻点值班，提交值班表", "郑海", 21, "verified"),
          ("更换1号楼2号梯门机系统", "郑海", 45, "open")]),
        ("fire_monitoring", "消防控制室值班记录", "抽查发现夜间值班记录不完整。",
         "整改值班记录，每月报送。", [("完善夜间值班记录并每月报送机管局", "冯刚", 30, "done")]),
    ])
    meeting(32, "第二季度服务质量联席会议", ["cleaning", "hvac_maintenance", "commuter_bus"], [
        ("hvac_maintenance", "会议中心空调制冷效果差",
         "大会议厅在满座时温度偏高，供应商已检测冷凝器。", "入夏前完成冷凝器清洗和冷媒补充。",
         [("完成大会议厅空调冷凝器清洗、补充冷媒", "韩磊", 20, "verified")]),
        ("commuter_bus", "通勤车准点率", "部分线路早班车晚点5–10分钟。",
         "调整发车时间，提前10分钟发车。", [("调整早班车发车时刻并公示", "杨帆", 7, "done")]),
        ("cleaning", "地毯清洗计划", "会议中心地毯污渍较多。", "每季度深度清洗一次。",
         [("制定并执行会议中心地毯季度清洗计划", "王建华", 60, "open")]),
    ])
    # The next one, planned: its agenda is pre-filled with the open actions carried over.
    upcoming = services.MeetingInput(
        title="第三季度服务质量联席会议", day=today + timedelta(days=10), start=time(14, 0),
        end=time(16, 0), location="区政府大院1号楼三楼第二会议室",
        supplier_ids=[by_code[c].id for c in ("cleaning", "elevator", "fire_monitoring")],
        staff_ids=[staff.id] if staff else [], chair="周建国", recorder="陈晓丽")
    services.create_meeting(actor, upcoming)
    context["meeting_actions"] = list(db.session.scalars(sa.select(ActionItem.id)))


@demo_loader(order=58)  # after the feedback (55): the loop from complaint to verified action
def link_actions_to_feedback(context: dict) -> None:
    """Each verified action answers one open feedback item about its supplier, so the demo's
    "ready to resolve" list shows the loop closing (staff resolve, the supervisor rates)."""
    from ..feedback.models import Feedback, FeedbackStatus

    with write_transaction():
        taken: set[int] = set()
        verified = db.session.scalars(sa.select(ActionItem).where(
            ActionItem.status == ActionStatus.VERIFIED, ActionItem.supplier_id.is_not(None))
            .order_by(ActionItem.id))
        for action in verified:
            item = db.session.scalar(
                sa.select(Feedback).where(Feedback.supplier_id == action.supplier_id,
                                          Feedback.status.in_(FeedbackStatus.OPEN),
                                          Feedback.id.not_in(taken or {0}))
                .order_by(Feedback.submitted_at))
            if item is not None:
                action.feedback.append(item)
                taken.add(item.id)
    context["feedback_answered_by_actions"] = sorted(taken)
