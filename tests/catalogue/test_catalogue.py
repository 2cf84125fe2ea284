"""The service catalogue: its pages (staff edit a category, the contract choice that the
suppliers module provides) and its rules."""

import pytest

from portal.catalogue import services
from portal.catalogue.models import ServiceCategory
from portal.errors import Conflict, ServiceError
from portal.extensions import db
from tests.catalogue.factories import make_category
from tests.feedback.factories import make_contract, make_supplier
from tests.helpers import form_data


def test_staff_edit_a_category(app, login_as):
    category = make_category(app, name="绿化", name_en="Greening")
    staff = login_as("staff")
    path = f"/catalogue/{category}/edit"
    bad = staff.post(path, data={**form_data(staff, path), "code": "greening", "name": "绿化",
                                 "response_days": "3", "resolution_days": "2"})
    assert bad.status_code == 422 and 'id="resolution_days-error"' in bad.get_data(as_text=True)
    saved = staff.post(path, data={**form_data(staff, path), "code": "greening", "name": "绿化",
                                   "team": "绿化养护组", "response_days": "2",
                                   "resolution_days": "6", "active": "y"})
    assert saved.status_code == 303
    with app.app_context():
        row = db.session.get(ServiceCategory, category)
        assert (row.team, row.response_days, row.resolution_days) == ("绿化养护组", 2, 6)


def test_the_contract_choice_and_the_list_come_from_the_suppliers_module(app, login_as):
    category = make_category(app, name="绿化", name_en="Greening")
    supplier = make_supplier(app, name="上海绿源园林绿化有限公司", category_ids=(category,))
    contract = make_contract(app, supplier, category, number="LH-2026-01")
    staff = login_as("staff")
    page = staff.get(f"/catalogue/{category}/edit").get_data(as_text=True)
    assert f'value="{contract}"' in page and "LH-2026-01" in page
    path = f"/catalogue/{category}/edit"
    saved = staff.post(path, data={**form_data(staff, path), "code": "greening", "name": "绿化",
                                   "contract_id": str(contract), "response_days": "1",
                                   "resolution_days": "5", "active": "y"})
    assert saved.status_code == 303
    listing = staff.get("/catalogue/").get_data(as_text=True)
    assert "上海绿源园林绿化有限公司" in listing and "LH-2026-01" in listing


def test_save_category_refuses_an_unknown_contract_and_a_taken_code(app):
    make_category(app, code="cleaning")
    data = services.CategoryInput(code="elevators", name="电梯", name_en="Elevators", team="",
                                  default_assignee_id=None, contract_id=999_999,
                                  response_days=1, resolution_days=3)
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            services.save_category(None, data)
        assert refused.value.field == "contract_id"
        data.contract_id, data.code = None, "cleaning"
        with pytest.raises(Conflict):
            services.save_category(None, data)
        data.code = "elevators"
        saved = services.save_category(None, data)
        assert db.session.get(ServiceCategory, saved.id).label == "电梯"


def test_the_catalogue_stays_in_the_service_supervision_menu(login_as):
    from tests.core.test_nav import GROUP, _groups, _main_nav

    html = login_as("staff").get("/catalogue/").get_data(as_text=True)
    assert "/catalogue/" in _groups(html)["服务监督"]
    assert [label for flag, label, _body in GROUP.findall(_main_nav(html)) if flag] == ["服务监督"]
