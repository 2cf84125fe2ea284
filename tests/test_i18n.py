"""Every UI string has a translation in both languages; formatting follows the locale."""

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "portal" / "translations"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages in the source right now (not the committed .pot, which may be stale)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
        "-o", str(pot), str(ROOT),
    ])
    with pot.open("rb") as handle:
        return [message.id for message in read_po(handle) if message.id]


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_every_ui_string_is_translated(extracted, locale):
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    missing = []
    for msgid in extracted:
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(msgid)
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
        when = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 00:30 next day in Shanghai
        with force_locale("zh_Hans_CN"):
            assert money(123450) == "¥1,234.50"
            assert template.render(when=when) == "2026/11/24 00:30"
        with force_locale("en"):
            assert money(123450) == "CN¥1,234.50"
            assert template.render(when=when).startswith("11/24/26")
        assert money(None) == ""
