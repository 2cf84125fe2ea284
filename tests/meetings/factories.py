"""Meetings, agenda items and action items for tests; every helper returns ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from portal.database import write_transaction
from portal.extensions import db
from portal.i18n import local_today, local_zone
from portal.meetings.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    AgendaKind,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
)
from portal.suppliers.models import Supplier


def make_meeting(app, supplier_ids: list[int], *, status: str = MeetingStatus.PLANNED,
                 day: date | None = None, title: str = "第三季度服务质量联席会议",
                 created_by_id: int | None = None, staff_ids: tuple[int, ...] = ()) -> int:
    with app.test_request_context(), write_transaction():
        day = day or local_today() + timedelta(days=7)
        zone = local_zone()
        meeting = Meeting(
            title=title, starts_at=datetime.combine(day, time(9, 30), tzinfo=zone),
            ends_at=datetime.combine(day, time(11, 30), tzinfo=zone), location="机关大楼三楼会议室",
            status=status, chair="李局长", recorder="张科员", summary="",
            cancel_reason="会议取消" if status == MeetingStatus.CANCELLED else "",
            created_by_id=created_by_id)
        meeting.suppliers = [db.session.get(Supplier, sid) for sid in supplier_ids]
        db.session.add(meeting)
        for sid in supplier_ids:
            meeting.attendees.append(MeetingAttendee(supplier_id=sid, name="王经理",
                                                     title="项目经理"))
        for uid in staff_ids:
            meeting.attendees.append(MeetingAttendee(user_id=uid, name="", title=""))
        db.session.flush()
        return meeting.id


def make_agenda_item(app, meeting_id: int, title: str = "保洁服务质量", *,
                     supplier_id: int | None = None, feedback_id: int | None = None,
                     position: int = 1) -> int:
    with app.test_request_context(), write_transaction():
        item = AgendaItem(meeting_id=meeting_id, title=title, supplier_id=supplier_id,
                          feedback_id=feedback_id, position=position,
                          kind=AgendaKind.FEEDBACK if feedback_id else AgendaKind.OTHER,
                          discussion="", decisions="")
        db.session.add(item)
        db.session.flush()
        return item.id


def make_action(app, meeting_id: int, *, supplier_id: int | None = None,
                agenda_item_id: int | None = None, description: str = "加强卫生间巡查",
                person: str = "王经理", due_on: date | None = None,
                status: str = ActionStatus.OPEN, feedback_ids: tuple[int, ...] = ()) -> int:
    from portal.feedback.models import Feedback

    with app.test_request_context(), write_transaction():
        action = ActionItem(meeting_id=meeting_id, agenda_item_id=agenda_item_id,
                            description=description, supplier_id=supplier_id,
                            responsible_person=person,
                            due_on=due_on if due_on is not None else local_today()
                            + timedelta(days=14), status=status, note="")
        action.feedback = [db.session.get(Feedback, fid) for fid in feedback_ids]
        db.session.add(action)
        db.session.flush()
        return action.id


@dataclass
class World:
    """A member of staff, a supervisor, a category, its supplier and their contract."""

    staff_id: int
    supervisor_id: int
    category_id: int
    supplier_id: int
    contract_id: int


def make_world(app) -> World:
    from tests.conftest import make_user
    from tests.feedback.factories import (
        make_appointment,
        make_category,
        make_contract,
        make_supplier,
    )

    staff = make_user(app, "staff")
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    category_id = make_category(app)
    supplier_id = make_supplier(app, category_ids=(category_id,))
    contract_id = make_contract(app, supplier_id, category_id)
    return World(staff.id, supervisor.id, category_id, supplier_id, contract_id)
