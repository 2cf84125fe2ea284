"""The list page (heading, filters, #results, table, pages) and the form card are written once,
in templates/_macros.html; every module calls the macros.  These tests fail when a template
hand-writes either skeleton again, so the copies do not come back."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MACROS = "_macros.html"

FORM_TAG = re.compile(r"<form\b[^>]*>", re.DOTALL)
HAND_FORM = re.compile(r"<form\b[^>]*>(?:(?!</form>).)*?\{\{ (\w+)\.csrf_token\b"
                       r"(?:(?!</form>).)*?form_errors\(\1\)", re.DOTALL)
RESULTS_BLOCK = re.compile(r"\{% block results %\}(.*?)\{% endblock %\}", re.DOTALL)


def _templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name.startswith("emails/") or name == MACROS:
            continue
        yield name, path.read_text(encoding="utf-8")


def test_the_list_skeleton_is_written_once():
    copies = []
    for name, text in _templates():
        if 'id="results"' in text:
            copies.append(f'{name}: a hand-written id="results" (use results())')
        for tag in FORM_TAG.findall(text):
            if 'class="filters"' in tag and ("hx-get" in tag or "#results" in tag
                                             or 'role="search"' in tag):
                copies.append(f"{name}: a hand-written filter form (use list_filters())")
        if "{% block results %}" in text and 'class="page-head"' in text:
            copies.append(f"{name}: a list page hand-writes its head (use page_head())")
    assert copies == []


def test_every_results_block_is_drawn_by_the_macros():
    pages = 0
    for name, text in _templates():
        for body in RESULTS_BLOCK.findall(text):
            pages += 1
            assert "{% call results(" in body, name
            assert "pagination(" not in body, f"{name}: results() draws the pages"
    assert pages >= 15


def test_the_form_card_is_written_once():
    copies = [f"{name}: a form hand-writes its CSRF token and errors (use form_card())"
              for name, text in _templates() if HAND_FORM.search(text)]
    assert copies == []
    users = sum(text.count("form_card(") for _name, text in _templates())
    assert users >= 35


def test_the_macros_draw_the_skeleton(app, login_as):
    client = login_as("staff")
    page = client.get("/rentals/tenants").get_data(as_text=True)
    assert re.search(r'<form class="filters" method="get" action="/rentals/tenants" '
                     r'role="search"\s+hx-get="/rentals/tenants" hx-target="#results" '
                     r'hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit">', page)
    assert '<div class="page-head">' in page and page.count('<div id="results">') == 1
    # htmx asks for the block only: the same markup, without the page around it.
    part = client.get("/rentals/tenants?q=zzz-nobody", headers={"HX-Request": "true"})
    html = part.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html
    assert '<td colspan="7" class="muted">' in html


def test_the_form_card_swaps_in_place_with_its_errors(app, login_as):
    from tests.conftest import csrf_token

    client = login_as("staff")
    page = client.get("/rentals/buildings/new").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/rentals/buildings/new" novalidate '
                     r'class="card narrow" hx-post="/rentals/buildings/new" hx-target="this" '
                     r'hx-swap="outerHTML">\s*<input id="csrf_token" name="csrf_token" '
                     r'type="hidden"', page)
    response = client.post("/rentals/buildings/new", headers={"HX-Request": "true"},
                           data={"csrf_token": csrf_token(client, "/rentals/buildings/new"),
                                 "name": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form ") and 'class="error"' in html
