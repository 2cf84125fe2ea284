"""The work report page: sections, generated sentences, comparisons, bad periods."""

from __future__ import annotations


def test_demo_report_page_shows_every_section(app, login_as):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    client = login_as("staff")
    page = client.get("/work-report/?period=2026-H1")
    assert page.status_code == 200, page.text[:3000]
    text = page.text
    for key in ("venues", "rentals", "supervision", "suppliers", "income"):
        assert f'id="section-{key}"' in text
