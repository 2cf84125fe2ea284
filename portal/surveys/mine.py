"""A supervisor's own surveys: the rounds they are invited to, answered or not, with their
personal link while the round is open (the same one-time link as in the email)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..authz import role_required
from ..core.dashboard import WorkItem, count_and_first, day_label, work_provider
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


# --- "My work" -------------------------------------------------------------------------------


@work_provider
def survey_work(user) -> list[WorkItem]:
    """Staff: rounds closing within a week (with their response so far); a supervisor: the
    rounds waiting for their answers (one query each)."""
    today = local_today()
    if user.role in Role.BUREAU:
        count, first = count_and_first(
            sa.select(SurveyRound.id, SurveyRound.title, SurveyRound.closes_on)
            .where(SurveyRound.closing(today)), SurveyRound.closes_on, SurveyRound.id)
        return [WorkItem(
            ngettext("%(num)d survey round closing within %(days)d days",
                     "%(num)d survey rounds closing within %(days)d days", count,
                     days=SurveyRound.CLOSING_WITHIN),
            count, url_for("surveys.rounds", closing=1),
            gettext("Closes %(when)s: %(what)s", when=day_label(first.closes_on),
                    what=first.title) if first else "", "neutral", "surveys")]
    if user.role == Role.SUPERVISOR:
        count, first = count_and_first(
            sa.select(SurveyRound.title, SurveyRound.closes_on)
            .join(SurveyInvitation, SurveyInvitation.round_id == SurveyRound.id)
            .where(SurveyInvitation.user_id == user.id, ~SurveyInvitation.responded,
                   SurveyRound.accepting_answers(today)),
            SurveyRound.closes_on, SurveyRound.id)
        return [WorkItem(
            ngettext("%(num)d survey waiting for your answers",
                     "%(num)d surveys waiting for your answers", count),
            count, url_for("surveys.mine"),
            gettext("Closes %(when)s: %(what)s", when=day_label(first.closes_on),
                    what=first.title) if first else "", "warning", "surveys")]
    return []
