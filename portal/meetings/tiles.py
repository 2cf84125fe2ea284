"""Staff dashboard tiles: contracts expiring, overdue action items, feedback ready to resolve
(one query; the conditions are those of the alerts and the lists).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core.dashboard import Tile, tile_provider
from ..extensions import db
from ..feedback.models import Feedback
from ..roles import Role
from ..suppliers.models import ContractState, ServiceContract
from . import services
from .models import ActionItem, Meeting, MeetingStatus


def figures(on=None) -> dict[str, int]:
    on = on or services.today()

    def scalar(select):
        return select.scalar_subquery()

    row = db.session.execute(sa.select(
        scalar(sa.select(sa.func.count(ServiceContract.id)).where(
            ServiceContract.state_condition(ContractState.EXPIRING, on))),
        scalar(sa.select(sa.func.count(ActionItem.id))
               .join(Meeting, Meeting.id == ActionItem.meeting_id)
               .where(ActionItem.overdue(on), Meeting.status != MeetingStatus.CANCELLED)),
        scalar(sa.select(sa.func.count(Feedback.id))
               .where(services.ready_to_resolve_condition())),
    )).one()
    return dict(zip(("expiring", "overdue", "ready"), (int(v or 0) for v in row), strict=True))


@tile_provider
def meeting_tiles(user) -> list[Tile]:
    if user.role not in Role.BUREAU:
        return []
    found = figures()
    return [
        Tile(_l("Service contracts expiring"), str(found["expiring"]),
             url_for("suppliers.contracts", state=ContractState.EXPIRING),
             tone="warning" if found["expiring"] else "good"),
        Tile(_l("Overdue action items"), str(found["overdue"]),
             url_for("meetings.actions", state="overdue"),
             tone="danger" if found["overdue"] else "good"),
        Tile(_l("Feedback ready to resolve"), str(found["ready"]),
             url_for("meetings.ready_to_resolve"),
             tone="warning" if found["ready"] else "good"),
    ]
