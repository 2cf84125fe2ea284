"""A supervisor's own surveys: the rounds they are invited to, answered or not, with their
personal link while the round is open (the same one-time link as in the email)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..authz import role_required
from ..core.dashboard import Tile, tile_provider
from ..core.nav import nav_item
from ..extensions import db
from ..htmx import render
from ..i18n import local_today
from ..roles import Role
from . import bp, services
from .models import RoundStatus, SurveyInvitation, SurveyRound

nav_item("surveys.mine", _l("My surveys"), (Role.SUPERVISOR,), order=40)


def my_invitations(user) -> list[tuple[SurveyInvitation, SurveyRound]]:
    return list(db.session.execute(
        sa.select(SurveyInvitation, SurveyRound)
        .join(SurveyRound, SurveyRound.id == SurveyInvitation.round_id)
        .where(SurveyInvitation.user_id == user.id, SurveyRound.status != RoundStatus.DRAFT)
        .order_by(SurveyRound.closes_on.desc(), SurveyRound.id.desc())).all())


@bp.route("/mine")
@role_required(Role.SUPERVISOR)
def mine():
    today = local_today()
    items = []
    for invitation, survey in my_invitations(current_user):
        waiting = survey.accepts_answers(today) and not invitation.responded
        link = (url_for("surveys.answer", token=services.invitation_token(invitation.salt))
                if waiting else None)
        items.append((invitation, survey, survey.state(today), link))
    return render("surveys/mine.html", items=items, state_labels=RoundStatus.LABELS)


@tile_provider
def my_survey_tiles(user) -> list[Tile]:
    if user.role != Role.SUPERVISOR:
        return []
    today = local_today()
    waiting = sum(1 for invitation, survey in my_invitations(user)
                  if survey.accepts_answers(today) and not invitation.responded)
    if not waiting:
        return []
    return [Tile(_l("Surveys waiting for your answers"), str(waiting), url_for("surveys.mine"),
                 tone="warning")]
