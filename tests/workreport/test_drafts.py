"""Drafts, narratives with revisions, issuing (admins only) that freezes the figures and the
text, new versions, 409 on an issued report, and two admins issuing at once."""

from __future__ import annotations

import re
from datetime import datetime, time

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.i18n import local_zone
from portal.workreport.models import WorkReport, WorkReportRevision
from tests.conftest import csrf_token, make_user
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.helpers import bureau_today
from tests.races import Attempt, assert_one_step, race, signed_in

PERIOD = "2026-H1"


def _draft(client) -> int:
    token = csrf_token(client, "/work-report/?period=" + PERIOD)
    response = client.post("/work-report/drafts", data={"csrf_token": token, "period": PERIOD})
    assert response.status_code == 302, response.text[:2000]
    return int(re.search(r"/work-report/(\d+)", response.headers["Location"])[1])


def _post(client, path, **fields):
    token = csrf_token(client, "/work-report/?period=" + PERIOD)
    return client.post(path, data={"csrf_token": token, **fields})


def _feedback_in_h1(app):
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    with app.app_context():
        moment = datetime.combine(bureau_today(app).replace(month=3, day=2), time(10),
                                  tzinfo=local_zone())
    make_feedback(app, supervisor.id, make_category(app), submitted_on=moment.date(),
                  submitted_at=moment)


def test_draft_edit_issue_freeze_and_new_version(app, login_as):
    staff = login_as("staff")
    report_id = _draft(staff)
    assert _draft(staff) == report_id  # the same draft is continued
    saved = _post(staff, f"/work-report/{report_id}/sections/venues",
                  text="圆满完成区人代会、区政协会议服务保障工作。")
    assert saved.status_code == 302
    page = staff.get(f"/work-report/{report_id}")
    assert "圆满完成区人代会" in page.text and 'id="issue-form"' not in page.text
    # staff may not issue
    assert _post(staff, f"/work-report/{report_id}/issue", expected="draft").status_code == 403

    admin = login_as("admin")
    issued = _post(admin, f"/work-report/{report_id}/issue", expected="draft")
    assert issued.status_code == 302, issued.text[:2000]
    before = admin.get(f"/work-report/{report_id}").text
    feedback_row = re.search(r'id="figure-feedback">.*?<td class="num">([^<]*)</td>', before,
                             re.S)[1]

    _feedback_in_h1(app)  # the data changes after issue
    after = admin.get(f"/work-report/{report_id}").text
    assert re.search(r'id="figure-feedback">.*?<td class="num">([^<]*)</td>', after,
                     re.S)[1] == feedback_row
    assert "圆满完成区人代会" in after
    live = admin.get(f"/work-report/?period={PERIOD}").text
    assert re.search(r'id="figure-feedback">.*?<td class="num">([^<]*)</td>', live,
                     re.S)[1] != feedback_row

    # an issued report cannot be edited: 409 with a message, nothing saved
    refused = _post(staff, f"/work-report/{report_id}/sections/venues", text="改动")
    assert refused.status_code == 409
    assert 'id="report-error"' in refused.text
    with app.app_context():
        report = db.session.get(WorkReport, report_id)
        assert report.narratives["venues"].startswith("圆满完成")
        assert report.frozen["en"]["sections"][0]["title"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkReportRevision)
                                 ) == 1

    # re-issuing makes a new version: a new draft carrying the text
    second = _draft(staff)
    assert second != report_id
    with app.app_context():
        assert db.session.get(WorkReport, second).version == 2
        assert db.session.get(WorkReport, second).narratives["venues"].startswith("圆满完成")


def test_only_staff_read_drafts(app, login_as):
    report_id = _draft(login_as("staff"))
    for role in ("client", "supervisor"):
        assert login_as(role).get(f"/work-report/{report_id}").status_code in (403, 404)


@pytest.mark.live
def test_two_admins_issuing_at_once_issue_once(live_server):
    app = live_server.app
    staff = make_user(app, "staff", email="writer@example.com")
    with app.test_request_context():
        from portal.workreport import periods, services
        report_id = services.open_draft(periods.parse(PERIOD), staff).id
    page = f"/work-report/{report_id}"
    admins = [signed_in(live_server, make_user(app, "admin", email=f"boss{n}@example.com",
                                               name=f"主任{n}"), page) for n in range(3)]
    attempts = [Attempt(browser, f"{page}/issue", {"expected": "draft"}) for browser in admins]
    [(old, new)] = assert_one_step(race(attempts), app, "work_report", report_id)
    assert (old, new) == ("draft", "issued")
