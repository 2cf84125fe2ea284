"""Demo: the work report of the current half-year, a draft with the narrative only people
know, in the words of the seed ("圆满完成…会议服务230多批", "聘请…为服务质量监督员")."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from ..bookings.models import Booking
from ..database import write_transaction
from ..demo import demo_loader
from ..extensions import db
from ..i18n import local_today
from ..roles import Role
from . import periods, services

NARRATIVES = {
    "venues": "圆满完成区人代会、区政协会议等重要会议的会务保障，为优化投资环境做出了窗口服务的"
              "表率。\n食堂对外承办外来会议就餐、喜庆婚宴等餐饮服务。",
    "rentals": "把闲置房屋租赁出去，把创收费用于添置部分后勤设施、补充设备的运行费不足。",
    "supervision": "聘请各委办局办公室主任为服务质量监督员，定期听取意见，使后勤服务满意率不断"
                   "提高。",
    "suppliers": "与合作单位签订委托服务协议书和廉政协议书，定期召开服务质量联席会议。",
    "income": "创收费用用于改善干部职工生活待遇。",
}


GOVERNMENT_SESSIONS = ("区人大常委会会议", "区政协常委会议")


@demo_loader(order=90)  # after every module's data
def load_work_report(context: dict) -> None:
    users = context.get("users", {})
    staff = next((u for u in users.values() if u.role == Role.STAFF), None)
    actor = staff or SimpleNamespace(id=None, role=Role.STAFF)
    with write_transaction():  # the people's congress and CPPCC sessions of the demo
        for booking in db.session.scalars(sa.select(Booking).where(
                Booking.title.in_(GOVERNMENT_SESSIONS), Booking.client_id.is_(None))):
            booking.category = "government_session"
    day = local_today()
    period = periods.half(day.year, 1 if day.month <= 6 else 2)
    report = services.open_draft(period, actor)
    for section, text in NARRATIVES.items():
        services.save_narrative(report, section, text, actor)
