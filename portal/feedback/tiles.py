"""Feedback on the home pages.

A supervisor's home leads with a large "give feedback" button (while their term is active)
and, on their work list, their items waiting for their confirmation (resolved) and those
being handled, each opening their own list filtered.  Staff and admins: items to accept and
overdue items (admins: escalated items still open), each opening the queue filtered.  One
query per line (the button: one more, the supervisor's active appointment)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from ..core.dashboard import (
    HomeAction,
    WorkItem,
    count_and_first,
    day_label,
    days_ago,
    excerpt,
    home_action_provider,
    work_provider,
)
from ..roles import Role
from . import services
from .models import Feedback, FeedbackStatus


@home_action_provider
def feedback_actions(user) -> list[HomeAction]:
    if user.role != Role.SUPERVISOR or services.active_appointment(user.id) is None:
        return []
    return [HomeAction(_l("Give feedback"), url_for("feedback.submit"))]


# --- "My work" -------------------------------------------------------------------------------


def _lines(user, condition, order_by, when):
    """Count the user's items meeting ``condition`` and read the first in ``order_by`` order
    (one query): its number, description and the ``when`` column."""
    return count_and_first(
        sa.select(Feedback.id, Feedback.description, when.label("when"))
        .where(Feedback.visible_to(user), condition), order_by, Feedback.id)


def _what(row) -> str:
    return gettext("No. %(id)d %(text)s", id=row.id, text=excerpt(row.description))


def _submitted_lead(row) -> str:
    return gettext("Oldest submitted %(ago)s: %(what)s", ago=days_ago(row.when), what=_what(row))


def _due_lead(row) -> str:
    return gettext("Due %(when)s: %(what)s", when=day_label(row.when), what=_what(row))


def _overdue_line(user, on, url: str) -> WorkItem:
    """The user's overdue items, the deadline missed first leading: the first response of
    an item still submitted, else the resolution (Feedback.overdue's two deadlines)."""
    deadline = sa.case((Feedback.status == FeedbackStatus.SUBMITTED, Feedback.response_due_on),
                       else_=Feedback.resolution_due_on)
    overdue, first = _lines(user, Feedback.overdue(on), deadline, deadline)
    return WorkItem(
        ngettext("%(num)d feedback item overdue", "%(num)d feedback items overdue", overdue),
        overdue, url, _due_lead(first) if first else "", "danger", "feedback")


@work_provider
def feedback_work(user) -> list[WorkItem]:
    on = services.today()
    if user.role in Role.BUREAU:
        to_accept, first = _lines(user, Feedback.status == FeedbackStatus.SUBMITTED,
                                  Feedback.submitted_at, Feedback.submitted_at)
        items = [WorkItem(
            ngettext("%(num)d feedback item to accept", "%(num)d feedback items to accept",
                     to_accept),
            to_accept, url_for("feedback.queue", status=FeedbackStatus.SUBMITTED),
            _submitted_lead(first) if first else "", "warning", "feedback")]
        # Overdue by kind: the first response (still to accept) and the resolution.
        late, first = _lines(user, Feedback.response_overdue(on), Feedback.response_due_on,
                             Feedback.response_due_on)
        items.append(WorkItem(
            ngettext("%(num)d feedback item not accepted in time",
                     "%(num)d feedback items not accepted in time", late),
            late, url_for("feedback.queue", status=FeedbackStatus.SUBMITTED,
                          overdue=Feedback.OVERDUE_RESPONSE),
            _due_lead(first) if first else "", "danger", "feedback"))
        late, first = _lines(user, Feedback.resolution_overdue(on), Feedback.resolution_due_on,
                             Feedback.resolution_due_on)
        items.append(WorkItem(
            ngettext("%(num)d feedback item past its resolution deadline",
                     "%(num)d feedback items past their resolution deadline", late),
            late, url_for("feedback.queue", status="open", overdue=Feedback.OVERDUE_RESOLUTION),
            _due_lead(first) if first else "", "danger", "feedback"))
        if user.role == Role.ADMIN:
            escalated, first = _lines(
                user, sa.and_(Feedback.status.in_(FeedbackStatus.OPEN),
                              Feedback.escalated_at.is_not(None)),
                Feedback.escalated_at, Feedback.submitted_at)
            items.append(WorkItem(
                ngettext("%(num)d escalated feedback item still open",
                         "%(num)d escalated feedback items still open", escalated),
                escalated, url_for("feedback.queue", status="open", escalated=1),
                _submitted_lead(first) if first else "", "danger", "feedback"))
        return items
    if user.role == Role.SUPERVISOR:
        resolved_at = sa.func.coalesce(Feedback.resolved_at, Feedback.submitted_at)
        resolved, first = _lines(user, Feedback.status == FeedbackStatus.RESOLVED,
                                 resolved_at, resolved_at)
        items = [WorkItem(
            ngettext("%(num)d resolved item waiting for your confirmation",
                     "%(num)d resolved items waiting for your confirmation", resolved),
            resolved, url_for("feedback.mine", status=FeedbackStatus.RESOLVED),
            gettext("Oldest resolved %(ago)s: %(what)s", ago=days_ago(first.when),
                    what=_what(first)) if first else "", "warning", "feedback")]
        handled, first = _lines(user, Feedback.status.in_(FeedbackStatus.OPEN),
                                Feedback.submitted_at, Feedback.submitted_at)
        items.append(WorkItem(
            ngettext("%(num)d of your feedback items being handled",
                     "%(num)d of your feedback items being handled", handled),
            handled, url_for("feedback.mine", status="open"),
            _submitted_lead(first) if first else "", "neutral", "feedback"))
        items.append(_overdue_line(user, on, url_for("feedback.mine", status="open",
                                                     overdue=1)))
        return items
    return []
