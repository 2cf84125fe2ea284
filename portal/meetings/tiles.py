"""The staff's work list ("My work"): their action items due, feedback ready to resolve and
service contracts expiring (one query each; the conditions are those of the alerts and the
lists).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext, ngettext

from ..core.dashboard import (
    WorkItem,
    count_and_first,
    day_label,
    days_ago,
    excerpt,
    work_provider,
)
from ..feedback.models import Feedback
from ..roles import Role
from ..suppliers.models import ContractState, ServiceContract, Supplier
from . import services
from .models import ActionItem, Meeting, MeetingStatus

# --- "My work" -------------------------------------------------------------------------------


@work_provider
def meeting_work(user) -> list[WorkItem]:
    """Staff and admins: action items they are responsible for that are due or overdue, feedback
    answered by verified actions and ready to resolve, service contracts expiring (one query
    each)."""
    if user.role not in Role.BUREAU:
        return []
    on = services.today()
    count, first = count_and_first(
        sa.select(ActionItem.description, ActionItem.due_on)
        .join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(ActionItem.owned_by(user), ActionItem.due(on),
               Meeting.status != MeetingStatus.CANCELLED),
        ActionItem.due_on, ActionItem.id)
    items = [WorkItem(
        ngettext("%(num)d of your action items due within %(days)d days or overdue",
                 "%(num)d of your action items due within %(days)d days or overdue", count,
                 days=ActionItem.DUE_WITHIN),
        count, url_for("meetings.actions", state="due", mine=1),
        gettext("Due %(when)s: %(what)s", when=day_label(first.due_on),
                what=excerpt(first.description)) if first else "",
        "danger" if first and first.due_on < on else "warning", "meetings")]
    count, first = count_and_first(
        sa.select(Feedback.id, Feedback.description, Feedback.submitted_at)
        .where(services.ready_to_resolve_condition()), Feedback.submitted_at, Feedback.id)
    items.append(WorkItem(
        ngettext("%(num)d feedback item ready to resolve",
                 "%(num)d feedback items ready to resolve", count),
        count, url_for("meetings.ready_to_resolve"),
        gettext("Oldest submitted %(ago)s: %(what)s", ago=days_ago(first.submitted_at),
                what=gettext("No. %(id)d %(text)s", id=first.id,
                             text=excerpt(first.description))) if first else "",
        "warning", "meetings"))
    count, first = count_and_first(
        sa.select(ServiceContract.number, ServiceContract.ends_on,
                  Supplier.name.label("supplier"))
        .join(Supplier, Supplier.id == ServiceContract.supplier_id)
        .where(ServiceContract.state_condition(ContractState.EXPIRING, on)),
        ServiceContract.ends_on, ServiceContract.id)
    items.append(WorkItem(
        ngettext("%(num)d service contract expiring", "%(num)d service contracts expiring",
                 count),
        count, url_for("suppliers.contracts", state=ContractState.EXPIRING),
        gettext("First to end %(when)s: %(what)s", when=day_label(first.ends_on),
                what=f"{first.number} {first.supplier}") if first else "", "warning",
        "meetings"))
    return items
