"""The statements that find a day's to a month's slots through the overlap guard's index run
with generic plans on PostgreSQL (services.active_slots_meeting): planned once per
connection, not on every request."""

from __future__ import annotations

import pytest

from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import make_user


def _slot_statements_inside_generic_plans(queries: list[str]) -> list[bool]:
    """For each statement reading venue slots: whether a generic-plan block surrounds it
    (database.generic_plans switches the mode on, then back: the switches alternate)."""
    inside, found = False, []
    for query in queries:
        if "plan_cache_mode" in query:
            inside = not inside
        elif "FROM venue_slot" in query:
            found.append(inside)
    assert not inside  # every block switched back
    return found


@pytest.mark.parametrize("page", ["week", "month", "overview", "free", "runsheet"])
def test_slot_windows_run_with_generic_plans(app, login_as, count_queries, is_postgres, page):
    staff = login_as("staff")
    hall = make_venue(app, name="大会议室")
    day = future_day(3)
    make_booking(app, make_user(app, "client").id, hall, day=day)
    path = {"week": f"/venues/{hall}?view=week&date={day}",
            "month": f"/venues/{hall}?view=month&date={day}",
            "overview": f"/venues/overview?month={day:%Y-%m}",
            "free": f"/venues/?day={day}&session=afternoon&headcount=10",
            "runsheet": f"/venues/runsheet?day={day}"}[page]
    with count_queries() as queries:
        assert staff.get(path).status_code == 200
    inside = _slot_statements_inside_generic_plans(queries)
    assert inside  # the page read its slots
    assert all(inside) if is_postgres else not any(inside)
