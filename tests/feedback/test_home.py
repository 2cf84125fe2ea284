"""Feedback on the home pages: the supervisor's big button and filtered tiles, the staff's
open and overdue tiles, and the lists those tiles open."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.feedback.models import FeedbackStatus as S
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.helpers import bureau_today

TILE = re.compile(r'<a class="tile[^"]*" href="([^"]+)">\s*<span class="tile-value">([^<]*)</span>'
                  r'\s*<span class="tile-title">([^<]*)</span>')


def _tiles(html: str) -> dict[str, tuple[str, str]]:
    """Title → (link, value) of the home page's tiles."""
    return {title: (href.replace("&amp;", "&"), value)
            for href, value, title in TILE.findall(html)}


def _listed(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'id="feedback-(\d+)"', html)}


def _items(app, supervisor_id):
    category = make_category(app)
    long_ago = bureau_today(app) - timedelta(days=40)
    return {
        "resolved": make_feedback(app, supervisor_id, category, status=S.RESOLVED,
                                  response="已处理"),
        "fresh": make_feedback(app, supervisor_id, category),
        "late": make_feedback(app, supervisor_id, category, status=S.IN_PROGRESS,
                              submitted_on=long_ago),
        "closed": make_feedback(app, supervisor_id, category, status=S.CLOSED),
    }


def test_a_supervisors_home_leads_with_the_button_and_tiles_open_their_filtered_lists(
        app, login_as):
    supervisor = login_as("supervisor")
    make_appointment(app, supervisor.account.id)
    items = _items(app, supervisor.account.id)
    home = supervisor.get("/").get_data(as_text=True)

    button = home.index('class="button primary big" href="/feedback/new">提交意见反馈</a>')
    assert button < home.index('class="tiles"')
    tiles = _tiles(supervisor.get("/?lang=en").get_data(as_text=True))
    assert tiles["Resolved, waiting for your confirmation"] == (
        "/feedback/mine?status=resolved", "1")
    assert tiles["My feedback being handled"] == ("/feedback/mine?status=open", "2")
    assert tiles["My feedback overdue"] == ("/feedback/mine?status=open&overdue=1", "1")

    expected = {"resolved": {items["resolved"]}, "open": {items["fresh"], items["late"]},
                "overdue": {items["late"]}}
    for title, key in (("Resolved, waiting for your confirmation", "resolved"),
                       ("My feedback being handled", "open"), ("My feedback overdue", "overdue")):
        page = supervisor.get(tiles[title][0]).get_data(as_text=True)
        assert _listed(page) == expected[key], title
        assert page.count('aria-current="page"') >= 1  # the filter tab in use is marked
    assert _listed(supervisor.get("/feedback/mine").get_data(as_text=True)) == set(items.values())
    # An unknown filter is ignored, not an error.
    assert _listed(supervisor.get("/feedback/mine?status=nonsense").get_data(as_text=True)) == \
        set(items.values())
    # The htmx partial of the list is filtered too.
    partial = supervisor.get("/feedback/mine?status=resolved",
                             headers={"HX-Request": "true", "HX-Target": "results"})
    assert _listed(partial.get_data(as_text=True)) == {items["resolved"]}


def test_no_button_outside_a_supervisors_term(app, login_as):
    supervisor = login_as("supervisor")
    today = bureau_today(app)
    make_appointment(app, supervisor.account.id, start=today - timedelta(days=400),
                     end=today - timedelta(days=10))
    home = supervisor.get("/").get_data(as_text=True)
    assert 'href="/feedback/new"' not in home.split("</header>", 1)[1]
    assert "/feedback/mine?status=resolved" in home


def test_staff_home_shows_open_and_overdue_feedback_in_a_fixed_number_of_queries(
        app, login_as, user_factory, count_queries):
    staff = login_as("staff")
    supervisor = user_factory("supervisor")
    make_appointment(app, supervisor.id)
    items = _items(app, supervisor.id)
    with count_queries() as few:
        home = staff.get("/?lang=en").get_data(as_text=True)
    tiles = _tiles(home)
    assert tiles["Open feedback"] == ("/feedback/?status=open", "2")
    assert tiles["Overdue feedback"] == ("/feedback/?status=open&overdue=1", "1")
    queue = staff.get(tiles["Overdue feedback"][0]).get_data(as_text=True)
    assert f"/feedback/{items['late']}" in queue and f"/feedback/{items['fresh']}" not in queue

    _items(app, supervisor.id)
    with count_queries() as more:
        home = staff.get("/?lang=en").get_data(as_text=True)
    assert _tiles(home)["Open feedback"][1] == "4"
    assert len(more) == len(few)
