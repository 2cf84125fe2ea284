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
