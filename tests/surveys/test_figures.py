"""Stored figures of closed rounds (issue 17, item 2): stored when a round closes, by the tick
and the command for rounds past their date; every report reads the same as a live recount."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.catalogue.models import ServiceCategory
from portal.database import write_transaction
from portal.extensions import db
from portal.surveys import figures, reports, services
from portal.surveys.models import (
    RoundFigure,
    RoundStatus,
    SurveyAnswer,
    SurveyResponse,
    SurveyRound,
)
from tests.feedback.factories import make_category, make_contract, make_supplier
from tests.surveys.factories import (
    STAFF,
    answer,
    invite,
    make_questionnaire,
    make_round,
    today,
)


def _rounds(app):
    """Three rounds over two categories (one outsourced), with every point and "cannot judge"."""
    cleaning = make_category(app, name="物业保洁")
    canteen = make_category(app, name="食堂餐饮")
    supplier = make_supplier(app, name="金山物业有限公司", category_ids=(cleaning,))
    contract = make_contract(app, supplier, cleaning)
    with app.test_request_context(), write_transaction():
        db.session.get(ServiceCategory, cleaning).contract_id = contract
    questionnaire = make_questionnaire(app, [cleaning, canteen])
    rounds = []
    for n in range(3):
        round_id = make_round(app, questionnaire, closes_on=today(app) + timedelta(days=5 + n),
                              title=f"第{n + 1}轮", satisfied=(4, 3) if n == 1 else (4, 3, 2))
        tokens = invite(app, round_id, *(f"p{n}-{k}@example.com" for k in range(6)))
        for k, token in enumerate(tokens[:5]):
            values = {cleaning: (4, 3, 2, 1, None)[(k + n) % 5], canteen: (k % 4) + 1}
            answer(app, round_id, token, values=values)
        rounds.append(round_id)
    return rounds, supplier


def _everything(app, rounds, supplier):
    """Every figure the reports give about the rounds, comparable."""
    def figure(f):
        return None if f is None else (f.label, f.key, sorted(f.counts.items(), key=str),
                                       f.valid, f.satisfied, f.rate)

    with app.test_request_context():
        trend = reports.rounds_trend()
        result = [[(p.round_id, figure(p.figure), p.responses, p.invitations) for p in trend]]
        for kind in ("category", "supplier"):
            result.append([(row.label, [figure(f) for f in row.figures])
                           for row in reports.trend_by(kind, trend)])
        for round_id in rounds:
            one = reports.round_figures(round_id)
            result.append([figure(one.overall), [figure(f) for f in one.by_category],
                           [figure(f) for f in one.by_supplier]])
        result.append(reports.supplier_satisfaction([supplier], rounds=8))
    return result


def _stored(app, round_id):
    with app.test_request_context():
        return sorted(tuple(row) for row in db.session.execute(
            sa.select(RoundFigure.question_id, RoundFigure.point, RoundFigure.answers)
            .where(RoundFigure.round_id == round_id)))


def _live(app, round_id):
    with app.test_request_context():
        return sorted(figures.live_counts(round_id))


def _close(app, round_id):
    with app.test_request_context():
        services.close_round(db.session.get(SurveyRound, round_id), STAFF)


def test_closing_stores_the_figures_and_the_reports_read_the_same(app, count_queries):
    rounds, supplier = _rounds(app)
    live = _everything(app, rounds, supplier)
    with count_queries() as before:
        _everything(app, rounds, supplier)
    for round_id in rounds[:2]:  # the third stays open: counted live beside the stored ones
        _close(app, round_id)
    for round_id in rounds[:2]:
        assert _stored(app, round_id) == _live(app, round_id)
        assert len(_stored(app, round_id)) > 4  # every point and "cannot judge" kept
    with app.test_request_context():
        stored_at = {r.id: r.figures_stored_at for r in db.session.scalars(
            sa.select(SurveyRound).where(SurveyRound.id.in_(rounds)))}
    assert stored_at[rounds[0]] and stored_at[rounds[1]] and stored_at[rounds[2]] is None
    with count_queries() as after:
        assert _everything(app, rounds, supplier) == live
    assert len(after) == len(before)


def test_a_stored_round_is_read_from_its_figures_and_recounted_on_demand(app):
    rounds, supplier = _rounds(app)
    _close(app, rounds[0])
    stored = _everything(app, rounds, supplier)
    # Answers removed behind the portal's back: the stored figures still answer ...
    with app.test_request_context(), write_transaction():
        responses = sa.select(SurveyResponse.id).where(SurveyResponse.round_id == rounds[0])
        db.session.execute(sa.delete(SurveyAnswer).where(SurveyAnswer.response_id.in_(
            responses.scalar_subquery())))
    assert _everything(app, rounds, supplier) == stored
    # ... until the command recounts them: then they equal a live recount again.
    result = app.test_cli_runner().invoke(args=["store-survey-figures", "--all"])
    assert result.exit_code == 0, result.output
    assert "survey rounds stored: 1" in result.output
    assert _stored(app, rounds[0]) == _live(app, rounds[0]) == []
    with app.test_request_context():
        assert reports.round_figures(rounds[0]).overall.counts == {}


def test_rounds_past_their_date_are_stored_by_the_tick_and_forgotten_when_reopened(app):
    rounds, supplier = _rounds(app)
    with app.test_request_context(), write_transaction():  # its closing date passed
        db.session.get(SurveyRound, rounds[1]).closes_on = today(app) - timedelta(days=1)
    live = _everything(app, rounds, supplier)
    result = app.test_cli_runner().invoke(args=["store-survey-figures"])
    assert "survey rounds stored: 1" in result.output, result.output
    with app.test_request_context():
        assert figures.store_finished() == 0  # the tick's run: nothing left to store
        survey = db.session.get(SurveyRound, rounds[1])
        assert survey.status == RoundStatus.OPEN and survey.figures_stored_at is not None
    assert _stored(app, rounds[1]) == _live(app, rounds[1])
    assert _everything(app, rounds, supplier) == live
    # A later closing date: it takes answers again, so its figures are counted live.
    with app.test_request_context():
        survey = db.session.get(SurveyRound, rounds[1])
        services.save_round(survey, services.RoundInput(
            title=survey.title, questionnaire_id=survey.questionnaire_id,
            closes_on=today(app) + timedelta(days=3), anonymous=survey.anonymous,
            satisfied_points=survey.satisfied_points, target_rate=survey.target_rate,
            reminder_days=survey.reminder_days))
    assert _stored(app, rounds[1]) == []
    with app.test_request_context():
        assert db.session.get(SurveyRound, rounds[1]).figures_stored_at is None
    token, = invite(app, rounds[1], "late@example.com")
    answer(app, rounds[1], token, value=1)
    with app.test_request_context():
        overall = reports.round_figures(rounds[1]).overall
    assert overall.counts == dict(_count_points(_live(app, rounds[1])))


def _count_points(rows):
    counts = {}
    for _question, point, n in rows:
        key = point or None
        counts[key] = counts.get(key, 0) + n
    return counts.items()
