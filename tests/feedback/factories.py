"""Supervisor appointments, suppliers, contracts and feedback for tests.

Shared by the feedback, surveys and meetings tests. Every helper writes through
``write_transaction`` and returns ids.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from portal.catalogue.models import ServiceCategory
from portal.database import utcnow, write_transaction
from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackEvent, FeedbackStatus, SupervisorAppointment
from portal.i18n import local_today
from portal.suppliers.models import ServiceContract, Supplier, SupplierContact
from tests.catalogue.factories import make_category  # noqa: F401  (shared by many tests)
from tests.rentals.factories import valid_uscc

_sequence = count(1)


def make_appointment(app, user_id: int, unit: str = "区委办公室", title: str = "主任",
                     start: date | None = None, end: date | None = None,
                     ended_on: date | None = None, replaces_id: int | None = None) -> int:
    """A supervisor's term; by default it began a year ago and runs for another year."""
    with app.test_request_context(), write_transaction():
        today = local_today()
        appointment = SupervisorAppointment(
            user_id=user_id, unit=unit, title=title,
            letter_number=f"监督聘〔2026〕{next(_sequence):03d}号",
            term_start=start or today - timedelta(days=365),
            term_end=end or today + timedelta(days=365), ended_on=ended_on,
            replaces_id=replaces_id)
        db.session.add(appointment)
        db.session.flush()
        return appointment.id


def make_supplier(app, name: str | None = None, category_ids: tuple[int, ...] = (),
                  email: str = "") -> int:
    with app.test_request_context(), write_transaction():
        supplier = Supplier(name=name or f"测试物业服务有限公司{next(_sequence)}",
                            uscc=valid_uscc())
        supplier.contacts = [SupplierContact(name="王经理", title="", phone="13800138000",
                                             email=email, position=1)]
        supplier.services = [db.session.get(ServiceCategory, cid) for cid in category_ids]
        db.session.add(supplier)
        db.session.flush()
        return supplier.id


def make_contract(app, supplier_id: int, category_id: int, *, starts_on: date | None = None,
                  ends_on: date | None = None, amount_fen: int = 12_000_000,
                  number: str | None = None, successor_id: int | None = None,
                  response_hours: int | None = 2, fix_hours: int | None = 24) -> int:
    with app.test_request_context(), write_transaction():
        today = local_today()
        contract = ServiceContract(
            supplier_id=supplier_id, category_id=category_id,
            number=number or f"HT-2026-{next(_sequence):04d}", title="物业保洁服务合同",
            starts_on=starts_on or today - timedelta(days=180),
            ends_on=ends_on or today + timedelta(days=185), amount_fen=amount_fen,
            payment_terms="按季度支付", response_hours=response_hours, fix_hours=fix_hours,
            successor_id=successor_id)
        db.session.add(contract)
        db.session.flush()
        return contract.id


def make_feedback(app, supervisor_id: int, category_id: int, *, appointment_id: int | None = None,
                  status: str = FeedbackStatus.SUBMITTED, description: str = "三楼卫生间地面有积水",
                  service_rating: int = 3, urgency: str = "normal",
                  supplier_id: int | None = None, contract_id: int | None = None,
                  submitted_on: date | None = None, **fields) -> int:
    """A feedback item written directly in ``status`` (no transitions, no emails).

    Deadlines follow the category's SLA from ``submitted_on`` (today by default); fields that
    the status implies (a handling rating when closed, a reason when rejected) are filled in.
    """
    with app.test_request_context(), write_transaction():
        category = db.session.get(ServiceCategory, category_id)
        if appointment_id is None:
            appointment_id = db.session.scalar(
                db.select(SupervisorAppointment.id)
                .where(SupervisorAppointment.user_id == supervisor_id)
                .order_by(SupervisorAppointment.id.desc()))
        day = submitted_on or local_today()
        if status == FeedbackStatus.CLOSED:
            fields.setdefault("handling_rating", 4)
        if status in (FeedbackStatus.REJECTED, FeedbackStatus.DUPLICATE):
            fields.setdefault("reason", "不属于服务范围")
        item = Feedback(
            supervisor_id=supervisor_id, appointment_id=appointment_id, category_id=category_id,
            description=description, service_rating=service_rating, urgency=urgency,
            status=status, supplier_id=supplier_id, contract_id=contract_id,
            **category.deadlines(day), **fields)
        db.session.add(item)
        db.session.flush()
        db.session.add(FeedbackEvent(feedback_id=item.id, action="submit", to_status=status,
                                     actor_id=supervisor_id, at=utcnow()))
        return item.id


def make_feedback_samples(app) -> dict:
    """Records for the route walk: another supervisor's item (with a photo) in a building,
    its appointment, its category."""
    import io

    from werkzeug.datastructures import FileStorage

    from portal import uploads
    from portal.feedback.models import FeedbackPhoto
    from tests.bookings.factories import jpeg_bytes
    from tests.conftest import make_user
    from tests.rentals.factories import make_building

    owner = make_user(app, "supervisor")
    appointment_id = make_appointment(app, owner.id)
    category_id = make_category(app)
    feedback_id = make_feedback(app, owner.id, category_id, status=FeedbackStatus.RESOLVED,
                                response="已处理")
    with app.test_request_context():
        photo = uploads.add_photo(FeedbackPhoto, "feedback",
                                  FileStorage(io.BytesIO(jpeg_bytes()), "x.jpg"), "",
                                  feedback_id=feedback_id)
        name = photo.file_name
    return {"feedback_id": feedback_id, "appointment_id": appointment_id,
            "category_id": category_id, "feedback_photo_name": name,
            "building_id": make_building(app)}


def photo_submission(csrf: str, category_id, photos: list[bytes],
                     content_type: str = "image/jpeg") -> tuple[bytes, str]:
    """A supervisor's feedback form with ``photos``, encoded as a browser posts it:
    (body, Content-Type header)."""
    import io

    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict({"csrf_token": csrf, "category_id": str(category_id),
                        "description": "食堂餐具清洗不干净", "service_rating": "2",
                        "urgency": "normal"})
    suffix = content_type.split("/")[1].replace("jpeg", "jpg")
    for n, data in enumerate(photos):
        values.add("photos", FileStorage(stream=io.BytesIO(data), filename=f"IMG_{n}.{suffix}",
                                         content_type=content_type))
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"
