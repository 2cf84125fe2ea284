"""The demo data gives a work report: a draft of this half-year with the seed's narrative,
whose generated Chinese sentences carry the figures."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.extensions import db
from portal.workreport.models import WorkReport


def test_demo_gives_a_report(app, login_as):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        report = db.session.scalar(sa.select(WorkReport))
        assert report.status == "draft" and "人代会" in report.narratives["venues"]
        report_id = report.id
    page = login_as("staff").get(f"/work-report/{report_id}")
    assert page.status_code == 200
    text = page.text
    assert re.search(r"下半年共完成各类会议服务\d+批", text) or \
        re.search(r"上半年共完成各类会议服务\d+批", text), text[:3000]
    assert not re.search(r"重要会议0批", text)  # the demo's 人代会 and 政协会 sessions
    assert "服务质量联席会议" in text and "共实现创收" in text
    assert 'id="no-data"' not in text
    # charts as the dashboards draw them (portal/charts.py), each with its table
    assert 'id="chart-satisfaction-title"' in text and 'id="chart-feedback-title"' in text
    assert 'id="chart-income-title"' in text
