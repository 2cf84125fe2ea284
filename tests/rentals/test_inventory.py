"""The rentals inventory through HTTP: rooms (filters, search as you type, inline status),
buildings, the occupancy view and tenants; access rules, bad input and query counts."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.rentals.models import Building, Room, RoomStatus, Tenant
from tests.conftest import make_user
from tests.helpers import form_data
from tests.rentals.factories import (
    make_building,
    make_lease,
    make_room,
    make_tenant,
    valid_resident_id,
    valid_uscc,
)

HX = {"HX-Request": "true"}
INLINE = ('style="', "<style", "<script>")


def _room(app, room_id) -> Room:
    with app.app_context():
        room = db.session.get(Room, room_id)
        db.session.expunge(room)
        return room


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _english(client):
    client.get("/?lang=en")
    return client


ROOM = {"building_id": "", "code": "A-301", "floor": "3", "area": "42.50", "use_type": "office",
        "rent_standard": "55.5", "facilities": "空调、网络", "status": "idle",
        "office_department": ""}


# --- access ---------------------------------------------------------------------------------


def test_pages_are_for_staff_and_admins_only(app, client, login_as):
    room_id = make_room(app)
    tenant_id = make_tenant(app)
    paths = ["/rentals/rooms", "/rentals/rooms/new", f"/rentals/rooms/{room_id}",
             f"/rentals/rooms/{room_id}/edit", "/rentals/buildings/new", "/rentals/occupancy",
             "/rentals/tenants", "/rentals/tenants/new", f"/rentals/tenants/{tenant_id}",
             f"/rentals/tenants/{tenant_id}/edit"]
    outsiders = [login_as("client"), login_as("supervisor")]
    insiders = [login_as("staff"), login_as("admin")]
    for path in paths:
        anonymous = client.get(path)
        assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
        for who in outsiders:
            assert who.get(path).status_code == 403, path
        for who in insiders:
            response = who.get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert not any(bad in html for bad in INLINE), path
    for who in outsiders:
        posted = who.post(f"/rentals/rooms/{room_id}/status", data=form_data(
            who, "/auth/reset", status="disposed"))
        assert posted.status_code == 403
    assert _room(app, room_id).status == RoomStatus.IDLE
    assert insiders[0].get("/rentals/rooms/999999").status_code == 404
    assert insiders[0].get("/rentals/tenants/999999").status_code == 404


def test_navigation_shows_rooms_and_tenants_to_staff(app, login_as):
    html = login_as("staff").get("/").get_data(as_text=True)
    assert 'href="/rentals/rooms"' in html and 'href="/rentals/tenants"' in html
    html = login_as("client").get("/").get_data(as_text=True)
    assert 'href="/rentals/rooms"' not in html


# --- the room list --------------------------------------------------------------------------


def test_room_list_filters_by_building_status_use_and_search(app, login_as):
    east = make_building(app, name="东楼")
    west = make_building(app, name="西楼")
    idle = make_room(app, east, code="E-101", use_type="shop", area="30")
    leased = make_room(app, east, code="E-102", area="20", standard_fen=6_000)
    office = make_room(app, west, code="W-201", status=RoomStatus.RESERVED_FOR_OFFICE,
                       department="区发改委")
    renovating = make_room(app, west, code="W-202", status=RoomStatus.UNDER_RENOVATION,
                           facilities="中央空调")
    make_lease(app, make_tenant(app), [leased])
    staff = login_as("staff")

    def codes(**args):
        body = staff.get("/rentals/rooms", query_string=args, headers=HX).get_data(as_text=True)
        assert body.lstrip().startswith('<div id="results"') and "<html" not in body
        return {code for code in ("E-101", "E-102", "W-201", "W-202") if f">{code}<" in body}

    assert codes() == {"E-101", "E-102", "W-201", "W-202"}
    assert codes(building=east) == {"E-101", "E-102"}
    assert codes(status="leased") == {"E-102"}
    assert codes(status="idle") == {"E-101"}  # a leased room is not idle
    assert codes(status="reserved_for_office") == {"W-201"}
    assert codes(use="shop") == {"E-101"}
    assert codes(q="发改委") == {"W-201"}  # the department
    assert codes(q="空调") == {"W-202"}  # facilities
    assert codes(q="西楼") == {"W-201", "W-202"}  # the building
    assert codes(q="e-10", building=east, status="idle") == {"E-101"}
    assert codes(status="nonsense", use="nonsense") == {"E-101", "E-102", "W-201", "W-202"}
    page = staff.get("/rentals/rooms").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms' in page and '<html' in page
    # derived status badges, area and standard
    row = page[page.index(f'<tr id="room-{leased}"'):]
    row = row[:row.index("</tr>")]
    assert "已出租" in row or "Leased" in row
    assert "20.00" in row and "¥60.00" in row
    assert f'id="room-{idle}"' in page and f'id="room-{office}"' in page
    assert f'id="room-{renovating}"' in page


def test_room_list_is_paginated(app, login_as):
    building = make_building(app)
    for n in range(30):
        make_room(app, building, code=f"P-{n:03d}")
    staff = login_as("staff")
    first = staff.get("/rentals/rooms").get_data(as_text=True)
    assert "P-000" in first and "P-029" not in first and 'rel="next"' in first
    second = staff.get("/rentals/rooms?page=2", headers=HX).get_data(as_text=True)
    assert "P-029" in second and "P-000" not in second


# --- inline status change -------------------------------------------------------------------


def test_inline_status_change_swaps_the_row(app, login_as):
    room_id = make_room(app, code="B-101")
    staff = login_as("staff")
    path = f"/rentals/rooms/{room_id}/status"
    response = staff.post(path, headers=HX, data=form_data(
        staff, "/rentals/rooms", status="under_renovation", office_department="ignored",
        next="/rentals/rooms?q=B"))
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="room-{room_id}"') and "<html" not in row
    assert "roomChanged" in response.headers["HX-Trigger"]
    assert 'name="next" value="/rentals/rooms?q=B"' in row  # the row keeps the list's place
    room = _room(app, room_id)
    assert room.status == RoomStatus.UNDER_RENOVATION and room.office_department == ""
    office = staff.post(path, headers=HX, data=form_data(
        staff, "/rentals/rooms", status="reserved_for_office", office_department=" 区档案馆 "))
    assert office.status_code == 200 and "区档案馆" in office.get_data(as_text=True)
    assert _room(app, room_id).office_department == "区档案馆"


def test_office_space_needs_its_department(app, login_as):
    room_id = make_room(app)
    staff = login_as("staff")
    response = staff.post(f"/rentals/rooms/{room_id}/status", headers=HX, data=form_data(
        staff, "/rentals/rooms", status="reserved_for_office", office_department=" "))
    assert response.status_code == 422
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="room-{room_id}"')
    assert "请填写使用该办公用房的部门" in row and f'id="room-{room_id}-error"' in row
    assert _room(app, room_id).status == RoomStatus.IDLE


def test_a_leased_room_keeps_its_status(app, login_as):
    room_id = make_room(app)
    make_lease(app, make_tenant(app), [room_id])
    staff = login_as("staff")
    response = staff.post(f"/rentals/rooms/{room_id}/status", headers=HX, data=form_data(
        staff, "/rentals/rooms", status="disposed"))
    assert response.status_code == 422
    assert "该房屋已出租，请先结束或终止租赁合同" in response.get_data(as_text=True)
    assert _room(app, room_id).status == RoomStatus.IDLE
    unknown = staff.post(f"/rentals/rooms/{room_id}/status", headers=HX, data=form_data(
        staff, "/rentals/rooms", status="leased"))  # derived, never set by hand
    assert unknown.status_code == 422


def test_status_change_works_without_javascript(app, login_as):
    room_id = make_room(app)
    staff = login_as("staff")
    path = f"/rentals/rooms/{room_id}/status"
    done = staff.post(path, data=form_data(staff, "/rentals/rooms", status="disposed",
                                           next="/rentals/rooms?status=disposed"))
    assert done.status_code == 303 and done.headers["Location"] == "/rentals/rooms?status=disposed"
    assert _room(app, room_id).status == RoomStatus.DISPOSED
    elsewhere = staff.post(path, data=form_data(staff, "/rentals/rooms", status="idle",
                                                next="https://evil.example/"))
    assert elsewhere.headers["Location"] == "/rentals/rooms"
    refused = staff.post(path, data=form_data(staff, "/rentals/rooms",
                                              status="reserved_for_office"))
    assert refused.status_code == 422  # the room's page, the error beside the field
    html = refused.get_data(as_text=True)
    assert "<html" in html and 'id="office_department-error"' in html
    assert _room(app, room_id).status == RoomStatus.IDLE


# --- the room form and buildings ------------------------------------------------------------


def test_staff_create_and_edit_a_room(app, login_as):
    building = make_building(app, name="综合楼")
    staff = login_as("staff")
    form = staff.get(f"/rentals/rooms/new?building_id={building}").get_data(as_text=True)
    assert f'<option selected value="{building}">' in form or \
        f'value="{building}" selected' in form
    response = staff.post("/rentals/rooms/new", data=form_data(
        staff, "/rentals/rooms/new", **{**ROOM, "building_id": str(building)}))
    assert response.status_code == 303
    with app.app_context():
        room = db.session.scalar(sa.select(Room).where(Room.code == "A-301"))
        assert room.area_m2 == Decimal("42.50") and room.rent_standard_fen == 5_550
        assert room.building_id == building and room.facilities == "空调、网络"
        room_id = room.id
    assert response.headers["Location"] == f"/rentals/rooms/{room_id}"
    page = staff.get(f"/rentals/rooms/{room_id}").get_data(as_text=True)
    assert "综合楼 A-301" in page and "¥2,358.75" in page  # 42.5 m² × ¥55.50
    path = f"/rentals/rooms/{room_id}/edit"
    edit = staff.get(path).get_data(as_text=True)
    assert 'value="A-301"' in edit and 'value="42.50"' in edit and 'value="55.50"' in edit
    changed = {**ROOM, "building_id": str(building), "area": "40", "status": "reserved_for_office",
               "office_department": "区审计局"}
    assert staff.post(path, data=form_data(staff, path, **changed)).status_code == 303
    room = _room(app, room_id)
    assert room.area_m2 == Decimal("40") and room.status == RoomStatus.RESERVED_FOR_OFFICE
    assert room.office_department == "区审计局"


def test_room_form_errors_beside_the_fields_and_nothing_saved(app, login_as):
    building = make_building(app)
    other = make_building(app)
    make_room(app, building, code="A-301")
    staff = login_as("staff")

    def post(**fields):
        data = {**ROOM, "building_id": str(building), **fields}
        return staff.post("/rentals/rooms/new", data=form_data(staff, "/rentals/rooms/new",
                                                               **data))

    for area in ("0", "-5", "0.004", "abc", "", "NaN", "-Infinity", "sNaN"):
        response = post(code="A-999", area=area)
        assert response.status_code == 422, area
        assert 'id="area-error"' in response.get_data(as_text=True), area
    duplicate = post()
    assert duplicate.status_code == 422
    assert 'id="code-error"' in duplicate.get_data(as_text=True)
    no_department = post(code="A-302", status="reserved_for_office")
    assert 'id="office_department-error"' in no_department.get_data(as_text=True)
    assert 'id="building_id-error"' in post(code="A-303", building_id="0").get_data(
        as_text=True)
    for standard in ("-1", "NaN", "Infinity"):
        assert 'id="rent_standard-error"' in post(code="A-304", rent_standard=standard).get_data(
            as_text=True)
    partial = staff.post("/rentals/rooms/new", headers=HX, data=form_data(
        staff, "/rentals/rooms/new", **{**ROOM, "building_id": str(building), "area": "0"}))
    assert partial.status_code == 422
    assert partial.get_data(as_text=True).lstrip().startswith("<form")
    assert _count(app, Room) == 1
    # The same number in another building is another room.
    assert post(building_id=str(other)).status_code == 303


def test_editing_a_leased_room_keeps_it_leased(app, login_as):
    building = make_building(app)
    room_id = make_room(app, building, code="L-1")
    make_lease(app, make_tenant(app), [room_id])
    staff = login_as("staff")
    path = f"/rentals/rooms/{room_id}/edit"
    refused = staff.post(path, data=form_data(staff, path, **{
        **ROOM, "building_id": str(building), "code": "L-1b", "status": "under_renovation"}))
    assert refused.status_code == 422
    assert 'id="status-error"' in refused.get_data(as_text=True)
    room = _room(app, room_id)
    assert room.code == "L-1" and room.status == RoomStatus.IDLE  # nothing half-saved
    kept = staff.post(path, data=form_data(staff, path, **{
        **ROOM, "building_id": str(building), "code": "L-1b", "facilities": "新装空调"}))
    assert kept.status_code == 303 and _room(app, room_id).code == "L-1b"


def test_staff_add_a_building_then_its_rooms(app, login_as):
    staff = login_as("staff")
    response = staff.post("/rentals/buildings/new", data=form_data(
        staff, "/rentals/buildings/new", name="老干部活动中心", address="人民路 8 号"))
    assert response.status_code == 303
    with app.app_context():
        building = db.session.scalar(sa.select(Building).where(Building.name == "老干部活动中心"))
        assert building.address == "人民路 8 号"
    assert response.headers["Location"] == f"/rentals/rooms/new?building_id={building.id}"
    duplicate = staff.post("/rentals/buildings/new", data=form_data(
        staff, "/rentals/buildings/new", name="老干部活动中心"))
    assert duplicate.status_code == 422 and 'id="name-error"' in duplicate.get_data(as_text=True)
    empty = staff.post("/rentals/buildings/new", data=form_data(staff, "/rentals/buildings/new"))
    assert 'id="name-error"' in empty.get_data(as_text=True)
    assert _count(app, Building) == 1


# --- the room's page and the occupancy view -------------------------------------------------


def test_room_page_shows_its_leases_and_derived_status(app, login_as):
    room_id = make_room(app, code="S-1", standard_fen=4_000, area="25")
    tenant_id = make_tenant(app, name="金山文创有限公司")
    lease_id = make_lease(app, tenant_id, [room_id])
    staff = _english(login_as("staff"))
    html = staff.get(f"/rentals/rooms/{room_id}").get_data(as_text=True)
    assert f"ZL{lease_id:06d}" in html and "金山文创有限公司" in html
    assert '<span class="badge good">Leased</span>' in html
    assert f'href="/rentals/tenants/{tenant_id}"' in html
    never = make_room(app)
    html = staff.get(f"/rentals/rooms/{never}").get_data(as_text=True)
    assert '<span class="badge warning">Idle</span>' in html


def test_occupancy_by_building(app, login_as):
    main = make_building(app, name="主楼")
    annex = make_building(app, name="附楼")
    make_room(app, main, area="100", status=RoomStatus.RESERVED_FOR_OFFICE)
    leased = make_room(app, main, area="30")
    make_room(app, main, area="10")  # idle
    make_room(app, main, area="5", status=RoomStatus.UNDER_RENOVATION)
    make_room(app, main, area="999", status=RoomStatus.DISPOSED)  # not counted
    make_room(app, annex, area="40")
    archive = make_building(app, name="档案楼")
    make_room(app, archive, area="60", status=RoomStatus.RESERVED_FOR_OFFICE)
    make_lease(app, make_tenant(app), [leased])
    html = login_as("admin").get("/rentals/occupancy").get_data(as_text=True)
    assert f'id="meter-{archive}"' not in html  # office space only: no rate to show
    main_row = html[html.index(f'building={main}">'):]
    main_row = main_row[:main_row.index("</tr>")]
    for value in ("100.00", "30.00", "10.00", "5.00", "145.00", "75.0%"):
        assert value in main_row, value
    assert f'id="meter-{main}" min="0" max="100"' in html
    assert f'id="meter-{annex}"' in html and "0.0%" in html
    footer = html[html.index("<tfoot>"):]
    assert "245.00" in footer and "37.5%" in footer  # 30 leased of 80 lettable
    assert 'style="' not in html


# --- tenants --------------------------------------------------------------------------------


def _tenant(**fields):
    data = {"kind": "organisation", "name": "上海金山文化传媒有限公司", "code": valid_uscc(4242),
            "contact_name": "王芳", "phone": "021-57921234", "email": "WANG@example.com",
            "address": "卫零路 485 号", "user_id": "0"}
    data.update(fields)
    return data


def test_staff_register_and_edit_a_tenant(app, login_as):
    account = make_user(app, "client", name="王芳", organisation="金山文化传媒")
    other_staff = make_user(app, "staff", name="职员乙")
    staff = login_as("staff")
    form = staff.get("/rentals/tenants/new").get_data(as_text=True)
    assert f'value="{account.id}"' in form and f'value="{other_staff.id}"' not in form
    response = staff.post("/rentals/tenants/new", data=form_data(
        staff, "/rentals/tenants/new", **_tenant(user_id=str(account.id))))
    assert response.status_code == 303
    with app.app_context():
        tenant = db.session.scalar(sa.select(Tenant))
        assert tenant.uscc == valid_uscc(4242) and tenant.id_number is None
        assert tenant.user_id == account.id and tenant.email == "wang@example.com"
        tenant_id = tenant.id
    assert response.headers["Location"] == f"/rentals/tenants/{tenant_id}"
    page = staff.get(f"/rentals/tenants/{tenant_id}").get_data(as_text=True)
    assert valid_uscc(4242) in page and account.email in page
    path = f"/rentals/tenants/{tenant_id}/edit"
    edit = staff.get(path).get_data(as_text=True)
    assert f'value="{valid_uscc(4242)}"' in edit
    assert f'<option selected value="{account.id}">' in edit or \
        f'value="{account.id}" selected' in edit
    # A second tenant cannot be linked to the same account: it is not offered.
    assert f'value="{account.id}"' not in staff.get("/rentals/tenants/new").get_data(
        as_text=True)
    person = valid_resident_id(7)
    changed = staff.post(path, data=form_data(staff, path, **_tenant(
        kind="person", name="李明", code=person.lower(), user_id="0")))
    assert changed.status_code == 303
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        assert (tenant.kind, tenant.id_number, tenant.uscc, tenant.user_id) == (
            "person", person, None, None)


@pytest.mark.parametrize(("kind", "code"), [
    ("organisation", "91350100M000100Y44"),  # wrong check character
    ("organisation", "91350100M000100Y4"),  # 17 characters
    ("person", "110105194912310021"),  # wrong check digit
    ("person", "110105194913310023"),  # month 13
    ("person", "91350100M000100Y43"),  # a credit code is not an ID number
])
def test_an_invalid_code_is_refused_beside_the_field(app, login_as, kind, code):
    staff = login_as("staff")
    response = staff.post("/rentals/tenants/new", data=form_data(
        staff, "/rentals/tenants/new", **_tenant(kind=kind, code=code)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="code-error"' in html
    assert ("统一社会信用代码无效" if kind == "organisation" else "身份证") in html
    assert _count(app, Tenant) == 0


def test_other_tenant_form_errors(app, login_as):
    make_tenant(app, code=valid_uscc(4242))
    staff = login_as("staff")

    def post(**fields):
        return staff.post("/rentals/tenants/new", data=form_data(
            staff, "/rentals/tenants/new", **_tenant(**fields)))

    duplicate = post()
    assert duplicate.status_code == 422
    assert 'id="code-error"' in duplicate.get_data(as_text=True)
    assert 'id="phone-error"' in post(code=valid_uscc(1), phone="12345").get_data(as_text=True)
    assert 'id="email-error"' in post(code=valid_uscc(2), email="not-an-email").get_data(
        as_text=True)
    assert 'id="name-error"' in post(code=valid_uscc(3), name=" ").get_data(as_text=True)
    supervisor = make_user(app, "supervisor")
    assert 'id="user_id-error"' in post(code=valid_uscc(5), user_id=str(supervisor.id)).get_data(
        as_text=True)
    partial = staff.post("/rentals/tenants/new", headers=HX, data=form_data(
        staff, "/rentals/tenants/new", **_tenant(code="X")))
    assert partial.status_code == 422
    assert partial.get_data(as_text=True).lstrip().startswith("<form")
    assert _count(app, Tenant) == 1


def test_tenant_list_search_as_you_type(app, login_as):
    make_tenant(app, name="金山文创有限公司", phone="13812345678")
    person_id = valid_resident_id(11)
    make_tenant(app, kind="person", name="李明", code=person_id)
    staff = login_as("staff")
    page = staff.get("/rentals/tenants").get_data(as_text=True)
    assert "金山文创有限公司" in page and "李明" in page
    assert person_id not in page and f"{person_id[:6]}********{person_id[-4:]}" in page
    assert 'hx-trigger="input changed delay:300ms' in page

    def names(**args):
        body = staff.get("/rentals/tenants", query_string=args, headers=HX).get_data(
            as_text=True)
        assert body.lstrip().startswith('<div id="results"') and "<html" not in body
        return {name for name in ("金山文创有限公司", "李明") if name in body}

    assert names(q="文创") == {"金山文创有限公司"}
    assert names(q="138123") == {"金山文创有限公司"}
    assert names(q=person_id[:10]) == {"李明"}
    assert names(kind="person") == {"李明"}
    assert names(q="没有这个") == set()


def test_tenant_page_lists_its_leases(app, login_as):
    room_id = make_room(app, code="T-1")
    tenant_id = make_tenant(app, name="金山文创有限公司")
    lease_id = make_lease(app, tenant_id, [room_id])
    draft_id = make_lease(app, tenant_id, [make_room(app, code="T-2")], status="draft")
    staff = login_as("staff")
    html = staff.get(f"/rentals/tenants/{tenant_id}").get_data(as_text=True)
    assert f"ZL{lease_id:06d}" in html and f"ZL{draft_id:06d}" in html
    assert "T-1" in html and f'href="/rentals/rooms/{room_id}"' in html
    listing = staff.get("/rentals/tenants").get_data(as_text=True)
    row = listing[listing.index(f'<tr id="tenant-{tenant_id}"'):]
    assert '<td class="num">1</td>' in row[:row.index("</tr>")]  # one active lease


# --- query counts ---------------------------------------------------------------------------


def test_pages_run_a_fixed_number_of_queries(app, login_as, count_queries):
    staff = login_as("staff")
    pages = ["/rentals/rooms", "/rentals/rooms?status=leased&q=R", "/rentals/rooms?status=idle",
             "/rentals/occupancy", "/rentals/tenants", "/rentals/tenants?q=测试"]

    def counts():
        result = []
        for path in pages:
            with count_queries() as queries:
                assert staff.get(path).status_code == 200, path
            result.append(len(queries))
        return result

    def add(buildings: int, rooms: int):
        for _ in range(buildings):
            building = make_building(app)
            room_ids = [make_room(app, building) for _ in range(rooms)]
            make_room(app, building, status=RoomStatus.RESERVED_FOR_OFFICE)
            tenant = make_tenant(app, user_id=make_user(app, "client").id)
            make_tenant(app, kind="person")
            make_lease(app, tenant, room_ids[:1])  # the others stay idle

    add(1, 2)
    few = counts()
    add(4, 5)
    many = counts()
    assert many == few
