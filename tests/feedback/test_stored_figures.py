"""The supervisors' feedback figures of a period that has ended, stored for the day
(feedback.reports.feedback_figures_of, portal/stored_figures.py): equal to a live recount,
read back without counting the items, counted afresh after any change to the feedback or
on another day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from portal.database import write_transaction
from portal.extensions import db
from portal.feedback import reports
from portal.feedback.models import Feedback, FeedbackStatus
from portal.i18n import local_today, local_zone
from portal.reporting import Period
from tests.catalogue.factories import make_category
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_feedback
from tests.helpers import figures_request


def _run(app, count_queries, periods, live=False):
    """(the figures, whether the items were counted) as a request would get them."""
    with figures_request(app, live), count_queries() as queries:
        figures = reports.feedback_figures_of(periods)
    return figures, any("FROM feedback" in q for q in queries)


def test_a_closed_periods_figures_are_stored_for_the_day(app, count_queries, monkeypatch):
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    category = make_category(app)
    with app.test_request_context():
        today, zone = local_today(), local_zone()
    first = today.replace(day=1) - timedelta(days=60)
    closed = Period(first, first + timedelta(days=30))
    items = [make_feedback(app, supervisor.id, category, submitted_on=first + timedelta(days=n),
                           submitted_at=datetime.combine(first + timedelta(days=n), time(10),
                                                         tzinfo=zone),
                           status=status, service_rating=rating)
             for n, status, rating in ((1, FeedbackStatus.SUBMITTED, 2),
                                       (5, FeedbackStatus.CLOSED, 5),
                                       (9, FeedbackStatus.IN_PROGRESS, 4))]
    this_month = Period(today.replace(day=1), today + timedelta(days=1))
    periods = [closed, this_month]

    cold, counted = _run(app, count_queries, periods)
    assert counted and cold[0].volume == 3 and cold[0].service_rating_sum == 11
    warm, counted = _run(app, count_queries, [closed])
    assert not counted and warm[0] == cold[0]  # read stored
    assert _run(app, count_queries, periods, live=True)[0] == cold

    # A change to an item of the period: counted afresh, equal to a live recount.
    with app.test_request_context(), write_transaction():
        db.session.get(Feedback, items[0]).status = FeedbackStatus.CLOSED
        db.session.get(Feedback, items[0]).handling_rating = 3
    after, counted = _run(app, count_queries, [closed])
    assert counted and after != warm
    assert after == _run(app, count_queries, [closed], live=True)[0]
    assert after[0].closed == 2
    again, counted = _run(app, count_queries, [closed])
    assert not counted and again == after

    # Another day: the on-time counts of open items may change with the date, so the stored
    # figures of yesterday are not used.
    monkeypatch.setattr(reports, "local_today", lambda: today + timedelta(days=1))
    _tomorrow, counted = _run(app, count_queries, [closed])
    assert counted
    with app.test_request_context():
        stored = db.session.execute(sa.text(
            "SELECT count(*) FROM stored_figure WHERE source = 'feedback.figures'")).scalar()
    assert stored == 1  # the closed period, once (the open month never)
