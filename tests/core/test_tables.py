"""Every table of every page has a caption (visually hidden is fine) and sits in a labelled,
focusable scroll region, so a wide table scrolls on a phone instead of widening the page and
keyboard users can scroll it.  PDF templates (printed, not browsed) are left out.

A hand-written table must carry that markup itself; a list's table is drawn by the
`results_table` macro of _macros.html, whose own markup is checked like a hand-written one
(it is a template here too), and whose call must give a translated label (its first
argument, used for the region and the caption)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PRINTED = {"bookings/confirmation_pdf.html", "documents/official.html"}
TABLE = re.compile(r"<table\b[^>]*>")
MACRO_TABLE = re.compile(r"\{% call(?:\(\w+\))? results_table\((?P<label>"
                         r"(?:_|pgettext)\('[^']+'(?:, '[^']+')?\)|[^,]*)")
LABEL = re.compile(r"^(?:_|pgettext)\('[^']+'(?:, '[^']+')?\)$")
REGION = re.compile(r'<div class="table-wrap(?: [\w-]+)*" role="region" '
                    r'aria-label="\{\{ [^"]+ \}\}" tabindex="0">\s*$')


def _page_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name.startswith("emails/") or name in PRINTED:
            continue
        yield name, path.read_text(encoding="utf-8")


def test_every_table_has_a_caption_and_a_labelled_scroll_region():
    missing = []
    tables = 0
    for name, text in _page_templates():
        for match in TABLE.finditer(text):
            tables += 1
            if not text[match.end():].lstrip().startswith("<caption"):
                missing.append(f"{name}: {match.group(0)} has no caption")
            if not REGION.search(text[:match.start()]):
                missing.append(f"{name}: {match.group(0)} is not in a labelled region")
        for match in MACRO_TABLE.finditer("" if name == "_macros.html" else text):
            tables += 1
            if not LABEL.match(match.group("label").strip()):
                missing.append(f"{name}: results_table({match.group('label')}…) has no "
                               f"translated label")
    assert missing == []
    assert tables > 30


def test_captions_render(app, login_as):
    with app.test_request_context():
        from flask_babel import gettext

        label = gettext("Tenants")
    assert label != "Tenants"  # the Chinese page
    html = login_as("staff").get("/rentals/tenants").get_data(as_text=True)
    assert re.search(rf'<div class="table-wrap" role="region" aria-label="{label}" '
                     rf'tabindex="0">\s*<table><caption class="visually-hidden">{label}</caption>',
                     html)
