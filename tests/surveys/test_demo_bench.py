"""The demo's two closed rounds (rate rising) and the bench seeding command at small scale."""

import json

import sqlalchemy as sa

from portal.extensions import db
from portal.surveys import figures, reports
from portal.surveys.models import RoundFigure, SurveyInvitation, SurveyResponse, SurveyRound


def _stored_as_live(round_ids) -> None:
    """Every round's figures are stored, and equal a live recount."""
    for round_id in round_ids:
        assert db.session.get(SurveyRound, round_id).figures_stored_at is not None
        stored = sorted(tuple(row) for row in db.session.execute(
            sa.select(RoundFigure.question_id, RoundFigure.point, RoundFigure.answers)
            .where(RoundFigure.round_id == round_id)))
        assert stored and stored == sorted(figures.live_counts(round_id))


def test_demo_adds_two_closed_rounds_with_a_rising_rate(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        demo = [point for point in reports.rounds_trend()
                if "机关后勤服务满意度调查" in point.title]
        assert [point.state for point in demo] == ["closed", "closed"]
        earlier, later = demo
        assert earlier.rate < later.rate
        assert earlier.figure.valid > 0 and later.responses > 0
        assert later.responses <= later.invitations
        # Anonymous: no response names an invitation.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)
                                 .where(SurveyResponse.invitation_id.is_not(None))) == 0
        responded = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyInvitation)
                                      .where(SurveyInvitation.responded))
        assert responded == db.session.scalar(sa.select(sa.func.count())
                                              .select_from(SurveyResponse))
        section = reports.satisfaction_section_context()
        assert section["survey_latest"].by_category
        _stored_as_live(point.round_id for point in demo)


def test_bench_seed_surveys_at_small_scale(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bench-seed-surveys", "--rounds", "3", "--invitees", "20"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output.strip().splitlines()[-1])
    assert state["survey_rounds"] == 3 and state["survey_invitations"] == 60
    assert 0 < state["survey_responses"] <= 60
    check = runner.invoke(args=["bench-seed-surveys", "--rounds", "3", "--invitees", "20",
                                "--check"])
    assert check.exit_code == 0
    assert runner.invoke(args=["bench-seed-surveys", "--check"]).exit_code == 3
    with app.test_request_context():
        trend = [p for p in reports.rounds_trend() if p.title.startswith("BENCH-S")]
        assert len(trend) == 3 and trend[0].rate < trend[-1].rate
        _stored_as_live(point.round_id for point in trend)
