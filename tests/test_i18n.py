"""Every UI string has a translation in both languages; formatting follows the locale."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tools.msgid_collisions import extract, keywords

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "portal" / "translations"


@pytest.fixture(scope="module")
def extracted():
    """The messages in the source right now (not the committed .pot, which may be stale),
    extracted with the Makefile's keywords; each is identified by its context and msgid."""
    return [(message.context, message.id) for message in extract()]


def test_extraction_follows_the_makefile_and_sees_contexts(extracted):
    assert "lazy_pgettext:1c,2" in keywords()
    assert ("feedback status", "Closed") in extracted  # lazy_pgettext in a model
    assert ("appointment", "Term") in extracted  # pgettext in a template


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_every_ui_string_is_translated(extracted, locale):
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    missing = []
    for context, msgid in extracted:
        message = catalog.get(msgid, context=context)
        if message is None or not message.string or message.fuzzy:
            missing.append((context, msgid))
    assert missing == [], f"{len(missing)} lack a {locale} translation: make extract-messages"
    assert len(extracted) > 150


def test_chinese_catalog_is_really_chinese():
    with (CATALOGS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and m.string == m.id and any(
        c.isalpha() for c in m.id)]
    assert untranslated == []


def test_money_and_dates_follow_the_locale(app):
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from portal.i18n import money

    with app.test_request_context():
        template = app.jinja_env.from_string("{{ when|datetime('short') }}")
        medium = app.jinja_env.from_string("{{ when|datetime('medium') }}")
        when = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 00:30 next day in Shanghai
        with force_locale("zh_Hans_CN"):
            assert money(123450) == "¥1,234.50"
            assert template.render(when=when) == "2026-11-24 00:30"
            assert medium.render(when=when) == "2026年11月24日 00:30"
        with force_locale("en"):
            assert money(123450) == "CN¥1,234.50"
            assert template.render(when=when) == "2026-11-24 00:30"
            assert medium.render(when=when) == "Nov 24, 2026 00:30"
        assert money(None) == ""


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_one_24_hour_clock_in_every_language(app, locale):
    """Afternoon times read 14:00 in both languages, never "2:00 PM"; a range that ends on the
    same day gives the end's time only, one that ends on another day its date too."""
    from datetime import UTC, datetime, time

    from flask_babel import force_locale

    start = datetime(2026, 12, 10, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    end = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
    overnight = datetime(2026, 12, 10, 16, 30, tzinfo=UTC)  # 00:30 on the 11th
    render = app.jinja_env.from_string(
        "{{ start|datetime('short') }}|{{ start|time }}|{{ moment|time }}|"
        "{{ start|time_range(end) }}|{{ start|time_range(overnight) }}|{{ none|time }}").render
    with app.test_request_context(), force_locale(locale):
        assert render(start=start, end=end, overnight=overnight, moment=time(14, 5),
                      none=None).split("|") == [
            "2026-12-10 14:00", "14:00", "14:05", "2026-12-10 14:00–16:00",
            "2026-12-10 14:00 – 2026-12-11 00:30", ""]
