"""Stored figures of closed rounds (issue 17, item 2).

A round that no longer takes answers never changes its counts, yet the trend, the dashboard
and the scorecards recounted every answer of every round on each request. So a round's scale
answers are counted once per question and point (:class:`RoundFigure`) and kept:

* when staff close it (:func:`services.close_round`, inside the workflow's transaction, under
  the round's lock, which every answer also takes: no answer slips in between);
* for rounds whose closing date has passed (they take no more answers), by the periodic
  ``tick`` and by ``flask store-survey-figures``, which also recounts old rounds (``--all``:
  every round that takes no more answers, replacing what was stored).

A round whose closing date is moved to the future again loses its stored figures
(:func:`forget`). :func:`portal.surveys.reports` reads stored rounds from their figures and the
others live, in one query.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app

from ..database import utcnow, write_transaction
from ..extensions import db
from ..i18n import local_today
from ..tasks import tick_task
from ..workflow import locked
from . import bp
from .models import (
    Question,
    QuestionKind,
    RoundFigure,
    RoundStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
)


def live_counts(round_id: int) -> list[tuple[int, int, int]]:
    """The round's scale answers recounted: (question, point, answers), point 0 for "cannot
    judge" (1 query)."""
    point = sa.func.coalesce(SurveyAnswer.value, 0)
    return [tuple(row) for row in db.session.execute(
        sa.select(SurveyAnswer.question_id, point, sa.func.count())
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(Question, Question.id == SurveyAnswer.question_id)
        .where(SurveyResponse.round_id == round_id, Question.kind == QuestionKind.SCALE)
        .group_by(SurveyAnswer.question_id, point)
        .order_by(SurveyAnswer.question_id, point))]


def store(survey: SurveyRound) -> None:
    """Count and keep the round's figures, replacing any kept before (the caller's write
    transaction; the round should be locked and take no more answers)."""
    _drop(survey)
    db.session.flush()  # the new rows take the same keys
    db.session.add_all(RoundFigure(round_id=survey.id, question_id=question_id, point=point,
                                   answers=answers)
                       for question_id, point, answers in live_counts(survey.id))
    survey.figures_stored_at = utcnow()


def forget(survey: SurveyRound) -> None:
    """The round takes answers again: its figures are counted live from now on."""
    if survey.figures_stored_at is not None:
        _drop(survey)
        survey.figures_stored_at = None


def _drop(survey: SurveyRound) -> None:
    """Delete the round's kept figures row by row (a few dozen), so that the page cache
    renders afresh this round's pages only, not every survey page as a bulk DELETE would."""
    for figure in db.session.scalars(sa.select(RoundFigure)
                                     .where(RoundFigure.round_id == survey.id)):
        db.session.delete(figure)


def _finished(today):
    """SQL: published rounds that take no more answers (closed, or past their closing date)."""
    return sa.or_(SurveyRound.status == RoundStatus.CLOSED,
                  sa.and_(SurveyRound.status == RoundStatus.OPEN, SurveyRound.closes_on < today))


def store_finished(everything: bool = False) -> int:
    """Store the figures of every round that takes no more answers and has none stored
    (``everything``: recount those stored too). Each round in its own transaction, under its
    lock. How many rounds were stored."""
    today = local_today()
    wanted = sa.select(SurveyRound.id).where(_finished(today)).order_by(SurveyRound.id)
    if not everything:
        wanted = wanted.where(SurveyRound.figures_stored_at.is_(None))
    stored = 0
    for round_id in db.session.scalars(wanted).all():
        with write_transaction():
            survey = locked(db.session.get(SurveyRound, round_id))
            if survey is None or survey.state(today) != RoundStatus.CLOSED:
                continue
            store(survey)
            stored += 1
    return stored


@tick_task("survey figures")
def _store_figures():
    return store_finished()


@bp.cli.command("store-survey-figures")
@click.option("--all", "everything", is_flag=True,
              help="Recount the rounds whose figures are stored already too.")
def store_survey_figures(everything: bool) -> None:
    """Store the figures of survey rounds that take no more answers."""
    with current_app.test_request_context():
        click.echo(f"survey rounds stored: {store_finished(everything)}")
