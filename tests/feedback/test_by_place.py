"""Feedback by place: the buildings × services matrix of a period (counts, totals, the cells
that stand out, links to exactly the counted items, exports), a room's feedback history, the
queue's building / room / date filters, who may see them, and bounded query counts."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from datetime import UTC, date, datetime

import pytest

from portal.feedback import places
from portal.feedback.models import FeedbackStatus
from portal.i18n import local_zone
from portal.reporting import parse_period
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.rentals.factories import make_building, make_room

S = FeedbackStatus
MARCH = "2026-03"
LINK = re.compile(r'<a href="(/feedback/\?[^"]+)">(\d+)</a>')
ROW = re.compile(r'<tr id="feedback-(\d+)"')


@pytest.fixture
def supervisor(app, login_as):
    client = login_as("supervisor")
    make_appointment(app, client.account.id)
    return client


def _at(app, supervisor_id, category, moment: datetime, **fields) -> int:
    """An item submitted at ``moment`` (UTC)."""
    with app.app_context():
        local_day = moment.astimezone(local_zone()).date()
    return make_feedback(app, supervisor_id, category, submitted_on=local_day,
                         submitted_at=moment, **fields)


@pytest.fixture
def place_data(app, supervisor):
    """Two buildings, two services, items in March 2026 (local time) and around it."""
    sid = supervisor.account.id
    east = make_building(app, name="东楼")
    west = make_building(app, name="西楼")
    east_room, east_other = make_room(app, east, code="E101"), make_room(app, east, code="E102")
    west_room = make_room(app, west, code="W201")
    cleaning = make_category(app, name="保洁", name_en="Cleaning")
    repairs = make_category(app, name="维修", name_en="Repairs")
    ids = {
        # 00:30 on 1 March in Shanghai: the first minutes of the period
        "east_cleaning": [
            _at(app, sid, cleaning, datetime(2026, 2, 28, 16, 30, tzinfo=UTC),
                building_id=east, room_id=east_room),
            _at(app, sid, cleaning, datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
                building_id=east, room_id=east_room, status=S.CLOSED),
            _at(app, sid, cleaning, datetime(2026, 3, 20, 2, 0, tzinfo=UTC),
                building_id=east, room_id=east_other, status=S.REJECTED),
        ],
        "east_repairs": [_at(app, sid, repairs, datetime(2026, 3, 11, 2, 0, tzinfo=UTC),
                             building_id=east)],
        "west_cleaning": [_at(app, sid, cleaning, datetime(2026, 3, 12, 2, 0, tzinfo=UTC),
                              building_id=west, room_id=west_room)],
        "none_repairs": [_at(app, sid, repairs, datetime(2026, 3, 5, 2, 0, tzinfo=UTC)),
                         _at(app, sid, repairs, datetime(2026, 3, 6, 2, 0, tzinfo=UTC))],
        # outside: 00:30 on 1 April in Shanghai, and February
        "outside": [
            _at(app, sid, cleaning, datetime(2026, 3, 31, 16, 30, tzinfo=UTC),
                building_id=east, room_id=east_room),
            _at(app, sid, repairs, datetime(2026, 2, 27, 2, 0, tzinfo=UTC), building_id=west),
        ],
    }
    return {"ids": ids, "east": east, "west": west, "east_room": east_room,
            "east_other": east_other, "west_room": west_room, "cleaning": cleaning,
            "repairs": repairs}


def test_the_matrix_counts_each_cell_over_the_period(app, place_data):
    d = place_data
    with app.test_request_context():
        matrix = places.matrix(parse_period(MARCH))
    assert matrix.counts == {(d["east"], d["cleaning"]): 3, (d["east"], d["repairs"]): 1,
                             (d["west"], d["cleaning"]): 1,
                             (places.NO_BUILDING, d["repairs"]): 2}
    assert matrix.row_total(d["east"]) == 4 and matrix.row_total(places.NO_BUILDING) == 2
    assert matrix.column_total(d["cleaning"]) == 4 and matrix.column_total(d["repairs"]) == 3
    assert matrix.total == 7
    assert [key for key, _name in matrix.rows][-1] == places.NO_BUILDING
    # Cleaning: the east building's 3 stand out; repairs: no building has 2 (the 2 without a
    # building are no building's pattern).
    assert matrix.standouts == {(d["east"], d["cleaning"])}
    with app.test_request_context():
        april = places.matrix(parse_period("2026-04"))
    assert april.counts == {(d["east"], d["cleaning"]): 1}


def test_every_number_links_to_exactly_the_items_it_counts(app, login_as, place_data):
    staff = login_as("staff")
    page = staff.get(f"/feedback/by-place?period={MARCH}&lang=en").get_data(as_text=True)
    assert "No building given" in page and 'role="region"' in page
    assert page.count('class="num standout"') == 1 and "Highlighted (▲)" in page
    links = [(html_lib.unescape(href), int(n)) for href, n in LINK.findall(page)]
    assert len(links) == 4 + 3 + 2 + 1  # cells, row totals, column totals, the total
    for href, n in links:
        listed = ROW.findall(staff.get(href).get_data(as_text=True))
        assert len(listed) == n, href
    ids = place_data["ids"]
    cell = next(href for href, n in links if n == 3)
    assert sorted(map(int, ROW.findall(staff.get(cell).get_data(as_text=True)))) == sorted(
        ids["east_cleaning"])
    nobody = next(href for href, _n in links if "building_id=none" in href
                  and "category_id" in href)
    assert sorted(map(int, ROW.findall(staff.get(nobody).get_data(as_text=True)))) == sorted(
        ids["none_repairs"])
    chinese = staff.get(f"/feedback/by-place?period={MARCH}&lang=zh_Hans_CN")
    assert chinese.status_code == 200 and "未注明楼宇" in chinese.get_data(as_text=True)


def test_the_period_picker_and_htmx_swap_the_report(app, login_as, place_data):
    staff = login_as("staff")
    page = staff.get("/feedback/by-place?month=2026-04&lang=en").get_data(as_text=True)
    assert 'name="period"' in page and 'name="month"' in page  # the shared picker
    part = staff.get(f"/feedback/by-place?period={MARCH}", headers={"HX-Request": "true"})
    body = part.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="report">') and "<html" not in body
    bad = staff.get("/feedback/by-place?month=March&lang=en").get_data(as_text=True)
    assert "Enter a month as YYYY-MM" in bad


def test_the_matrix_exports_as_csv_and_xlsx(app, login_as, place_data):
    staff = login_as("staff")
    response = staff.get(f"/feedback/by-place/export?period={MARCH}&format=csv&lang=en")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Building" and rows[0][-1] == "Total"
    by_name = {row[0]: row[1:] for row in rows[1:]}
    cleaning = rows[0].index("Cleaning")
    assert by_name["东楼"][cleaning - 1] == "3" and by_name["东楼"][-1] == "4"
    assert by_name["No building given"][-1] == "2" and by_name["Total"][-1] == "7"
    xlsx = staff.get(f"/feedback/by-place/export?period={MARCH}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert staff.get("/feedback/by-place/export?period=nonsense").status_code == 400


def test_the_queue_filters_by_building_room_and_days(app, login_as, place_data):
    d, ids = place_data, place_data["ids"]
    staff = login_as("staff")

    def listed(query):
        page = staff.get(f"/feedback/?status=all&{query}").get_data(as_text=True)
        return sorted(map(int, ROW.findall(page)))

    east_all = sorted(ids["east_cleaning"] + ids["east_repairs"] + ids["outside"][:1])
    assert listed(f"building_id={d['east']}") == east_all
    assert listed(f"building_id={d['east']}&room_id={d['east_room']}") == sorted(
        ids["east_cleaning"][:2] + ids["outside"][:1])
    # A room of another building (the building changed after the room was picked) is dropped.
    assert listed(f"building_id={d['east']}&room_id={d['west_room']}") == east_all
    assert listed("building_id=none") == sorted(ids["none_repairs"])
    assert listed("since=2026-03-01&until=2026-03-31") == sorted(
        n for key, values in ids.items() if key != "outside" for n in values)
    assert listed("since=2026-04-01") == ids["outside"][:1]
    assert listed("until=2026-02-28") == ids["outside"][1:]
    assert len(listed("since=garbage&building_id=x")) == 9  # unknown values are no filter
    assert len(listed("since=0001-01-01&until=9999-12-31")) == 9  # nor days out of range
    # The room choice lists the chosen building's rooms only; none before a building is chosen.
    page = staff.get(f"/feedback/?building_id={d['east']}&lang=en").get_data(as_text=True)
    room_select = page.split('id="room-filter"', 1)[1].split("</select>", 1)[0]
    assert "E101" in room_select and "E102" in room_select and "W201" not in room_select
    assert f'<option value="{d["east"]}" selected>' in page
    plain = staff.get("/feedback/?lang=en").get_data(as_text=True)
    assert "Choose a building first" in plain and "E101" not in plain
    # With htmx the room choice follows the building.
    part = staff.get(f"/feedback/queue/rooms?building_id={d['west']}",
                     headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.lstrip().startswith('<span id="room-filter">') and "W201" in part
    assert "E101" not in part
    assert 'hx-get="/feedback/queue/rooms" hx-target="#room-filter"' in plain


def test_a_room_s_history(app, login_as, place_data, monkeypatch):
    d, ids = place_data, place_data["ids"]
    staff = login_as("staff")
    page = staff.get(f"/feedback/rooms/{d['east_room']}/history?lang=en").get_data(as_text=True)
    assert [int(n) for n in ROW.findall(page)] == [ids["outside"][0], ids["east_cleaning"][1],
                                                   ids["east_cleaning"][0]]  # newest first
    assert "Closed" in page and "Cleaning" in page.split('id="room-counts"', 1)[1]
    assert '<span class="badge">3</span>' in page
    room_page = staff.get(f"/rentals/rooms/{d['east_room']}").get_data(as_text=True)
    assert f'href="/feedback/rooms/{d["east_room"]}/history"' in room_page
    empty = staff.get(f"/feedback/rooms/{d['west_room']}/history?lang=en")
    assert "No feedback about this room yet." not in empty.get_data(as_text=True)
    # Paginated: the pages keep the room in their address.
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    first = staff.get(f"/feedback/rooms/{d['east_room']}/history").get_data(as_text=True)
    assert f'href="/feedback/rooms/{d["east_room"]}/history?page=2"' in first
    second = staff.get(f"/feedback/rooms/{d['east_room']}/history?page=2",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert second.lstrip().startswith('<div id="results">')
    assert [int(n) for n in ROW.findall(second)] == [ids["east_cleaning"][0]]
    assert staff.get("/feedback/rooms/999999/history").status_code == 404


def test_a_room_without_feedback(app, login_as):
    room = make_room(app)
    page = login_as("staff").get(f"/feedback/rooms/{room}/history?lang=en")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("No feedback about this room yet.") == 2


@pytest.mark.parametrize("role, status", [("supervisor", 403), ("client", 403)])
def test_only_the_bureau_sees_feedback_by_place(app, login_as, role, status):
    room = make_room(app)
    client = login_as(role)
    for url in ("/feedback/by-place", "/feedback/by-place/export?format=csv",
                f"/feedback/rooms/{room}/history", "/feedback/queue/rooms?building_id=1"):
        assert client.get(url).status_code == status, url
    assert "/feedback/by-place" not in client.get("/").get_data(as_text=True)
    anonymous = app.test_client().get("/feedback/by-place")
    assert anonymous.status_code in (302, 303)


def test_the_bureau_finds_it_in_the_feedback_menu(app, login_as):
    for role in ("staff", "admin"):
        html = login_as(role).get("/?lang=en").get_data(as_text=True)
        assert '<a href="/feedback/by-place"' in html and "Feedback by place" in html


def test_the_pages_run_a_fixed_number_of_queries(app, login_as, supervisor, count_queries,
                                                 monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)
    sid = supervisor.account.id
    staff = login_as("staff")
    building = make_building(app)
    room = make_room(app, building)
    categories = [make_category(app), make_category(app)]
    day = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

    def add(count):
        for n in range(count):
            new_building = make_building(app)
            make_room(app, new_building)
            _at(app, sid, categories[n % 2], day, building_id=building, room_id=room)
            _at(app, sid, categories[n % 2], day, building_id=new_building)
            _at(app, sid, categories[n % 2], day)
        categories.append(make_category(app))

    urls = [f"/feedback/by-place?period={MARCH}",
            f"/feedback/by-place/export?period={MARCH}&format=xlsx",
            f"/feedback/rooms/{room}/history",
            f"/feedback/?status=all&building_id={building}&room_id={room}"
            f"&since={date(2026, 3, 1)}&until={date(2026, 3, 31)}",
            f"/feedback/queue/rooms?building_id={building}"]

    def measure(url):
        with count_queries() as queries:
            assert staff.get(url).status_code == 200
        return len(queries)

    add(2)
    for url in urls:
        staff.get(url)  # warm up
    few = [measure(url) for url in urls]
    add(12)
    assert [measure(url) for url in urls] == few
