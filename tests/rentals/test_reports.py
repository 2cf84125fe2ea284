"""Rental reports: income due against collected, income by tenant and room, occupancy by
building, arrears aging; their CSV and XLSX exports; a fixed number of queries."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portal.rentals import reports, services
from portal.rentals.models import RoomStatus
from portal.reporting import parse_period
from tests.rentals.alert_factories import (
    leased_room_lease,
    local_today,
    make_tenant_with_email,
    pay,
)
from tests.rentals.factories import make_building, make_room

H1 = "2025-H1"


@pytest.fixture
def dataset(app):
    """One building with a room in every status; tenant 甲 leases 50 m² for 2025 (paid for
    January and February), 乙 leases 30 + 10 m² from 16 March 2025 for two years (paid
    ¥3,000 in July)."""
    building = make_building(app, name="区政府大院1号楼")
    rooms = {
        "office": make_room(app, building, "101", RoomStatus.RESERVED_FOR_OFFICE, area="100"),
        "a": make_room(app, building, "201", area="50", standard_fen=10_000),
        "b1": make_room(app, building, "301", area="30", standard_fen=10_000),
        "b2": make_room(app, building, "302", area="10", standard_fen=10_000),
        "idle": make_room(app, building, "401", area="20"),
        "works": make_room(app, building, "402", RoomStatus.UNDER_RENOVATION, area="40"),
        "gone": make_room(app, building, "403", RoomStatus.DISPOSED, area="10"),
    }
    jia = make_tenant_with_email(app, name="甲商贸有限公司")
    yi = make_tenant_with_email(app, name="乙餐饮管理有限公司")
    lease_a = leased_room_lease(app, jia, date(2025, 1, 1), date(2025, 12, 31),
                                room_ids=[rooms["a"]])
    lease_b = leased_room_lease(app, yi, date(2025, 3, 16), date(2027, 3, 15),
                                room_ids=[rooms["b1"], rooms["b2"]])
    pay(app, lease_a, 1_000_000, date(2025, 2, 10))
    pay(app, lease_b, 300_000, date(2025, 7, 5))
    return {"building": building, "rooms": rooms, "jia": jia, "yi": yi, "a": lease_a,
            "b": lease_b}


def _csv(client, report, period=H1):
    response = client.get(f"/rentals/reports/export?report={report}&period={period}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


MARCH_B = 206_452  # 16 of March's 31 days at ¥4,000 a month, in fen


def test_income_due_against_collected_month_by_month(app, login_as, dataset):
    with app.test_request_context():
        table = reports.income_table(parse_period(H1))
    assert [row[1:] for row in table.rows] == [
        [500_000, 500_000, 0, 1, 0],
        [500_000, 500_000, 0, 1, 1_000_000],  # both months paid on 10 February
        [500_000 + MARCH_B, MARCH_B, 500_000, Decimal(MARCH_B) / (500_000 + MARCH_B), 0],
        [900_000, 93_548, 806_452, Decimal(93_548) / 900_000, 0],  # the rest of ¥3,000
        [900_000, 0, 900_000, 0, 0],
        [900_000, 0, 900_000, 0, 0],
    ]
    due = 3_000_000 + MARCH_B + 3 * 400_000
    assert table.totals[1:] == [due, 1_300_000, due - 1_300_000, Decimal(1_300_000) / due,
                                1_000_000]
    rows = _csv(login_as("staff"), "income", "2025-07")
    assert rows[1][1:] == ["9000.00", "0.00", "9000.00", "0.0%", "3000.00"]  # received in July
    assert rows[-1][0] in ("合计", "Total")


def test_income_by_tenant_and_by_room_shares_a_lease_over_its_rooms_by_area(
        app, login_as, dataset):
    staff = login_as("staff")
    b_due = MARCH_B + 3 * 400_000
    by_tenant = _csv(staff, "income_tenant")
    assert by_tenant[1:] == [
        ["乙餐饮管理有限公司", "1", _yuan(b_due), "3000.00", _yuan(b_due - 300_000)],
        ["甲商贸有限公司", "1", "30000.00", "10000.00", "20000.00"],
        [by_tenant[-1][0], "2", _yuan(b_due + 3_000_000), "13000.00",
         _yuan(b_due + 3_000_000 - 1_300_000)],
    ]
    by_room = _csv(staff, "income_room")
    assert [row[:4] for row in by_room[1:4]] == [
        ["区政府大院1号楼", "201", "50.00", "甲商贸有限公司"],
        ["区政府大院1号楼", "301", "30.00", "乙餐饮管理有限公司"],
        ["区政府大院1号楼", "302", "10.00", "乙餐饮管理有限公司"]]
    room_301, room_302 = (Decimal(by_room[i][4]) for i in (2, 3))
    assert room_301 + room_302 == Decimal(b_due) / 100  # to the fen
    assert room_301 == (Decimal(b_due) * 3 / 4 / 100).quantize(Decimal("0.01"))
    assert Decimal(by_room[2][5]) == Decimal("2250.00") and by_room[3][5] == "750.00"
    assert by_room[-1][4:] == by_tenant[-1][2:]


def test_occupancy_by_building_is_area_weighted(app, login_as, dataset):
    make_room(app, make_building(app, name="朱泾二食堂"), "1F", area="300")  # idle
    rows = _csv(login_as("admin"), "occupancy")
    assert rows[0][-1] in ("出租率", "Occupancy rate")
    assert rows[1:3] == [
        # 乙's 40 m² are leased today, 甲's 50 m² are idle again; renovation not lettable.
        ["区政府大院1号楼", "6", "100.00", "40.00", "70.00", "40.00", "36.4%"],
        ["朱泾二食堂", "1", "0.00", "0.00", "300.00", "0.00", "0.0%"],
    ]
    assert rows[3][1:] == ["7", "100.00", "40.00", "370.00", "40.00", "9.8%"]


def test_arrears_aging_per_tenant(app, ctx, login_as, dataset):
    with ctx():
        expected = services.arrears()
    rows = _csv(login_as("staff"), "arrears")
    assert [row[0] for row in rows[1:-1]] == [entry["tenant"] for entry in expected]
    for row, entry in zip(rows[1:-1], expected, strict=True):
        assert [Decimal(v) * 100 for v in row[1:5]] == [*entry["buckets"], entry["total"]]
        assert int(row[5]) == entry["oldest_days"]
    yi = next(entry for entry in expected if entry["tenant"] == "乙餐饮管理有限公司")
    assert all(yi["buckets"])  # a lease running today owes in every bucket
    assert Decimal(rows[-1][4]) * 100 == sum(entry["total"] for entry in expected)


def test_the_page_shows_every_table_with_meters_and_no_inline_style(app, login_as, dataset):
    html = login_as("staff").get(f"/rentals/reports?period={H1}").get_data(as_text=True)
    for key in reports.REPORTS:
        assert f'<section id="{key}"' in html
        assert f"report={key}&amp;period={H1}&amp;format=xlsx" in html
    assert "甲商贸有限公司" in html and "<meter" in html and "style=" not in html
    assert "¥30,000.00" in html  # 甲's rent due in the half-year
    partial = login_as("admin").get(f"/rentals/reports?period={H1}",
                                    headers={"HX-Request": "true", "HX-Target": "report"})
    assert partial.get_data(as_text=True).lstrip().startswith('<section id="report">')


def test_xlsx_exports_hold_typed_numbers(app, login_as, dataset):
    response = login_as("staff").get(f"/rentals/reports/export?report=income_room&period={H1}"
                                     "&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    assert values[1][:2] == ("区政府大院1号楼", "201") and values[1][4] == 30_000
    assert len(values) == 5  # heading, three rooms, total


def test_empty_reports_and_bad_requests(app, login_as):
    staff = login_as("staff")
    html = staff.get("/rentals/reports?period=2024-H1").get_data(as_text=True)
    assert html.count("<tbody>") == 5 and "<meter" not in html
    assert len(_csv(staff, "arrears")) == 1  # the heading only
    assert staff.get("/rentals/reports?month=2025-13").status_code == 200  # message beside it
    for query in ("report=nope", "report=income&format=pdf", "report=income&period=2025-13"):
        assert staff.get(f"/rentals/reports/export?{query}").status_code == 400
    assert app.test_client().get("/rentals/reports").status_code == 302  # log in first
    assert login_as("client").get("/rentals/reports").status_code == 403
    assert login_as("supervisor").get("/rentals/reports/export?report=arrears").status_code == 403


def _more(app, dataset, n):
    """More buildings, rooms, tenants, leases and payments: the same queries."""
    today = local_today(app)
    building = make_building(app)
    for i in range(n):
        tenant = make_tenant_with_email(app)
        room = make_room(app, building, area=str(20 + i))
        lease = leased_room_lease(app, tenant, date(2025, 1 + i % 6, 1 + i),
                                  today + timedelta(days=30 + i), room_ids=[room])
        pay(app, lease, 100_000 * (i + 1), date(2025, 3, 1 + i))
        make_room(app, building, status=RoomStatus.UNDER_RENOVATION)


def test_a_fixed_number_of_queries(app, login_as, count_queries, dataset):
    staff = login_as("staff")
    urls = [f"/rentals/reports?period={H1}", "/rentals/reports?month=2025-03",
            *(f"/rentals/reports/export?report={key}&period={H1}&format={fmt}"
              for key in reports.REPORTS for fmt in ("csv", "xlsx"))]

    def counts():
        result = []
        for url in urls:
            with count_queries() as queries:
                assert staff.get(url).status_code == 200
            result.append(len(queries))
        return result

    few = counts()
    _more(app, dataset, 6)
    many = counts()
    assert many == few
    # The first visit after a change also reads the stored months' tokens and rows and
    # stores the months summed (a savepoint, one insert, its release).
    assert max(few) <= 18, few


def test_long_tables_show_the_most_outstanding_rows_on_the_page():
    from portal.rentals.reports import Table

    rows = [[f"承租人{n}", 1, 100, n, 100 - n] for n in range(120)]
    table = Table("income_tenant", "Income", [], rows, None, "").top(50)
    assert len(table.rows) == 50 and table.rows_in_all == 120
    assert table.rows[0][-1] == 100 and table.rows[-1][-1] == 51
    # The arrears table ends with the oldest days: its page rows are the largest totals.
    arrears = [[f"承租人{n}", 0, 0, n * 100, n * 100, 200 - n] for n in range(120)]
    top = Table("arrears", "Arrears", [], arrears, None, "").top(50, by=-2)
    assert [row[-2] for row in top.rows[:2]] == [11_900, 11_800] and top.rows_in_all == 120


def test_the_page_cuts_income_in_sql_as_the_full_tables_would(app, dataset, count_queries):
    """The page's tables (ranked and cut in SQL, leases of several rooms shared out here)
    equal the full tables cut to the same length, at every length, for both periods."""
    _more(app, dataset, 6)
    extra = make_building(app, name="朱泾二食堂")
    shared = [make_room(app, extra, code, area=area) for code, area in (("1F", "7"),
                                                                        ("2F", "3"))]
    tenant = make_tenant_with_email(app, name="丙物业服务有限公司")
    pay(app, leased_room_lease(app, tenant, date(2025, 2, 1), date(2026, 1, 31),
                               room_ids=shared), 123_457, date(2025, 4, 1))
    for key in (H1, "2025-H2", "2025-03"):
        with app.test_request_context():
            period = parse_period(key)
            full_tenant, full_room = reports.income_by(period)
            for limit in (1, 2, 3, 5, 8, 50):
                with count_queries() as queries:
                    by_tenant, by_room = reports.income_top(period, limit)
                assert len(queries) == 4  # the dataset has a lease of two rooms
                for page, full in ((by_tenant, full_tenant), (by_room, full_room)):
                    cut = full.top(limit)
                    assert (page.rows, page.rows_in_all, page.totals) == (
                        cut.rows, cut.rows_in_all, cut.totals), (key, limit, page.key)
