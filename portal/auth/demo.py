"""Demo accounts: one login per role, supervisors from the district's main offices."""

from __future__ import annotations

from ..database import utcnow, write_transaction
from ..demo import DEMO_PASSWORD, demo_loader
from ..extensions import db
from .models import Role, User
from .passwords import hash_password

# The seed: "聘请区府大院内主要委、办、局办公室主任为服务质量监督员".
DEMO_ACCOUNTS = [
    (Role.ADMIN, "admin@jgj.example.gov.cn", "周建国", "区机关事务管理局", "13800000001"),
    (Role.STAFF, "staff@jgj.example.gov.cn", "陈晓丽", "区机关事务管理局 后勤服务中心",
     "13800000002"),
    (Role.STAFF, "meeting@jgj.example.gov.cn", "王海燕", "区机关事务管理局 会议中心",
     "13800000003"),
    (Role.SUPERVISOR, "supervisor@fgw.example.gov.cn", "李明华", "区发展和改革委员会办公室",
     "13800000011"),
    (Role.SUPERVISOR, "jianduyuan@czj.example.gov.cn", "张卫东", "区财政局办公室", "13800000012"),
    (Role.SUPERVISOR, "jianduyuan@rd.example.gov.cn", "刘芳", "区人大常委会办公室", "13800000013"),
    (Role.SUPERVISOR, "jianduyuan@zx.example.gov.cn", "孙志刚", "区政协办公室", "13800000014"),
    (Role.CLIENT, "client@jinshan-chem.example.com", "赵磊", "金山精细化工研究会", "13900000021"),
    (Role.CLIENT, "wedding@example.com", "黄晓梅", "", "13900000022"),
]


@demo_loader(order=10)
def load_accounts(context: dict) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    users = {}
    with write_transaction():
        for role, email, name, organisation, phone in DEMO_ACCOUNTS:
            user = User(email=email, name=name, organisation=organisation, phone=phone,
                        role=role, password_hash=password_hash, email_verified_at=utcnow())
            db.session.add(user)
            users[email] = user
    context["users"] = users
    seen = set()
    for role, email, *_ in DEMO_ACCOUNTS:
        if role not in seen:
            context["logins"].append((role, email))
            seen.add(role)
