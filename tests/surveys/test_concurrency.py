"""Two submissions of the same one-time link at once keep exactly one response (real HTTP,
real commits, on SQLite and PostgreSQL)."""

import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.surveys.models import SurveyInvitation, SurveyResponse
from tests.helpers import all_at_once
from tests.surveys.factories import invite, make_round, questions_of
from tests.test_concurrency import Browserless

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.mark.live
@pytest.mark.parametrize("anonymous", [True, False])
def test_two_submissions_of_one_link_at_once_keep_one_response(live_server, anonymous):
    app = live_server.app
    round_id = make_round(app, anonymous=anonymous)
    token, = invite(app, round_id, "twice@example.com")
    fields = {f"q{qid}": "4" if kind == "scale" else "同时提交" for qid, kind, _c in
              questions_of(app, round_id)}
    path = f"/surveys/r/{token}"
    clients = [Browserless(live_server.url) for _ in range(2)]
    tokens = [_TOKEN.search(c.get(path)).group(1) for c in clients]

    results = all_at_once(2, lambda n: clients[n].post(path, {"csrf_token": tokens[n],
                                                              **fields}))
    statuses = sorted(status for status, _body in results)
    assert statuses == [200, 409], results
    refused = next(body for status, body in results if status == 409)
    assert "只保留一份答卷" in refused
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyInvitation)
                                 .where(SurveyInvitation.responded)) == 1
        db.session.remove()


@pytest.mark.live
def test_storage_does_not_pair_an_invitation_with_its_response(live_server):
    """Each engine's own leak is closed. PostgreSQL stamps rows with the writing
    transaction's id (xmin): after several anonymous answers every answered invitation
    carries the same stamp. SQLite numbers rows in insertion order (rowid): responses are
    kept in a table without rowid, keyed by a random id."""
    app = live_server.app
    from tests.surveys.factories import answer

    round_id = make_round(app)
    for token in invite(app, round_id, "a@example.com", "b@example.com", "c@example.com"):
        answer(app, round_id, token)
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            stamps = set(db.session.execute(sa.text(
                "SELECT xmin::text FROM survey_invitation WHERE responded")).scalars())
            responses = list(db.session.execute(sa.text(
                "SELECT xmin::text FROM survey_response")).scalars())
            db.session.remove()
            assert len(stamps) == 1 and len(responses) == 3
            assert sum(stamp in stamps for stamp in responses) == 1  # only the last answer's
        else:
            with pytest.raises(sa.exc.OperationalError, match="rowid"):
                db.session.execute(sa.text("SELECT rowid FROM survey_response")).all()
            db.session.remove()


# --- the round lifecycle: conflicting steps on one round at once -------------------------------


def _staff_sessions(live_server, page: str, n: int):
    from tests.conftest import make_user
    from tests.races import signed_in

    return [signed_in(live_server, make_user(live_server.app, "staff", name=f"调查员{k}"), page)
            for k in range(n)]


def _all_mail(app) -> int:
    from portal.outbox.models import OutboxMessage

    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        db.session.remove()
        return count


@pytest.mark.live
def test_two_staff_publishing_one_round_at_once_publish_it_once(live_server):
    from portal.surveys.models import RoundCategory, RoundStatus, SurveyRound
    from tests.feedback.factories import make_category
    from tests.races import Attempt, assert_one_step, race
    from tests.surveys.factories import make_questionnaire

    app = live_server.app
    categories = [make_category(app), make_category(app, name="绿化", name_en="Greening")]
    round_id = make_round(app, make_questionnaire(app, categories), publish=False)
    page = f"/surveys/rounds/{round_id}"
    mails = _all_mail(app)
    results = race([Attempt(browser, f"{page}/publish", {"expected_status": "draft"})
                    for browser in _staff_sessions(live_server, page, 3)])
    [(old, new)] = assert_one_step(results, app, "survey_round", round_id)
    assert (old, new) == (RoundStatus.DRAFT, RoundStatus.OPEN)
    with app.app_context():
        survey = db.session.get(SurveyRound, round_id)
        assert survey.status == RoundStatus.OPEN and survey.version.frozen
        snapshot = db.session.scalar(sa.select(sa.func.count()).select_from(RoundCategory)
                                     .where(RoundCategory.round_id == round_id))
        db.session.remove()
    assert snapshot == len(categories)  # the suppliers snapshot taken once
    assert _all_mail(app) == mails  # publishing writes to nobody; the invitations come next


@pytest.mark.live
def test_two_staff_inviting_the_roster_at_once_invite_each_supervisor_once(live_server):
    from tests.conftest import make_user
    from tests.feedback.factories import make_appointment
    from tests.races import Attempt, outbox_count, race

    app = live_server.app
    supervisors = [make_user(app, "supervisor", email=f"jd{n}@example.com") for n in range(3)]
    for supervisor in supervisors:
        make_appointment(app, supervisor.id)
    round_id = make_round(app)
    page = f"/surveys/rounds/{round_id}/invitations"
    results = race([Attempt(browser, f"{page}/roster", {})
                    for browser in _staff_sessions(live_server, page, 2)])
    statuses = [status for status, _body in results]
    assert 500 not in statuses and 200 in statuses, statuses
    with app.app_context():
        invited = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyInvitation)
                                    .where(SurveyInvitation.round_id == round_id))
        db.session.remove()
    assert invited == len(supervisors)
    assert [outbox_count(app, s.email) for s in supervisors] == [1, 1, 1]  # one mail each


@pytest.mark.live
def test_closing_one_round_twice_at_once_closes_it_once(live_server):
    from portal.surveys.models import RoundStatus, SurveyRound
    from tests.races import Attempt, assert_one_step, race

    app = live_server.app
    round_id = make_round(app)  # published: one status change already
    page = f"/surveys/rounds/{round_id}"
    results = race([Attempt(browser, f"{page}/close", {"expected_status": "open"})
                    for browser in _staff_sessions(live_server, page, 2)])
    [(old, new)] = assert_one_step(results, app, "survey_round", round_id, before_changes=1)
    assert (old, new) == (RoundStatus.OPEN, RoundStatus.CLOSED)
    with app.app_context():
        assert db.session.get(SurveyRound, round_id).closed_on is not None
        db.session.remove()
