"""Lease pages through HTTP: drafting with errors beside fields, the lifecycle, the schedule with
inline payments (idempotent), deposit, renewal, the list, and what a tenant's account sees.

The pages are read in English (the language cookie), so the assertions do not depend on the
Chinese catalog being up to date.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.database import write_transaction
from portal.extensions import db
from portal.periods import is_overlap_violation
from portal.rentals import services
from portal.rentals.models import Lease, LeaseRoom, LeaseStatus, Payment, RoomStatus
from tests.conftest import make_user
from tests.helpers import bureau_today, form_data
from tests.rentals.factories import make_lease, make_room, make_tenant

_KEY = re.compile(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"')


def english(client):
    client.get("/?lang=en")
    return client


@pytest.fixture
def staff(login_as):
    return english(login_as("staff"))


@pytest.fixture
def admin(login_as):
    return english(login_as("admin"))




def _ref(lease_id: int) -> str:
    return f"ZL{lease_id:06d}"


def _fields(tenant_id, room_ids, start, end, **extra) -> dict:
    data = {
        "tenant_id": str(tenant_id), "room_ids": [str(r) for r in room_ids],
        "start": start.isoformat(), "end": end.isoformat(), "payment_cycle": "monthly",
        "monthly_rent": "", "rent_override_reason": "", "deposit_due": "0",
        "rent_free_until": "", "yearly_increase_pct": "0", "note": "",
    }
    data.update(extra)
    return data


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _lease(app, lease_id) -> Lease:
    with app.app_context():
        lease = db.session.get(Lease, lease_id)
        db.session.expunge(lease)
        return lease


def _balance(app, lease_id) -> dict:
    with app.test_request_context():
        return services.lease_balance(db.session.get(Lease, lease_id))


# --- drafting --------------------------------------------------------------------------------


def test_staff_draft_a_lease_at_the_standard_rent(app, staff):
    tenant = make_tenant(app, name="金山商贸有限公司")
    room = make_room(app, code="101", area="50", standard_fen=5_000)  # ¥2,500.00 a month
    other = make_room(app, code="102", area="30.5", standard_fen=6_000)  # ¥1,830.00
    page = staff.get(f"/rentals/leases/new?tenant_id={tenant}&room_id={room}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<option selected value="{tenant}">' in html
    assert f'<option selected value="{room}">' in html
    assert "¥2,500.00 a month (50.00 m²)" in html  # the hint for the chosen room
    hint = staff.get(f"/rentals/leases/room-check?room_ids={room}&room_ids={other}",
                     headers={"HX-Request": "true"}).get_data(as_text=True)
    assert hint.lstrip().startswith('<div id="room-check"')
    assert "¥4,330.00 a month (80.50 m²)" in hint

    start = bureau_today(app) + timedelta(days=10)
    response = staff.post("/rentals/leases/new", data=form_data(
        staff, "/rentals/leases/new",
        **_fields(tenant, [room, other], start, start + timedelta(days=364),
                  deposit_due="8660", note="临街商铺")))
    assert response.status_code == 303
    lease_id = int(response.headers["Location"].rsplit("/", 1)[1])
    lease = _lease(app, lease_id)
    assert lease.status == LeaseStatus.DRAFT and lease.monthly_rent_fen == 433_000
    assert lease.deposit_due_fen == 866_000 and lease.note == "临街商铺"
    detail = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Lease {_ref(lease_id)} is drafted" in detail
    assert "Rent schedule" in detail and "¥4,330.00" in detail
    assert "Submit for approval" in detail and ">Approve<" not in detail  # staff never approve
    assert 'id="payment-form"' not in detail  # payments only on active leases


def test_a_different_rent_needs_a_reason(app, staff):
    tenant, room = make_tenant(app), make_room(app, area="50", standard_fen=5_000)
    start = bureau_today(app) + timedelta(days=5)
    fields = _fields(tenant, [room], start, start + timedelta(days=364), monthly_rent="2000")
    refused = staff.post("/rentals/leases/new", data=form_data(staff, "/rentals/leases/new",
                                                               **fields))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="rent_override_reason-error"' in html and "give the reason" in html
    assert "¥2,500.00" in html
    fields["rent_override_reason"] = "招商引资优惠"
    saved = staff.post("/rentals/leases/new", data=form_data(staff, "/rentals/leases/new",
                                                             **fields))
    assert saved.status_code == 303
    with app.app_context():
        lease = db.session.scalar(sa.select(Lease))
        assert lease.monthly_rent_fen == 200_000 and lease.rent_override_reason == "招商引资优惠"


@pytest.mark.parametrize("case, field, message", [
    ("backwards", "end", "The last day cannot be before the first day."),
    ("no_rooms", "room_ids", "Choose at least one room."),
    ("no_tenant", "tenant_id", "Choose a tenant."),
    ("office", "room_ids", "is office space of 区财政局 and cannot be leased"),
    ("leased", "room_ids", "is leased by ZL"),
    ("renovation", "room_ids", "is not available for leasing"),
    ("rent_free", "rent_free_until", "The rent-free period must lie within the lease."),
    ("increase", "yearly_increase_pct", "Enter a percentage from 0 to 100."),
    ("negative", "deposit_due", "Enter an amount of zero or more."),
    ("fractions", "monthly_rent", "at most two decimals"),
    ("missing_end", "end", "Choose a date."),
])
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(app, staff, case, field,
                                                                     message):
    tenant = make_tenant(app)
    idle = make_room(app)
    today = bureau_today(app)
    start, end = today + timedelta(days=10), today + timedelta(days=374)
    fields = _fields(tenant, [idle], start, end)
    if case == "backwards":
        fields["end"] = (start - timedelta(days=1)).isoformat()
    elif case == "no_rooms":
        del fields["room_ids"]
    elif case == "no_tenant":
        fields["tenant_id"] = "0"
    elif case == "office":
        fields["room_ids"] = [str(make_room(app, status=RoomStatus.RESERVED_FOR_OFFICE,
                                            department="区财政局"))]
    elif case == "leased":
        taken = make_room(app)
        make_lease(app, make_tenant(app), [taken], start=today - timedelta(days=30))
        fields["room_ids"] = [str(taken)]
    elif case == "renovation":
        fields["room_ids"] = [str(make_room(app, status=RoomStatus.UNDER_RENOVATION))]
    elif case == "rent_free":
        fields["rent_free_until"] = (end + timedelta(days=1)).isoformat()
    elif case == "increase":
        fields["yearly_increase_pct"] = "150"
    elif case == "negative":
        fields["deposit_due"] = "-1"
    elif case == "fractions":
        fields["monthly_rent"] = "2500.005"
    elif case == "missing_end":
        fields["end"] = ""
    before = _count(app, Lease)
    response = staff.post("/rentals/leases/new", data=form_data(staff, "/rentals/leases/new",
                                                                **fields))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html, html
    error = html.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert _count(app, Lease) == before


def test_every_problem_of_a_lease_is_shown_at_once(app, staff):
    tenant, room = make_tenant(app), make_room(app, area="50", standard_fen=5_000)
    start = bureau_today(app) + timedelta(days=10)
    fields = _fields(tenant, [room], start, start - timedelta(days=1), monthly_rent="2000",
                     yearly_increase_pct="150", deposit_due="0")
    response = staff.post("/rentals/leases/new", data=form_data(staff, "/rentals/leases/new",
                                                                **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("end", "yearly_increase_pct", "rent_override_reason"):
        assert f'id="{field}-error"' in html, field
    assert _count(app, Lease) == 0


def test_htmx_gets_the_form_back_in_place(app, staff):
    tenant, room = make_tenant(app), make_room(app)
    today = bureau_today(app)
    response = staff.post("/rentals/leases/new", headers={"HX-Request": "true"},
                          data=form_data(staff, "/rentals/leases/new", **_fields(
                              tenant, [room], today, today - timedelta(days=1))))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form method="post" action="/rentals/leases/new"')
    assert "<html" not in body and 'id="end-error"' in body
    saved = staff.post("/rentals/leases/new", headers={"HX-Request": "true"},
                       data=form_data(staff, "/rentals/leases/new", **_fields(
                           tenant, [room], today, today + timedelta(days=99))))
    assert saved.status_code == 204 and saved.headers["HX-Redirect"].startswith(
        "/rentals/leases/")


def test_only_drafts_and_active_leases_are_edited(app, staff):
    tenant, room, other = make_tenant(app), make_room(app), make_room(app)
    today = bureau_today(app)
    draft = make_lease(app, tenant, [room], start=today, end=today + timedelta(days=99),
                       status="draft")
    page = staff.get(f"/rentals/leases/{draft}/edit").get_data(as_text=True)
    assert f'value="{(today + timedelta(days=99)).isoformat()}"' in page
    moved = staff.post(f"/rentals/leases/{draft}/edit", data=form_data(
        staff, f"/rentals/leases/{draft}/edit",
        **_fields(tenant, [other], today, today + timedelta(days=199))))
    assert moved.status_code == 303
    with app.app_context():
        lease = db.session.get(Lease, draft)
        assert [item.room_id for item in lease.rooms] == [other]
        assert lease.end_date == today + timedelta(days=199)
    pending = make_lease(app, tenant, [room], start=today, end=today + timedelta(days=99),
                         status="pending_approval")
    refused = staff.get(f"/rentals/leases/{pending}/edit")
    assert refused.status_code == 303
    assert "can no longer be changed" in staff.get(refused.headers["Location"]).get_data(
        as_text=True)
    posted = staff.post(f"/rentals/leases/{pending}/edit", data=form_data(
        staff, f"/rentals/leases/{draft}/edit",
        **_fields(tenant, [room], today, today + timedelta(days=9))))
    assert posted.status_code == 303
    assert _lease(app, pending).end_date == today + timedelta(days=99)
    # An active lease may be corrected by staff; its paid periods are kept.
    active = make_lease(app, tenant, [make_room(app)], start=today - timedelta(days=30))
    correction = staff.get(f"/rentals/leases/{active}/edit").get_data(as_text=True)
    assert "This lease is active" in correction
    assert staff.post(f"/rentals/leases/{active}/nonsense", data=form_data(
        staff, f"/rentals/leases/{active}")).status_code == 404


# --- the lifecycle ---------------------------------------------------------------------------


def test_submit_approve_and_the_room_shows_as_leased(app, staff, admin):
    room = make_room(app, code="101")
    today = bureau_today(app)
    lease_id = make_lease(app, make_tenant(app), [room], start=today - timedelta(days=40),
                          status="draft")
    path = f"/rentals/leases/{lease_id}"
    submitted = staff.post(f"{path}/submit", data=form_data(staff, path))
    assert submitted.status_code == 303
    assert _lease(app, lease_id).status == LeaseStatus.PENDING
    # Staff cannot approve: the button is not there and the request is refused.
    page = staff.get(path).get_data(as_text=True)
    assert "Awaiting approval" in page and f"{path}/approve" not in page
    # Its first periods lie in the past, yet nothing is owed before the approval.
    assert 'id="schedule-proposed"' in page and ">Overdue</span>" not in page
    assert '<dd id="balance-overdue">CN¥0.00</dd>' in page
    listed = staff.get("/rentals/leases").get_data(as_text=True)
    assert "badge danger" not in listed.split(f'id="lease-{lease_id}"', 1)[1].split("</tr>")[0]
    refused = staff.post(f"{path}/approve", data=form_data(staff, path))
    assert refused.status_code == 409
    assert "This action is not possible in the record" in refused.get_data(as_text=True)

    listing = admin.get("/rentals/leases").get_data(as_text=True)
    assert "Leases waiting for your approval: 1" in listing
    waiting = admin.get("/rentals/leases?status=pending_approval").get_data(as_text=True)
    assert _ref(lease_id) in waiting
    no_reason = admin.post(f"{path}/send_back", data=form_data(admin, path, reason=""),
                           headers={"HX-Request": "true"})
    assert no_reason.status_code == 422
    body = no_reason.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card" id="lease-actions">')
    assert 'id="send_back-reason-error"' in body and "Please give a reason." in body
    approved = admin.post(f"{path}/approve", data=form_data(admin, path))
    assert approved.status_code == 303
    page = admin.get(path).get_data(as_text=True)
    assert f"Lease {_ref(lease_id)}: Active." in page
    assert 'id="schedule-proposed"' not in page and ">Overdue</span>" in page
    row = page.split(f'id="lease-room-{room}"', 1)[1].split("</tr>", 1)[0]
    assert "Leased" in row
    assert 'id="payment-form"' in page and 'id="schedule-table"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(LeaseRoom.active).where(
            LeaseRoom.lease_id == lease_id))


def test_termination_needs_a_reason_and_a_date(app, staff):
    today = bureau_today(app)
    lease_id = make_lease(app, make_tenant(app), [make_room(app)],
                          start=today - timedelta(days=100))
    path = f"/rentals/leases/{lease_id}"
    page = staff.get(path).get_data(as_text=True)
    assert f'action="{path}/terminate"' in page
    assert f'action="{path}/end"' not in page  # the lease runs: it is not "ended" yet
    no_date = staff.post(f"{path}/terminate", data=form_data(staff, path, reason="企业搬迁",
                                                             terminated_on=""))
    assert no_date.status_code == 422
    assert 'id="terminate-terminated_on-error"' in no_date.get_data(as_text=True)
    outside = staff.post(f"{path}/terminate", data=form_data(
        staff, path, reason="企业搬迁", terminated_on=(today + timedelta(days=400)).isoformat()))
    assert outside.status_code == 422
    assert "must lie within the lease" in outside.get_data(as_text=True)
    no_reason = staff.post(f"{path}/terminate", data=form_data(
        staff, path, reason="", terminated_on=today.isoformat()))
    assert "Please give a reason." in no_reason.get_data(as_text=True)
    early_end = staff.post(f"{path}/end", data=form_data(staff, path))
    assert early_end.status_code == 409
    assert "terminate it early" in early_end.get_data(as_text=True)
    assert _lease(app, lease_id).status == LeaseStatus.ACTIVE
    done = staff.post(f"{path}/terminate", data=form_data(
        staff, path, reason="企业搬迁", terminated_on=today.isoformat()))
    assert done.status_code == 303
    lease = _lease(app, lease_id)
    assert lease.status == LeaseStatus.TERMINATED and lease.terminated_on == today
    assert lease.reason == "企业搬迁"


# --- schedule and payments -------------------------------------------------------------------


def _payment(client, path, key, amount, paid_on, **extra):
    fields = {"receipt_no": "SJ-001", **extra}
    return form_data(client, path, paid_on=paid_on.isoformat(), amount=amount,
                     method="bank_transfer", idempotency_key=key, **fields)


def test_a_payment_recorded_inline_updates_the_schedule_in_place(app, staff):
    today = bureau_today(app)
    lease_id = make_lease(app, make_tenant(app), [make_room(app, area="50", standard_fen=5_000)],
                          start=today - timedelta(days=75))
    path = f"/rentals/leases/{lease_id}"
    page = staff.get(path).get_data(as_text=True)
    key = _KEY.search(page).group(1)
    before = _balance(app, lease_id)
    assert before["overdue"] > 100_000

    response = staff.post(f"{path}/payments", headers={"HX-Request": "true"},
                          data=_payment(staff, path, key, "1000", today))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card" id="schedule">')
    assert "<html" not in body and "A payment of CN¥1,000.00 is recorded." in body
    assert "paymentRecorded" in response.headers["HX-Trigger"]
    after = _balance(app, lease_id)
    assert after["overdue"] == before["overdue"] - 100_000  # the oldest periods first
    assert after["paid"] == 100_000
    assert f'<dd id="balance-overdue"><strong>CN¥{after["overdue"] / 100:,.2f}</strong>' in body
    new_key = _KEY.search(body).group(1)
    assert new_key != key  # a fresh form for the next payment
    assert 'id="payments-table"' in body and "SJ-001" in body

    # The same form again (a double click, a resent request): still one payment.
    again = staff.post(f"{path}/payments", headers={"HX-Request": "true"},
                       data=_payment(staff, path, key, "1000", today))
    assert again.status_code == 200
    assert "recorded already" in again.get_data(as_text=True)
    assert _count(app, Payment) == 1
    assert _balance(app, lease_id)["paid"] == 100_000

    # A receipt number names one payment: used again, it is refused beside its field.
    reused = staff.post(f"{path}/payments", data=_payment(staff, path, new_key, "500.50", today))
    assert reused.status_code == 422
    assert 'id="receipt_no-error"' in reused.get_data(as_text=True)
    assert "Receipt SJ-001 is already recorded" in reused.get_data(as_text=True)
    # So is a payment dated tomorrow; neither saved anything.
    ahead = staff.post(f"{path}/payments", data=_payment(
        staff, path, new_key, "500.50", today + timedelta(days=1), receipt_no="SJ-002"))
    assert ahead.status_code == 422
    assert "The payment date cannot be in the future." in ahead.get_data(as_text=True)
    assert _count(app, Payment) == 1 and _balance(app, lease_id)["paid"] == 100_000

    # Without JavaScript: a plain POST and a redirect back to the schedule.
    plain = staff.post(f"{path}/payments", data=_payment(staff, path, new_key, "500.50", today,
                                                         receipt_no="SJ-002"))
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"{path}#schedule")
    assert "A payment of CN¥500.50 is recorded." in staff.get(plain.headers["Location"]).get_data(
        as_text=True)
    assert _balance(app, lease_id)["paid"] == 150_050


def test_a_payment_of_zero_or_on_an_ended_lease_is_refused(app, staff):
    today = bureau_today(app)
    lease_id = make_lease(app, make_tenant(app), [make_room(app)],
                          start=today - timedelta(days=75))
    path = f"/rentals/leases/{lease_id}"
    zero = staff.post(f"{path}/payments", headers={"HX-Request": "true"},
                      data=_payment(staff, path, "a" * 32, "0", today))
    assert zero.status_code == 422
    body = zero.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card" id="schedule">')
    assert 'id="amount-error"' in body and "Enter an amount greater than zero." in body
    assert 'value="' + "a" * 32 + '"' in body  # the same form, the same key
    _as(app, "admin", lambda user: services.transition(
        db.session.get(Lease, lease_id), "terminate", user, reason="退租", on=today))
    ended = staff.post(f"{path}/payments", data=_payment(staff, path, "b" * 32, "100", today))
    assert ended.status_code == 422
    assert "Payments are recorded on active leases only." in ended.get_data(as_text=True)
    assert 'id="payment-form"' not in ended.get_data(as_text=True)
    assert _count(app, Payment) == 0


def _as(app, role, work):
    """Run ``work(user)`` as a new user of ``role``, as in a request."""
    from portal.auth.models import User

    user_id = make_user(app, role).id
    with app.test_request_context():
        return work(db.session.get(User, user_id))


def _pay(app, lease_id, amount_fen, on, key, receipt=""):
    _as(app, "staff", lambda user: services.record_payment(
        user, db.session.get(Lease, lease_id), on, amount_fen, "bank_transfer", receipt, key))


# --- deposit and renewal ---------------------------------------------------------------------


def test_deposit_received_and_settled_with_a_deduction(app, staff):
    today = bureau_today(app)
    lease_id = make_lease(app, make_tenant(app), [make_room(app)],
                          start=today - timedelta(days=75), deposit_due_fen=500_000)
    path = f"/rentals/leases/{lease_id}"
    page = staff.get(path).get_data(as_text=True)
    assert 'id="deposit-form"' in page and 'id="settle-form"' not in page
    received = staff.post(f"{path}/deposit", headers={"HX-Request": "true"}, data=form_data(
        staff, path, deposit_received="5000", received_on=today.isoformat()))
    assert received.status_code == 200
    body = received.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card" id="deposit">')
    assert "The deposit received is recorded." in body and 'id="settle-form"' in body
    unexplained = staff.post(f"{path}/deposit/settle", data=form_data(
        staff, path, returned="4000", deducted="1000", deduction_reason="",
        settled_on=today.isoformat()))
    assert unexplained.status_code == 422
    assert 'id="deduction_reason-error"' in unexplained.get_data(as_text=True)
    wrong_sum = staff.post(f"{path}/deposit/settle", data=form_data(
        staff, path, returned="4000", deducted="0", deduction_reason="",
        settled_on=today.isoformat()))
    assert 'id="returned-error"' in wrong_sum.get_data(as_text=True)
    settled = staff.post(f"{path}/deposit/settle", data=form_data(
        staff, path, returned="4000", deducted="1000", deduction_reason="墙面修复",
        settled_on=today.isoformat()))
    assert settled.status_code == 303
    lease = _lease(app, lease_id)
    assert (lease.deposit_received_fen, lease.deposit_returned_fen,
            lease.deposit_deducted_fen) == (500_000, 400_000, 100_000)
    page = staff.get(path).get_data(as_text=True)
    assert "墙面修复" in page and 'id="deposit-form"' not in page
    late = staff.post(f"{path}/deposit", data=form_data(
        staff, path, deposit_received="6000", received_on=today.isoformat()))
    assert late.status_code == 409
    assert "The deposit changed a moment ago" in late.get_data(as_text=True)
    assert 'id="deposit-status">Settled<' in late.get_data(as_text=True)
    assert _lease(app, lease_id).deposit_received_fen == 500_000


def test_renewal_drafts_a_linked_successor_once(app, staff):
    today = bureau_today(app)
    end = today + timedelta(days=60)
    lease_id = make_lease(app, make_tenant(app), [make_room(app)],
                          start=today - timedelta(days=300), end=end)
    path = f"/rentals/leases/{lease_id}"
    page = staff.get(path).get_data(as_text=True)
    assert "Expiring in 60 days" in page and 'id="renew-form"' in page
    backwards = staff.post(f"{path}/renew", data=form_data(
        staff, path, end=(end - timedelta(days=5)).isoformat()))
    assert backwards.status_code == 422 and 'id="end-error"' in backwards.get_data(as_text=True)
    renewed = staff.post(f"{path}/renew", data=form_data(
        staff, path, end=(end + timedelta(days=365)).isoformat(), monthly_rent="",
        rent_override_reason=""))
    assert renewed.status_code == 303
    successor = int(renewed.headers["Location"].rsplit("/", 1)[1])
    new = _lease(app, successor)
    assert new.predecessor_id == lease_id and new.start_date == end + timedelta(days=1)
    assert new.status == LeaseStatus.DRAFT
    successor_page = staff.get(f"/rentals/leases/{successor}").get_data(as_text=True)
    assert f'href="{path}">{_ref(lease_id)}</a>' in successor_page
    page = staff.get(path).get_data(as_text=True)
    assert f'href="/rentals/leases/{successor}">{_ref(successor)}</a>' in page
    assert 'id="renew-form"' not in page
    twice = staff.post(f"{path}/renew", data=form_data(
        staff, path, end=(end + timedelta(days=365)).isoformat()))
    assert twice.status_code == 422
    assert f"already renewed by {_ref(successor)}" in twice.get_data(as_text=True)


# --- the list --------------------------------------------------------------------------------


def test_list_filters_searches_and_shows_expiring_leases(app, staff):
    today = bureau_today(app)
    shop = make_tenant(app, name="金山商贸有限公司")
    cafe = make_tenant(app, name="朱泾咖啡店")
    expiring = make_lease(app, shop, [make_room(app)], start=today - timedelta(days=300),
                          end=today + timedelta(days=30))
    running = make_lease(app, cafe, [make_room(app)], start=today - timedelta(days=30),
                         end=today + timedelta(days=300))
    draft = make_lease(app, cafe, [make_room(app)], status="draft",
                       start=today + timedelta(days=30))
    html = staff.get("/rentals/leases").get_data(as_text=True)
    assert all(_ref(n) in html for n in (expiring, running, draft))
    row = html.split(f'id="lease-{expiring}"', 1)[1].split("</tr>", 1)[0]
    assert "Expiring in 30 days" in row
    row = html.split(f'id="lease-{running}"', 1)[1].split("</tr>", 1)[0]
    assert "Expiring" not in row
    assert "waiting for your approval" not in html.lower()  # an admin's section
    drafts = staff.get("/rentals/leases?status=draft", headers={"HX-Request": "true"})
    body = drafts.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="results">')
    assert _ref(draft) in body and _ref(running) not in body
    found = staff.get("/rentals/leases?q=咖啡", headers={"HX-Request": "true"}).get_data(
        as_text=True)
    assert _ref(running) in found and _ref(draft) in found and _ref(expiring) not in found
    nothing = staff.get("/rentals/leases?q=nobody").get_data(as_text=True)
    assert "No leases match." in nothing


def test_lists_run_a_fixed_number_of_queries(app, login_as, count_queries):
    today = bureau_today(app)
    staff, admin = login_as("staff"), login_as("admin")
    account = make_user(app, "client")
    tenant = make_tenant(app, user_id=account.id)
    from tests.conftest import login

    client = app.test_client()
    login(client, account)

    def add(n):
        for _ in range(n):
            lease_id = make_lease(app, tenant, [make_room(app), make_room(app)],
                                  start=today - timedelta(days=100))
            _pay(app, lease_id, 50_000, today, f"k{lease_id}")
            make_lease(app, make_tenant(app), [make_room(app)], status="pending_approval")

    def counts():
        result = []
        for who, url in ((staff, "/rentals/leases"), (admin, "/rentals/leases"),
                         (admin, "/rentals/leases?status=active&q=测试"),
                         (client, "/rentals/my")):
            with count_queries() as queries:
                assert who.get(url).status_code == 200
            result.append(len([q for q in queries if q.startswith("SELECT")]))
        return result

    add(1)
    few = counts()
    add(6)
    many = counts()
    assert many == few
    assert max(few) <= 12


# --- what a tenant sees ----------------------------------------------------------------------


def test_a_tenant_sees_its_own_leases_read_only_and_nothing_else(app, login_as):
    today = bureau_today(app)
    me = english(login_as("client"))
    mine = make_tenant(app, name="金山商贸有限公司", user_id=me.account.id)
    other = make_tenant(app, name="朱泾咖啡店")
    my_lease = make_lease(app, mine, [make_room(app)], start=today - timedelta(days=75))
    their_lease = make_lease(app, other, [make_room(app)], start=today - timedelta(days=75))
    _pay(app, my_lease, 120_000, today, "client-view", receipt="SJ-777")

    listing = me.get("/rentals/my").get_data(as_text=True)
    assert _ref(my_lease) in listing and _ref(their_lease) not in listing
    assert "金山商贸有限公司" in listing
    page = me.get(f"/rentals/leases/{my_lease}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="schedule-table"' in html and "SJ-777" in html and "¥1,200.00" in html
    for staff_only in ('id="payment-form"', 'id="lease-actions"', 'id="deposit-form"',
                       'id="renew-form"', "/edit", "History"):
        assert staff_only not in html, staff_only
    assert me.get(f"/rentals/leases/{their_lease}").status_code == 404
    path = f"/rentals/leases/{my_lease}"
    assert me.post(f"{path}/payments", data=_payment(me, path, "c" * 32, "100", today)
                   ).status_code == 403
    assert me.post(f"{path}/submit", data=form_data(me, path)).status_code == 403
    assert me.get("/rentals/leases").status_code == 403
    assert _count(app, Payment) == 1

    stranger = english(login_as("client"))
    assert "No tenant is linked to your account." in stranger.get("/rentals/my").get_data(
        as_text=True)
    assert stranger.get(f"/rentals/leases/{my_lease}").status_code == 404
    assert english(login_as("staff")).get("/rentals/my").status_code == 403


def test_navigation_by_role(app, login_as):
    staff = english(login_as("staff")).get("/").get_data(as_text=True)
    client = english(login_as("client")).get("/").get_data(as_text=True)
    assert 'href="/rentals/leases">Leases</a>' in staff and "/rentals/my" not in staff
    assert 'href="/rentals/my">My leases</a>' in client and "/rentals/leases" not in client


# --- a lease that ends early, drafts and the tenant ------------------------------------------


def test_an_early_termination_keeps_the_rooms_leased_until_the_last_day(app, staff, admin):
    """Terminated with three weeks left: the room stays leased (occupancy, room list) and a
    lease overlapping those weeks is refused, by the service and by the database guard; one
    starting the day after the last day is approved."""
    today = bureau_today(app)
    room = make_room(app, code="301", area="40")
    lease_id = make_lease(app, make_tenant(app), [room], start=today - timedelta(days=200),
                          end=today + timedelta(days=160))
    path = f"/rentals/leases/{lease_id}"
    last_day = today + timedelta(days=21)
    done = staff.post(f"{path}/terminate", data=form_data(
        staff, path, reason="企业搬迁", terminated_on=last_day.isoformat(),
        expected_status="active"))
    assert done.status_code == 303
    # Still leased today: the room list, the room's state on the lease and the occupancy.
    assert "Leased" in staff.get(path).get_data(as_text=True).split(
        f'id="lease-room-{room}"', 1)[1].split("</tr>", 1)[0]
    with app.test_request_context():
        assert room in services.leased_among([room])
        [building] = [row for row in services.occupancy() if row["leased"]]
        assert building["leased"] == Decimal("40")

    # A lease over the remaining days: refused when drafted, beside the rooms.
    tenant = make_tenant(app)
    overlapping = staff.post("/rentals/leases/new", data=form_data(
        staff, "/rentals/leases/new", **_fields(tenant, [room], today + timedelta(days=14),
                                                today + timedelta(days=400))))
    assert overlapping.status_code == 422
    assert f"is leased by {_ref(lease_id)} until" in overlapping.get_data(as_text=True)
    # The same lease put in the queue anyway (say, drafted before the termination) is refused
    # at approval, and the database guard refuses the row on both engines.
    queued = make_lease(app, tenant, [make_room(app)], start=today + timedelta(days=14),
                        end=today + timedelta(days=400), status="pending_approval")
    with app.app_context():
        db.session.execute(sa.update(LeaseRoom).where(LeaseRoom.lease_id == queued)
                           .values(room_id=room))
        db.session.commit()
    refused = admin.post(f"/rentals/leases/{queued}/approve", data=form_data(
        admin, f"/rentals/leases/{queued}", expected_status="pending_approval"))
    assert refused.status_code == 422
    assert f"is leased by {_ref(lease_id)} until" in refused.get_data(as_text=True)
    assert _lease(app, queued).status == LeaseStatus.PENDING
    with app.app_context(), pytest.raises(sa.exc.IntegrityError) as guard, write_transaction():
        db.session.execute(sa.update(LeaseRoom).where(LeaseRoom.lease_id == queued)
                           .values(active=True))
    assert is_overlap_violation(guard.value)
    with app.app_context():
        db.session.rollback()
    # From the day after the last day the room is free.
    after = staff.post("/rentals/leases/new", data=form_data(
        staff, "/rentals/leases/new", **_fields(tenant, [room], last_day + timedelta(days=1),
                                                last_day + timedelta(days=365))))
    assert after.status_code == 303


def test_terminating_with_the_last_day_passed_frees_the_room_at_once(app, staff):
    today = bureau_today(app)
    room = make_room(app)
    lease_id = make_lease(app, make_tenant(app), [room], start=today - timedelta(days=200))
    path = f"/rentals/leases/{lease_id}"
    staff.post(f"{path}/terminate", data=form_data(
        staff, path, reason="已搬离", terminated_on=(today - timedelta(days=1)).isoformat()))
    with app.test_request_context():
        assert services.leased_among([room]) == set()
    assert _lease(app, lease_id).status == LeaseStatus.TERMINATED


def test_the_lease_form_warns_at_once_of_a_room_taken_on_those_days(app, staff):
    today = bureau_today(app)
    room, free = make_room(app, code="401"), make_room(app, code="402")
    holder = make_lease(app, make_tenant(app), [room], start=today - timedelta(days=30),
                        end=today + timedelta(days=60))
    waiting = make_lease(app, make_tenant(app), [free], start=today + timedelta(days=30),
                         status="pending_approval")

    def check(room_id, start, end):
        return staff.get(f"/rentals/leases/room-check?room_ids={room_id}&start={start}"
                         f"&end={end}", headers={"HX-Request": "true"}).get_data(as_text=True)

    taken = check(room, today + timedelta(days=30), today + timedelta(days=200))
    assert taken.lstrip().startswith('<div id="room-check"')
    assert f"is leased by {_ref(holder)} until" in taken and 'role="alert"' in taken
    after = check(room, today + timedelta(days=61), today + timedelta(days=200))
    assert "is leased by" not in after
    asked = check(free, today + timedelta(days=100), today + timedelta(days=200))
    assert f"also asked for by {_ref(waiting)}, awaiting approval" in asked
    assert "is leased by" not in check(free, today, today + timedelta(days=20))
    # Unreadable or reversed dates: no check, no error.
    assert "is leased by" not in check(room, "tomorrow", today + timedelta(days=200))
    # The form itself carries the check, refreshed as rooms and days change.
    form = staff.get("/rentals/leases/new").get_data(as_text=True)
    assert 'hx-get="/rentals/leases/room-check"' in form and 'id="room-check"' in form


def test_a_tenant_sees_a_lease_only_once_it_is_approved(app, login_as):
    today = bureau_today(app)
    me = english(login_as("client"))
    mine = make_tenant(app, user_id=me.account.id)
    leases = {status: make_lease(app, mine, [make_room(app)], start=today + timedelta(days=9),
                                 status=status)
              for status in ("draft", "pending_approval", "active")}
    listing = me.get("/rentals/my").get_data(as_text=True)
    assert _ref(leases["active"]) in listing
    for status in ("draft", "pending_approval"):
        assert _ref(leases[status]) not in listing, status
        assert me.get(f"/rentals/leases/{leases[status]}").status_code == 404, status
    assert me.get(f"/rentals/leases/{leases['active']}").status_code == 200
