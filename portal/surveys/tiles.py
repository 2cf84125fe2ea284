"""Survey tile on the staff and admin dashboard: the satisfaction rate of the latest published
round with an adequate sample, against its target, with its sample size and response rate (a
fixed number of queries).

A round that two of eight invitees have answered says little: the headline is the latest round
with at least ``SURVEY_HEADLINE_MIN_RESPONSES`` responses and a response rate of at least
``SURVEY_HEADLINE_MIN_RESPONSE_RATE`` percent (``PORTAL_*`` settings), and it names that round;
a newer round still short of that is mentioned in the note.  When no round has an adequate
sample the latest one is shown, marked as a small sample."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from ..core.dashboard import Tile, tile_provider
from ..roles import Role
from .reports import TrendPoint, rounds_trend


def adequate(point: TrendPoint) -> bool:
    """Enough responses, and enough of those invited (a round without invitations: enough
    responses)."""
    config = current_app.config
    if point.responses < config["SURVEY_HEADLINE_MIN_RESPONSES"]:
        return False
    rate = point.response_rate
    return rate is None or rate >= config["SURVEY_HEADLINE_MIN_RESPONSE_RATE"]


def headline(points: list[TrendPoint]) -> tuple[TrendPoint | None, TrendPoint | None]:
    """The round to headline and, when a newer answered round was passed over for its small
    sample, that newer round."""
    answered = [point for point in points if point.figure.valid]
    if not answered:
        return None, None
    chosen = next((point for point in reversed(answered) if adequate(point)), None)
    if chosen is None:
        return answered[-1], None
    newest = answered[-1]
    return chosen, (newest if newest is not chosen else None)


@tile_provider
def survey_tiles(user) -> list[Tile]:
    if user.role not in Role.BUREAU:
        return []
    shown, newer = headline(rounds_trend())
    if shown is None:
        return []
    rate = shown.rate
    response = "—" if shown.response_rate is None else f"{shown.response_rate:g}%"
    note = _l("target %(target)d%% · n = %(n)d · response rate %(rate)s",
              target=shown.target, n=shown.figure.valid, rate=response)
    notes = [str(note)]
    if newer is not None:
        notes.append(str(_l("%(title)s: %(responses)d of %(invited)d answered so far, too few "
                            "for a headline", title=newer.title, responses=newer.responses,
                            invited=newer.invitations)))
    elif not adequate(shown):
        notes.append(str(_l("Small sample: %(responses)d responses",
                            responses=shown.responses)))
    return [Tile(
        _l("Satisfaction rate: %(title)s", title=shown.title), f"{rate:g}%",
        url_for("surveys.results", round_id=shown.round_id),
        tone="good" if rate >= shown.target else "warning", note=" · ".join(notes))]
