"""The meetings benchmark dataset (``flask bench-seed-meetings``), at a small size."""

from __future__ import annotations

import json

import sqlalchemy as sa

from portal.extensions import db
from portal.meetings.models import ActionItem
from portal.suppliers.models import ServiceContract, Supplier
from portal.validators import is_valid_uscc

SIZES = ["--suppliers", "12", "--contracts", "40", "--meetings", "15", "--actions", "150"]


def test_seed_meetings_small_and_its_pages_answer(app, login_as):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["bench-seed-meetings", *SIZES, "--check"]).exit_code == 3
    result = runner.invoke(args=["bench-seed-meetings", *SIZES])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output.strip().splitlines()[-1])
    assert (state["suppliers"], state["contracts"], state["meetings"],
            state["actions"]) == (12, 40, 15, 150)
    assert runner.invoke(args=["bench-seed-meetings", *SIZES, "--check"]).exit_code == 0
    with app.app_context():
        assert all(is_valid_uscc(code) for code in db.session.scalars(sa.select(Supplier.uscc)))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceContract).where(
            ServiceContract.successor_id.is_not(None))) > 0
        statuses = set(db.session.scalars(sa.select(ActionItem.status)))
        assert statuses == {"open", "done", "verified"}
    staff = login_as("staff")
    for path in (f"/meetings/{state['meeting_id']}",
                 f"/meetings/prefill?supplier_ids={state['supplier_id']}",
                 f"/suppliers/{state['supplier_id']}/scorecard"):
        assert staff.get(path).status_code == 200, path
