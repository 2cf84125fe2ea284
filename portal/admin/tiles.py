"""The admin's home: accounts and mail waiting in the outbox (tiles), and mail that failed
(a line of the work list, "My work")."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..core.dashboard import (
    Tile,
    WorkItem,
    count_and_first,
    days_ago,
    excerpt,
    tile_provider,
    work_provider,
)
from ..extensions import db
from ..outbox.models import OutboxMessage, OutboxStatus
from ..roles import Role


@tile_provider
def admin_tiles(user) -> list[Tile]:
    if user.role != Role.ADMIN:
        return []
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.active))
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING))
    return [
        Tile(_l("Active accounts"), str(users), url_for("admin.users")),
        Tile(_l("Mail waiting"), str(waiting),
             url_for("outbox.index", status=OutboxStatus.PENDING)),
    ]


@work_provider
def admin_work(user) -> list[WorkItem]:
    """Mail the outbox gave up on, for an admin to look at and retry (one query)."""
    if user.role != Role.ADMIN:
        return []
    count, first = count_and_first(
        sa.select(OutboxMessage.subject, OutboxMessage.created_at)
        .where(OutboxMessage.status == OutboxStatus.FAILED),
        OutboxMessage.created_at, OutboxMessage.id)
    return [WorkItem(
        ngettext("%(num)d email failed to send", "%(num)d emails failed to send", count),
        count, url_for("outbox.index", status=OutboxStatus.FAILED),
        gettext("Oldest queued %(ago)s: %(what)s", ago=days_ago(first.created_at),
                what=excerpt(first.subject, 40)) if first else "", "danger", "outbox")]
