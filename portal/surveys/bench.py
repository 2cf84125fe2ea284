"""A survey dataset for ``make bench``: ``flask --app portal bench-seed-surveys``.

``--rounds`` (20) closed rounds of one questionnaire with a scale question for each of
:data:`CATEGORIES` bench categories and a free-text question; each round invites
``--invitees`` (300) addresses, about 85 % of whom answer (rates drift upwards round after
round, like the seed's). Rows are written with Core ``INSERT``\\ s in one write transaction
and are not audited (synthetic benchmark data only). ``--check`` reports what is seeded as
JSON and exits 0 when it has these sizes, 3 otherwise. Refused in production.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app

from ..catalogue.models import ServiceCategory
from ..database import utcnow, write_transaction
from ..extensions import db
from ..i18n import local_today
from . import bp, figures
from .models import (
    Question,
    Questionnaire,
    QuestionnaireVersion,
    RoundCategory,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)

PREFIX = "BENCH-S"
CATEGORIES = 8
CHUNK = 5_000
SEED = 20265


def bench_state() -> dict:
    rounds = sa.select(SurveyRound.id).where(SurveyRound.title.like(f"{PREFIX}%"))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(rounds.subquery())) or 0
    invitations = responses = 0
    first = None
    if count:
        invitations = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyInvitation)
                                        .where(SurveyInvitation.round_id.in_(rounds)))
        responses = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)
                                      .where(SurveyResponse.round_id.in_(rounds)))
        first = db.session.scalar(rounds.order_by(SurveyRound.id.desc()).limit(1))
    return {"survey_rounds": count, "survey_invitations": invitations,
            "survey_responses": responses, "survey_round_id": first,
            "database": db.engine.dialect.name}


def _insert(model, rows: list[dict], returning: bool = False) -> list:
    ids: list = []
    table = model.__table__
    for start in range(0, len(rows), CHUNK):
        part = rows[start:start + CHUNK]
        stmt = sa.insert(table)
        if returning:
            stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)
            ids += db.session.execute(stmt, part).scalars()
        else:
            db.session.execute(stmt, part)
    return ids


def seed(rounds: int, invitees: int) -> dict:
    rng = random.Random(SEED)
    now, today = utcnow(), local_today()
    with write_transaction():
        category_ids = _insert(ServiceCategory, [
            {"code": f"bench-survey-{n}", "name": f"基准服务{n}", "name_en": f"Bench service {n}",
             "team": "", "response_days": 1, "resolution_days": 5, "sort_order": 100 + n,
             "active": True} for n in range(1, CATEGORIES + 1)], returning=True)
        questionnaire_id = _insert(Questionnaire, [
            {"title": f"{PREFIX} 基准问卷", "intro": "", "created_at": now}], returning=True)[0]
        version_id = _insert(QuestionnaireVersion, [
            {"questionnaire_id": questionnaire_id, "number": 1, "frozen_at": now,
             "created_at": now}], returning=True)[0]
        question_ids = _insert(Question, [
            {"version_id": version_id, "position": n + 1, "kind": "scale",
             "category_id": category_id, "prompt": f"您对基准服务{n + 1}的评价"}
            for n, category_id in enumerate(category_ids)] + [
            {"version_id": version_id, "position": CATEGORIES + 1, "kind": "text",
             "category_id": None, "prompt": "意见和建议"}], returning=True)
        scale_ids, text_id = question_ids[:-1], question_ids[-1]
        for number in range(rounds):
            closes_on = today - timedelta(days=30 * (rounds - number))
            round_id = _insert(SurveyRound, [{
                "title": f"{PREFIX} 第{number + 1:02d}轮满意度调查",
                "questionnaire_id": questionnaire_id, "version_id": version_id,
                "status": "closed", "closes_on": closes_on, "anonymous": number % 2 == 0,
                "satisfied_mask": 28, "target_rate": 90, "reminder_days": 3,
                "published_on": closes_on - timedelta(days=14), "closed_on": None,
                "created_at": now}], returning=True)[0]
            _insert(RoundCategory, [{"round_id": round_id, "category_id": category_id,
                                     "supplier_id": None, "contract_id": None}
                                    for category_id in category_ids])
            anonymous = number % 2 == 0
            invitation_rows = []
            for n in range(invitees):
                answered = rng.random() < 0.85
                invitation_rows.append({
                    "round_id": round_id, "kind": "unit_staff",
                    "email": f"invitee-{n:05d}@surveys.bench.example.com", "name": "",
                    "unit": f"基准单位{n % 40:02d}", "user_id": None, "appointment_id": None,
                    "salt": uuid.uuid4().hex, "token_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                    "responded": answered,
                    "responded_at": None if anonymous or not answered else now,
                    "reminders": 0, "last_reminded_at": None, "created_at": now})
            invitation_ids = _insert(SurveyInvitation, invitation_rows, returning=True)
            better = 0.6 + 0.3 * number / max(rounds - 1, 1)  # the share of top-two answers
            responses, answers = [], []
            for invitation_id, row in zip(invitation_ids, invitation_rows, strict=True):
                if not row["responded"]:
                    continue
                response_id = uuid.uuid4().hex
                responses.append({"id": response_id, "round_id": round_id,
                                  "anonymous": anonymous,
                                  "invitation_id": None if anonymous else invitation_id,
                                  "submitted_at": None if anonymous else now})
                for question_id in scale_ids:
                    draw = rng.random()
                    value = (None if draw < 0.04 else rng.choice((4, 3)) if draw < better
                             else rng.choice((2, 1)))
                    answers.append({"response_id": response_id, "question_id": question_id,
                                    "value": value, "text": ""})
                if rng.random() < 0.2:
                    answers.append({"response_id": response_id, "question_id": text_id,
                                    "value": None, "text": "希望继续提高服务质量。"})
            _insert(SurveyResponse, responses)
            _insert(SurveyAnswer, answers)
    figures.store_finished()  # closed rounds keep their figures, as closing them would
    return bench_state()


@bp.cli.command("bench-seed-surveys")
@click.option("--rounds", default=20, show_default=True, type=click.IntRange(1))
@click.option("--invitees", default=300, show_default=True, type=click.IntRange(1))
@click.option("--check", is_flag=True,
              help="Only report what is seeded (JSON); exit 0 when it has these sizes, else 3.")
def bench_seed_surveys(rounds: int, invitees: int, check: bool) -> None:
    """Seed survey rounds with responses for the benchmark (refused in production)."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("benchmark data is refused in production")
    state = bench_state()
    same = (state["survey_rounds"], state["survey_invitations"]) == (rounds, rounds * invitees)
    if check:
        click.echo(json.dumps(state, ensure_ascii=False))
        raise SystemExit(0 if same else 3)
    if same:
        click.echo(f"already seeded with {rounds} survey rounds; nothing to do")
    elif state["survey_rounds"]:
        raise click.ClickException("this database already holds survey bench rounds of another "
                                   "size; seed a fresh database")
    else:
        state = seed(rounds, invitees)
    click.echo(json.dumps(state, ensure_ascii=False))
