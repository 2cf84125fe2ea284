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


def test_numbers_percents_and_money_read_as_babel_writes_them(app):
    """portal.i18n writes figures with Python's formatting where the locale's style is the
    plain one: the text must be Babel's, digit for digit, in both languages (ties rounded
    half to even, floats by their shortest text, negatives, zero, big numbers); another
    style (German: 1.234,5) is left to Babel."""
    import random
    from decimal import Decimal

    from flask_babel import force_locale, format_currency, format_decimal, format_percent

    from portal.i18n import money, number, percent

    generator = random.Random(20261207)
    values = [0, 1, -1, 999, 1000, -1000, 10**12, Decimal("2.25"), Decimal("2.35"), 2.25,
              0.1 + 0.2, Decimal("-0.04"), Decimal("0.005"), Decimal("0.4565"),
              Decimal("1234567.891")]
    for _ in range(2000):
        values += [generator.randint(-10**10, 10**10),
                   Decimal(generator.randint(-10**8, 10**8)) / 10 ** generator.randint(0, 6),
                   generator.uniform(-1e6, 1e6)]
    with app.test_request_context():
        for locale in ("zh_Hans_CN", "en"):
            with force_locale(locale):
                for value in values:
                    for places in (0, 1, 2):
                        pattern = "#,##0" + ("." + "0" * places if places else "")
                        assert number(value, places) == format_decimal(value, pattern), value
                        assert percent(value, places) == format_percent(value, pattern + "%")
                    if isinstance(value, int):
                        assert money(value) == format_currency(Decimal(value) / 100, "CNY")
        with force_locale("de"):
            assert number(Decimal("1234.5"), 1) == "1.234,5"
            assert money(123450) == format_currency(Decimal("1234.50"), "CNY")


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
