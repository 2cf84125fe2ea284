"""The admin's dashboard tiles: accounts and mail waiting in the outbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..core.dashboard import Tile, tile_provider
from ..extensions import db
from ..outbox.models import OutboxMessage, OutboxStatus


@tile_provider
def admin_tiles(user) -> list[Tile]:
    if user.role != "admin":
        return []
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.active))
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count())
            .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
            .group_by(OutboxMessage.status)
        ).all()
    )
    failed = counts.get(OutboxStatus.FAILED, 0)
    return [
        Tile(_l("Active accounts"), str(users), url_for("admin.users")),
        Tile(_l("Mail waiting"), str(counts.get(OutboxStatus.PENDING, 0)),
             url_for("outbox.index", status=OutboxStatus.PENDING)),
        Tile(_l("Mail failed"), str(failed), url_for("outbox.index", status=OutboxStatus.FAILED),
             tone="danger" if failed else "good"),
    ]
