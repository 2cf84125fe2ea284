"""Survey tile on the staff and admin dashboard: the latest published round's satisfaction
rate against its target, with its sample size and response rate (a fixed number of queries)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core.dashboard import Tile, tile_provider
from ..roles import Role
from .reports import rounds_trend


@tile_provider
def survey_tiles(user) -> list[Tile]:
    if user.role not in Role.BUREAU:
        return []
    answered = [point for point in rounds_trend() if point.figure.valid]
    if not answered:
        return []
    latest = answered[-1]
    rate = latest.rate
    response = "—" if latest.response_rate is None else f"{latest.response_rate:g}%"
    return [Tile(
        _l("Satisfaction rate: %(title)s", title=latest.title), f"{rate:g}%",
        url_for("surveys.results", round_id=latest.round_id),
        tone="good" if rate >= latest.target else "warning",
        note=_l("target %(target)d%% · n = %(n)d · response rate %(rate)s",
                target=latest.target, n=latest.figure.valid, rate=response))]
