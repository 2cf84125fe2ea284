"""Feedback on the home pages: the supervisor's big button and work list, the staff's items
to accept and overdue, and the filtered lists those lines open."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from portal.feedback.models import FeedbackStatus as S
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.helpers import bureau_today, work_lines


def _listed(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'id="feedback-(\d+)"', html)}


def long_ago(app):
    return bureau_today(app) - timedelta(days=40)


def _items(app, supervisor_id):
    category = make_category(app)
    return {
        "resolved": make_feedback(app, supervisor_id, category, status=S.RESOLVED,
                                  response="已处理"),
        "fresh": make_feedback(app, supervisor_id, category),
        "late": make_feedback(app, supervisor_id, category, status=S.IN_PROGRESS,
                              submitted_on=long_ago(app),
                              submitted_at=datetime.now(UTC) - timedelta(days=40)),
        "closed": make_feedback(app, supervisor_id, category, status=S.CLOSED),
    }


def test_a_supervisors_home_leads_with_the_button_and_work_lines_open_their_filtered_lists(
        app, login_as):
    supervisor = login_as("supervisor")
    make_appointment(app, supervisor.account.id)
    items = _items(app, supervisor.account.id)
    home = supervisor.get("/").get_data(as_text=True)

    button = home.index('class="button primary big" href="/feedback/new">提交意见反馈</a>')
    assert button < home.index('class="work-list"')
    lines = work_lines(supervisor.get("/?lang=en").get_data(as_text=True))
    resolved = "1 resolved item waiting for your confirmation"
    handled, overdue = "2 of your feedback items being handled", "1 feedback item overdue"
    assert lines[resolved][0] == "/feedback/mine?status=resolved"
    assert lines[handled][0] == "/feedback/mine?status=open"
    assert lines[handled][1].startswith(f"Oldest submitted 40 days ago: No. {items['late']}")
    assert lines[overdue][0] == "/feedback/mine?status=open&overdue=1"

    expected = {"resolved": {items["resolved"]}, "open": {items["fresh"], items["late"]},
                "overdue": {items["late"]}}
    for title, key in ((resolved, "resolved"), (handled, "open"), (overdue, "overdue")):
        page = supervisor.get(lines[title][0]).get_data(as_text=True)
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
    assert 'class="my-work"' in home  # the work list, quiet while nothing waits


def test_staff_home_shows_feedback_to_accept_and_overdue_in_a_fixed_number_of_queries(
        app, login_as, user_factory, count_queries):
    staff = login_as("staff")
    supervisor = user_factory("supervisor")
    make_appointment(app, supervisor.id)
    items = _items(app, supervisor.id)
    with count_queries() as few:
        home = staff.get("/?lang=en").get_data(as_text=True)
    lines = work_lines(home)
    assert lines["1 feedback item to accept"][0] == "/feedback/?status=submitted"
    assert "feedback items not accepted in time" not in home  # a zero line is left out
    late = "1 feedback item past its resolution deadline"
    assert lines[late][0] == "/feedback/?status=open&overdue=resolution"
    queue = staff.get(lines[late][0]).get_data(as_text=True)
    assert f"/feedback/{items['late']}" in queue and f"/feedback/{items['fresh']}" not in queue

    # Overdue by kind: an item never accepted counts as late for its first response.
    unanswered = make_feedback(app, supervisor.id, make_category(app), submitted_on=long_ago(app),
                               submitted_at=datetime.now(UTC) - timedelta(days=40))
    lines = work_lines(staff.get("/?lang=en").get_data(as_text=True))
    url = lines["1 feedback item not accepted in time"][0]
    assert url == "/feedback/?status=submitted&overdue=response"
    queue = staff.get(url).get_data(as_text=True)
    assert f'id="feedback-{unanswered}"' in queue and f'id="feedback-{items["late"]}"' not in queue
    # Still late for its resolution too: both lines count it.
    assert "2 feedback items past their resolution deadline" in lines
    assert 'name="overdue"' in queue and '<option value="response" selected>' in queue

    _items(app, supervisor.id)
    with count_queries() as few:
        staff.get("/?lang=en")
    _items(app, supervisor.id)
    with count_queries() as more:
        home = staff.get("/?lang=en").get_data(as_text=True)
    assert "4 feedback items to accept" in work_lines(home)
    assert len(more) == len(few)
