"""The feedback benchmark dataset (``flask bench-seed-feedback``), at a small size."""

import json

import sqlalchemy as sa

from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackEvent, FeedbackStatus

SIZES = ["--items", "400", "--supervisors", "10"]


def test_seed_feedback_small(app, login_as):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["bench-seed-feedback", *SIZES, "--check"]).exit_code == 3
    result = runner.invoke(args=["bench-seed-feedback", *SIZES])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output.strip().splitlines()[-1])
    assert state["feedback"] == 400 and state["feedback_item_id"]
    assert runner.invoke(args=["bench-seed-feedback", *SIZES, "--check"]).exit_code == 0
    assert runner.invoke(args=["bench-seed-feedback", "--items", "401"]).exit_code != 0
    with app.app_context():
        statuses = set(db.session.scalars(sa.select(Feedback.status)))
        assert statuses == set(FeedbackStatus.ALL)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent)) > 400
    staff = login_as("staff")
    for url in ("/feedback/?status=all", f"/feedback/{state['feedback_item_id']}",
                "/feedback/dashboard?period=2026-H2"):
        assert staff.get(url).status_code == 200, url
