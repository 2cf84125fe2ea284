"""Suppliers and service contracts: rules, renewal, category hand-over, expiry alerts,
documents, pages."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.alerts import AlertSent
from portal.catalogue.models import ServiceCategory
from portal.errors import ServiceError
from portal.extensions import db
from portal.suppliers import services, tasks
from portal.suppliers.models import ContractState, ServiceContract, Supplier
from tests.conftest import make_user
from tests.feedback.factories import make_category, make_contract, make_supplier
from tests.helpers import bureau_today, form_data, outbox_for
from tests.rentals.factories import valid_uscc


def _pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(buffer, "PNG")
    return buffer.getvalue()


# --- suppliers --------------------------------------------------------------------------------


def test_a_supplier_with_a_valid_credit_code_is_saved(app, ctx):
    category_id = make_category(app)
    with ctx():
        supplier = services.save_supplier(None, services.SupplierInput(
            name="上海洁美物业服务有限公司", uscc=valid_uscc().lower(),
            category_ids=[category_id], integrity_signed_on=date(2026, 1, 5)))
        assert supplier.uscc == supplier.uscc.upper()
        assert [c.id for c in supplier.services] == [category_id]


def test_an_invalid_credit_code_is_refused_and_nothing_is_saved(app, ctx):
    code = valid_uscc()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with ctx():
        with pytest.raises(ServiceError) as refused:
            services.save_supplier(None, services.SupplierInput(name="某公司", uscc=wrong))
        assert refused.value.field == "uscc"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Supplier)
                                 .where(Supplier.name == "某公司")) == 0


def test_the_form_shows_an_invalid_credit_code_beside_the_field(app, login_as):
    client = login_as("staff")
    code = valid_uscc()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = client.post("/suppliers/new", data=form_data(
        client, "/suppliers/new", name="某公司", uscc=wrong))
    assert response.status_code == 422
    assert "uscc-error" in response.get_data(as_text=True)


def test_a_duplicate_supplier_is_a_friendly_conflict(app, ctx):
    make_supplier(app, name="重复公司")
    with ctx(), pytest.raises(ServiceError):
        services.save_supplier(None, services.SupplierInput(name="重复公司", uscc=valid_uscc()))


# --- contracts --------------------------------------------------------------------------------


def _input(supplier_id, category_id, starts_on, ends_on, number="HT-1"):
    return services.ContractInput(supplier_id=supplier_id, category_id=category_id,
                                  number=number, title="保洁服务合同", starts_on=starts_on,
                                  ends_on=ends_on, amount_fen=100_000, response_hours=2,
                                  fix_hours=24)


def test_a_contract_ending_before_it_starts_is_refused(app, ctx):
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    with ctx():
        with pytest.raises(ServiceError) as refused:
            services.save_contract(None, _input(supplier_id, category_id, date(2026, 5, 1),
                                                date(2026, 4, 30), number="HT-BAD"))
        assert refused.value.field == "ends_on"
        assert db.session.scalar(sa.select(ServiceContract.id).where(
            ServiceContract.number == "HT-BAD")) is None


def test_contract_states_follow_the_dates(app, ctx):
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    today = bureau_today(app)
    cases = {
        ContractState.UPCOMING: (today + timedelta(days=10), today + timedelta(days=400)),
        ContractState.ACTIVE: (today - timedelta(days=10), today + timedelta(days=200)),
        ContractState.EXPIRING: (today - timedelta(days=300), today + timedelta(days=30)),
        ContractState.ENDED: (today - timedelta(days=300), today - timedelta(days=1)),
    }
    ids = {state: make_contract(app, supplier_id, category_id, starts_on=start, ends_on=end)
           for state, (start, end) in cases.items()}
    with ctx():
        for state, contract_id in ids.items():
            contract = db.session.get(ServiceContract, contract_id)
            assert contract.state(today) == state
            found = db.session.scalars(sa.select(ServiceContract.id).where(
                ServiceContract.id.in_(ids.values()),
                ServiceContract.state_condition(state, today))).all()
            assert found == [contract_id]


def test_renewal_is_prefilled_links_the_successor_and_moves_categories_when_it_starts(app, ctx):
    today = bureau_today(app)
    supplier_id = make_supplier(app)
    category_id = make_category(app)
    old_id = make_contract(app, supplier_id, category_id, starts_on=today - timedelta(days=335),
                           ends_on=today + timedelta(days=29))
    with ctx():
        category = db.session.get(ServiceCategory, category_id)
        from portal.database import write_transaction

        with write_transaction():
            category.contract_id = old_id
    with ctx():
        old = db.session.get(ServiceContract, old_id)
        defaults = services.renewal_defaults(old)
        assert defaults.starts_on == old.ends_on + timedelta(days=1)
        assert defaults.amount_fen == old.amount_fen and defaults.fix_hours == old.fix_hours
        new = services.save_contract(None, defaults, renews=old)
        new_id = new.id
        db.session.refresh(old)
        assert old.successor_id == new_id and old.state(today) == ContractState.RENEWED
        # the successor has not started: the category stays with the contract in force
        assert db.session.get(ServiceCategory, category_id).contract_id == old_id
        with pytest.raises(ServiceError):
            services.save_contract(None, services.renewal_defaults(old), renews=old)
    with ctx():
        assert tasks.move_categories_to_successors(today) == 0
        assert tasks.move_categories_to_successors(defaults.starts_on) == 1
        db.session.expire_all()
        assert db.session.get(ServiceCategory, category_id).contract_id == new_id


def test_contract_expiry_alerts_use_the_one_mechanism_once_per_mark(app, ctx):
    app.config["CONTRACTS_DESK_EMAIL"] = "contracts@example.com"
    try:
        today = bureau_today(app)
        supplier_id = make_supplier(app)
        category_id = make_category(app)
        end = today + timedelta(days=100)
        contract_id = make_contract(app, supplier_id, category_id,
                                    starts_on=today - timedelta(days=200), ends_on=end)

        def tick(days_before_end):
            with ctx():
                return tasks.send_contract_expiry_alerts(end - timedelta(days=days_before_end))

        assert tick(91) == 0
        assert tick(90) == 1 and tick(90) == 0
        assert tick(60) == 1
        assert tick(20) == 1 and tick(10) == 0
        with ctx():
            marks = sorted(db.session.execute(sa.select(AlertSent.mark).where(
                AlertSent.kind == tasks.EXPIRING,
                AlertSent.object_id == contract_id)).scalars())
        assert marks == ["30d", "60d", "90d"]
        mail = outbox_for(app, "contracts@example.com")
        assert len(mail) == 3 and "HT-" in mail[0].subject
    finally:
        app.config.pop("CONTRACTS_DESK_EMAIL")


def test_a_renewed_contract_gets_no_expiry_alert(app, ctx):
    today = bureau_today(app)
    supplier_id = make_supplier(app)
    category_id = make_category(app)
    successor = make_contract(app, supplier_id, category_id, starts_on=today + timedelta(days=31),
                              ends_on=today + timedelta(days=400))
    make_contract(app, supplier_id, category_id, starts_on=today - timedelta(days=300),
                  ends_on=today + timedelta(days=30), successor_id=successor)
    with ctx():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceContract).where(
            ServiceContract.state_condition(ContractState.EXPIRING, today),
            ServiceContract.supplier_id == supplier_id)) == 0


# --- documents --------------------------------------------------------------------------------


def test_a_pdf_contract_document_is_stored_and_served_to_staff_only(app, login_as):
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    contract_id = make_contract(app, supplier_id, category_id)
    staff = login_as("staff")
    page = f"/suppliers/contracts/{contract_id}"
    response = staff.post(f"{page}/upload", data={
        **form_data(staff, page), "document": (io.BytesIO(_pdf_bytes()), "合同.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    with staff.get(f"{page}/document") as download:
        assert download.status_code == 200 and download.data.startswith(b"%PDF-")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert login_as("supervisor").get(f"{page}/document").status_code == 403


def test_an_image_integrity_agreement_is_accepted(app, login_as):
    supplier_id = make_supplier(app)
    staff = login_as("staff")
    page = f"/suppliers/{supplier_id}"
    response = staff.post(f"{page}/integrity", data={
        **form_data(staff, page), "document": (io.BytesIO(_png_bytes()), "廉政协议.png")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    with staff.get(f"{page}/integrity/document") as download:
        assert download.status_code == 200


@pytest.mark.parametrize("content", [b"MZ\x90\x00 not a document", b"%PDF-1.7 broken",
                                     b"<html><script>alert(1)</script></html>"])
def test_an_upload_that_is_not_a_pdf_or_image_is_refused(app, login_as, content):
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    contract_id = make_contract(app, supplier_id, category_id)
    staff = login_as("staff")
    page = f"/suppliers/contracts/{contract_id}"
    response = staff.post(f"{page}/upload", data={
        **form_data(staff, page), "document": (io.BytesIO(content), "contract.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "document-error" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ServiceContract, contract_id).document_file is None


# --- pages ------------------------------------------------------------------------------------


def test_contract_renewal_page_is_prefilled(app, login_as):
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    contract_id = make_contract(app, supplier_id, category_id, number="HT-2026-PRE")
    html = login_as("staff").get(f"/suppliers/contracts/{contract_id}/renew").get_data(
        as_text=True)
    assert 'value="HT-2026-PRE-R"' in html


def test_supplier_list_is_staff_only(app, login_as):
    make_supplier(app, name="名单公司")
    assert "名单公司" in login_as("admin").get("/suppliers/").get_data(as_text=True)
    assert login_as("client").get("/suppliers/").status_code == 403
    make_user(app, "staff")


def test_renewing_a_renewed_contract_again_is_refused(app, login_as):
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    today = bureau_today(app)
    successor = make_contract(app, supplier_id, category_id, starts_on=today + timedelta(days=10),
                              ends_on=today + timedelta(days=300))
    contract_id = make_contract(app, supplier_id, category_id, successor_id=successor,
                                starts_on=today - timedelta(days=300),
                                ends_on=today + timedelta(days=9))
    staff = login_as("staff")
    path = f"/suppliers/contracts/{contract_id}/renew"
    response = staff.post(path, data=form_data(staff, f"/suppliers/contracts/{contract_id}",
                                               number="HT-AGAIN"), follow_redirects=True)
    assert "该协议已续签" in response.get_data(as_text=True)  # "already been renewed"
    with app.app_context():
        assert db.session.scalar(sa.select(ServiceContract.id).where(
            ServiceContract.number == "HT-AGAIN")) is None


def test_a_contract_and_a_supplier_are_refused_with_every_problem_at_once(app, ctx):
    with ctx():
        with pytest.raises(ServiceError) as refused:
            services.save_contract(None, services.ContractInput(
                supplier_id=0, category_id=0, number=" ", title="合同", starts_on=None,
                ends_on=None, amount_fen=-1, response_hours=0, fix_hours=0))
        assert set(refused.value.fields) == {
            "starts_on", "ends_on", "amount", "response_hours", "fix_hours", "number",
            "supplier_id", "category_id"}
        with pytest.raises(ServiceError) as refused:
            services.save_supplier(None, services.SupplierInput(name="", uscc="123"))
        assert set(refused.value.fields) == {"name", "uscc"}
