"""A supplier account's work list: transferred items waiting for its answer, and its action
items due (one query each)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext, ngettext

from ..core.dashboard import WorkItem, count_and_first, day_label, excerpt, work_provider
from ..feedback.models import Feedback
from ..meetings.models import ActionItem
from ..roles import Role
from . import services


@work_provider
def supplier_work(user) -> list[WorkItem]:
    if user.role != Role.SUPPLIER:
        return []
    on = services.today()
    count, first = count_and_first(
        sa.select(Feedback.id, Feedback.description, Feedback.resolution_due_on)
        .where(Feedback.visible_to(user), services.waiting_condition()),
        Feedback.resolution_due_on, Feedback.id)
    items = [WorkItem(
        ngettext("%(num)d transferred feedback item waiting for your answer",
                 "%(num)d transferred feedback items waiting for your answer", count),
        count, url_for("partners.feedback", state="waiting"),
        gettext("Due %(when)s: %(what)s", when=day_label(first.resolution_due_on),
                what=gettext("No. %(id)d %(text)s", id=first.id,
                             text=excerpt(first.description))) if first else "",
        "danger" if first and first.resolution_due_on < on else "warning", "partners")]
    count, first = count_and_first(
        sa.select(ActionItem.description, ActionItem.due_on)
        .where(ActionItem.visible_to(user), ActionItem.due(on)),
        ActionItem.due_on, ActionItem.id)
    items.append(WorkItem(
        ngettext("%(num)d of your action items due within %(days)d days or overdue",
                 "%(num)d of your action items due within %(days)d days or overdue", count,
                 days=ActionItem.DUE_WITHIN),
        count, url_for("partners.actions", state="due"),
        gettext("Due %(when)s: %(what)s", when=day_label(first.due_on),
                what=excerpt(first.description)) if first else "",
        "danger" if first and first.due_on < on else "warning", "partners"))
    return items
