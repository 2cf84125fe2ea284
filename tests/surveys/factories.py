"""Questionnaires, rounds, invitations and answers for tests. Every helper writes through the
services (or ``write_transaction``) and returns ids or raw tokens."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal.database import write_transaction
from portal.extensions import db
from portal.i18n import local_today
from portal.surveys import services
from portal.surveys.models import (
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    RoundStatus,
    SurveyInvitation,
    SurveyRound,
)
from tests.feedback.factories import make_category
from tests.helpers import bureau_today as today  # noqa: F401  (the surveys tests import it here)

STAFF = type("Staff", (), {"role": "staff"})()


def make_questionnaire(app, category_ids: list[int] | None = None, text: bool = True,
                       title: str = "后勤服务满意度问卷") -> int:
    """A questionnaire with one scale question per category (and a free-text question)."""
    if category_ids is None:
        category_ids = [make_category(app)]
    with app.test_request_context():
        questionnaire = services.create_questionnaire(title)
        for category_id in category_ids:
            services.add_question(questionnaire, QuestionKind.SCALE, "总体评价", category_id)
        if text:
            services.add_question(questionnaire, QuestionKind.TEXT, "意见和建议", None)
        return questionnaire.id


def make_round(app, questionnaire_id: int | None = None, *, publish: bool = True,
               anonymous: bool = True, closes_on: date | None = None,
               satisfied=(4, 3, 2), target: int = 90, reminder_days: int | None = 3,
               title: str = "2026年上半年满意度调查") -> int:
    questionnaire_id = questionnaire_id or make_questionnaire(app)
    with app.test_request_context():
        survey = services.save_round(None, services.RoundInput(
            title=title, questionnaire_id=questionnaire_id,
            closes_on=closes_on or local_today() + timedelta(days=14), anonymous=anonymous,
            satisfied_points=tuple(satisfied), target_rate=target, reminder_days=reminder_days))
        if publish:
            services.publish_round(survey, STAFF)
        return survey.id


def invite(app, round_id: int, *emails: str) -> list[str]:
    """Invite addresses; their raw tokens, in the order given."""
    with app.test_request_context():
        survey = db.session.get(SurveyRound, round_id)
        services.invite_addresses(survey, "\n".join(emails), unit="区财政局")
        salts = dict(db.session.execute(
            sa.select(SurveyInvitation.email, SurveyInvitation.salt)
            .where(SurveyInvitation.round_id == round_id)).all())
        return [services.invitation_token(salts[email.lower()]) for email in emails]


def questions_of(app, round_id: int) -> list[tuple[int, str, int | None]]:
    """(id, kind, category id) of the round's questions, in order."""
    with app.test_request_context():
        survey = db.session.get(SurveyRound, round_id)
        version_id = survey.version_id or db.session.scalar(
            sa.select(QuestionnaireVersion.id)
            .where(QuestionnaireVersion.questionnaire_id == survey.questionnaire_id)
            .order_by(QuestionnaireVersion.number.desc()).limit(1))
        return list(db.session.execute(
            sa.select(Question.id, Question.kind, Question.category_id)
            .where(Question.version_id == version_id).order_by(Question.position)))


def answer(app, round_id: int, token: str, value: int | None = 4, text: str = "",
           values: dict | None = None) -> None:
    """Answer every scale question with ``value`` (or ``values[category_id]``)."""
    scale, texts = {}, {}
    for question_id, kind, category_id in questions_of(app, round_id):
        if kind == QuestionKind.SCALE:
            scale[question_id] = (values or {}).get(category_id, value)
        else:
            texts[question_id] = text
    with app.test_request_context():
        services.submit_response(token, services.AnswerInput(scale, texts))


def close(app, round_id: int) -> None:
    with app.test_request_context(), write_transaction():
        survey = db.session.get(SurveyRound, round_id)
        survey.status = RoundStatus.CLOSED


__all__ = ["Questionnaire", "answer", "close", "invite", "make_questionnaire", "make_round",
           "questions_of"]


