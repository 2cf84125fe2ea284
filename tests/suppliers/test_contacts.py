"""A supplier's contacts (several, the first one primary), the one definition of "expiring",
and what the contract pages say about an expiring contract."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.errors import ServiceError
from portal.extensions import db
from portal.suppliers import services, tasks
from portal.suppliers.models import ContractState, ServiceContract, Supplier, SupplierContact
from tests.feedback.factories import make_category, make_contract, make_supplier
from tests.helpers import bureau_today, form_data


def _contacts(app, supplier_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(SupplierContact.name, SupplierContact.title)
            .where(SupplierContact.supplier_id == supplier_id)
            .order_by(SupplierContact.position, SupplierContact.id)).all()]


# --- contacts ---------------------------------------------------------------------------------


def test_a_supplier_has_several_contacts_the_first_one_primary(app, ctx):
    supplier_id = make_supplier(app)  # made with one contact, 王经理
    with ctx():
        supplier = db.session.get(Supplier, supplier_id)
        services.add_contact(supplier, services.ContactInput(
            name="李主管", title="现场主管", phone="13900139000", email="li@example.com"))
        services.add_contact(supplier, services.ContactInput(name="赵会计", title="财务"))
        supplier = db.session.get(Supplier, supplier_id)
        assert supplier.primary_contact.name == "王经理"
        with pytest.raises(ServiceError) as refused:
            services.add_contact(supplier, services.ContactInput(name="  "))
        assert refused.value.field == "name"
    assert _contacts(app, supplier_id) == [("王经理", ""), ("李主管", "现场主管"),
                                           ("赵会计", "财务")]


def test_staff_add_and_remove_contacts_on_the_supplier_page(app, login_as):
    supplier_id = make_supplier(app)
    staff = login_as("staff")
    page = f"/suppliers/{supplier_id}"
    # without JavaScript: a plain form post, back to the page
    added = staff.post(f"/suppliers/{supplier_id}/contacts", data=form_data(
        staff, page, name="李主管", title="现场主管", phone="13900139000",
        email="li@example.com"))
    assert added.status_code == 303 and added.headers["Location"].endswith("#contacts")
    # with htmx: the contacts card comes back, nothing else
    swapped = staff.post(f"/suppliers/{supplier_id}/contacts", headers={"HX-Request": "true"},
                         data=form_data(staff, page, name="赵会计", title="财务"))
    html = swapped.get_data(as_text=True)
    assert swapped.status_code == 200 and 'id="contacts"' in html
    assert "<html" not in html and "赵会计" in html and "李主管" in html
    # a contact without a name: the message beside the field, nothing saved
    refused = staff.post(f"/suppliers/{supplier_id}/contacts", headers={"HX-Request": "true"},
                         data=form_data(staff, page, name="", phone="12"))
    assert refused.status_code == 422
    assert len(_contacts(app, supplier_id)) == 3
    full = staff.get(page).get_data(as_text=True)
    assert "li@example.com" in full and "现场主管" in full
    with app.app_context():
        li = db.session.scalar(sa.select(SupplierContact.id).where(
            SupplierContact.name == "李主管"))
    removed = staff.post(f"/suppliers/contacts/{li}/delete", data=form_data(staff, page))
    assert removed.status_code == 303
    assert [name for name, _title in _contacts(app, supplier_id)] == ["王经理", "赵会计"]
    assert staff.post("/suppliers/contacts/999999/delete",
                      data=form_data(staff, page)).status_code == 404


def test_the_supplier_list_finds_a_supplier_by_any_of_its_contacts(app, ctx, login_as):
    supplier_id = make_supplier(app, name="上海某某保洁有限公司")
    with ctx():
        services.add_contact(db.session.get(Supplier, supplier_id),
                             services.ContactInput(name="欧阳娜娜"))
    html = login_as("staff").get("/suppliers/?q=欧阳").get_data(as_text=True)
    assert "上海某某保洁有限公司" in html


def test_migration_0013_moves_each_suppliers_contact_into_the_table_and_back(app, tmp_path):
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from tests.conftest import _test_config

    scratch = create_app(_test_config(f"sqlite:///{tmp_path / 'scratch.db'}"))
    with scratch.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO supplier (name, uscc, contact_name, phone, email, address, notes, "
                "integrity_file_label, created_at) VALUES "
                "('甲公司', 'A', '王经理', '13800138000', 'w@example.com', '', '', '', "
                "'2026-01-01 00:00:00'), "
                "('乙公司', 'B', '', '', '', '', '', '', '2026-01-01 00:00:00')")
        upgrade(revision="0013")
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT s.name, c.name, c.phone, c.email, c.position FROM supplier_contact c "
                "JOIN supplier s ON s.id = c.supplier_id").all()
        assert [tuple(row) for row in rows] == [
            ("甲公司", "王经理", "13800138000", "w@example.com", 1)]
        downgrade(revision="0012")
        with db.engine.connect() as connection:
            back = connection.exec_driver_sql(
                "SELECT name, contact_name, phone, email FROM supplier ORDER BY name").all()
        assert [tuple(row) for row in back] == [
            ("乙公司", "", "", ""), ("甲公司", "王经理", "13800138000", "w@example.com")]
        db.engine.dispose()


# --- expiring: one definition -----------------------------------------------------------------


@pytest.mark.parametrize(("days", "expected"), [
    (0, ContractState.EXPIRING), (30, ContractState.EXPIRING), (90, ContractState.EXPIRING),
    (91, ContractState.ACTIVE)])
def test_expiring_is_one_definition_in_python_sql_and_the_alerts(app, ctx, days, expected):
    today = bureau_today(app)
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    contract_id = make_contract(app, supplier_id, category_id,
                                starts_on=today - timedelta(days=200),
                                ends_on=today + timedelta(days=days))
    with ctx():
        contract = db.session.get(ServiceContract, contract_id)
        assert contract.state(today) == expected
        in_sql = db.session.scalar(sa.select(ServiceContract.id).where(
            ServiceContract.id == contract_id,
            ServiceContract.state_condition(ContractState.EXPIRING, today)))
        assert (in_sql is not None) == (expected == ContractState.EXPIRING)
        # the expiry alerts pick exactly the contracts in that state
        assert tasks.send_contract_expiry_alerts(today) == (
            1 if expected == ContractState.EXPIRING else 0)


def test_contract_pages_show_the_days_left_and_the_mark_reached(app, login_as):
    today = bureau_today(app)
    category_id = make_category(app)
    supplier_id = make_supplier(app)
    contract_id = make_contract(app, supplier_id, category_id, number="HT-45",
                                starts_on=today - timedelta(days=300),
                                ends_on=today + timedelta(days=45))
    make_contract(app, supplier_id, category_id, number="HT-FAR",
                  starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=300))
    staff = login_as("staff")
    listing = staff.get("/suppliers/contracts?state=expiring&lang=en").get_data(as_text=True)
    assert "45 days left" in listing and "60-day warning" in listing
    page = staff.get(f"/suppliers/contracts/{contract_id}?lang=en").get_data(as_text=True)
    assert "45 days left" in page and "60-day warning" in page
    zh = staff.get(f"/suppliers/contracts/{contract_id}?lang=zh").get_data(as_text=True)
    assert "45" in zh and "60" in zh and "days left" not in zh
    everything = staff.get("/suppliers/contracts?lang=en").get_data(as_text=True)
    assert everything.count("days left") == 1  # the active contract shows no countdown


def test_a_contact_is_refused_with_every_problem_and_nothing_cut(app, ctx):
    supplier_id = make_supplier(app)
    with ctx():
        supplier = db.session.get(Supplier, supplier_id)
        before = _contacts(app, supplier_id)
        with pytest.raises(ServiceError) as refused:
            services.add_contact(supplier, services.ContactInput(
                name="", title="经理" * 51, phone="1" * 21))
        assert set(refused.value.fields) == {"name", "title", "phone"}
    assert _contacts(app, supplier_id) == before
