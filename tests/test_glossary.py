"""The domain glossary (portal/translations/glossary.csv) holds: the catalogs translate its
terms its way, every workflow's status labels carry their own message context, a word with two
meanings is never used without saying which, and pages show each module's own word."""

from __future__ import annotations

import csv
import importlib
import inspect
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel.speaklater import LazyString

import portal
from tools.msgid_collisions import extract

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "portal" / "translations"


def _glossary() -> list[dict]:
    with (CATALOGS / "glossary.csv").open(encoding="utf-8", newline="") as handle:
        return [{**row, "context": row["context"] or None} for row in csv.DictReader(handle)]


GLOSSARY = _glossary()


def _status_labels() -> dict[str, dict]:
    """Every workflow's status labels: the LABELS of each class named ...Status or ...State in
    portal/*/models.py, plus the outbox's and the feedback timeline's."""
    from portal.feedback.services import EVENT_LABELS
    from portal.outbox.models import OutboxStatus, status_label

    found = {}
    for module_info in pkgutil.iter_modules(portal.__path__):
        try:
            module = importlib.import_module(f"portal.{module_info.name}.models")
        except ModuleNotFoundError:
            continue
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and name.endswith(("Status", "State"))
                    and isinstance(getattr(cls, "LABELS", None), dict)):
                found[f"{module_info.name}.{name}"] = cls.LABELS
    found["outbox.OutboxStatus"] = {s: status_label(s) for s in OutboxStatus.ALL}
    found["feedback.EVENT_LABELS"] = EVENT_LABELS
    return found


def _context_and_msgid(label) -> tuple[str | None, str]:
    """The (context, msgid) a lazy label was made from; context None for a plain gettext."""
    assert isinstance(label, LazyString), f"{label!r} is not a lazy translation"
    if label._func.__name__ == "pgettext":
        return label._args[0], label._args[1]
    return None, label._args[0]


@pytest.fixture(scope="module")
def catalogs():
    loaded = {}
    for locale in ("zh_Hans_CN", "en"):
        with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            loaded[locale] = read_po(handle, locale=locale)
    return loaded


@pytest.fixture(scope="module")
def messages():
    return extract()


def test_the_glossary_is_well_formed():
    keys = [(row["context"], row["english"]) for row in GLOSSARY]
    assert len(keys) == len(set(keys)), "an entry is listed twice"
    assert all(row["english"] and row["chinese"] for row in GLOSSARY)
    assert {"feedback status", "booking status", "lease status", "contract status",
            "survey status", "meeting status", "action item status"} <= {c for c, _ in keys}


def test_the_catalogs_translate_the_glossary_its_way(catalogs, messages):
    """(a) The Chinese catalog says what the glossary says, for a term in use; the English
    catalog has the entry too."""
    in_use = {(message.context, message.id) for message in messages}
    wrong = []
    for row in GLOSSARY:
        key = (row["context"], row["english"])
        entry = catalogs["zh_Hans_CN"].get(row["english"], context=row["context"])
        if key not in in_use or entry is None:
            wrong.append((*key, "not used in the source"))
        elif entry.string != row["chinese"]:
            wrong.append((*key, f"{entry.string} instead of {row['chinese']}"))
        elif not catalogs["en"].get(row["english"], context=row["context"]).string:
            wrong.append((*key, "no English"))
    assert wrong == []


def test_each_workflow_labels_its_statuses_in_its_own_context():
    """(b) Each status label dict uses one context of its own, and the glossary lists every
    status label: the same English status word in two modules never shares an entry."""
    glossary = {(row["context"], row["english"]) for row in GLOSSARY}
    owner_of = {}
    for name, labels in _status_labels().items():
        contexts = {_context_and_msgid(label)[0] for label in labels.values()}
        assert len(contexts) == 1 and None not in contexts, f"{name}: {contexts}"
        context = contexts.pop()
        assert owner_of.setdefault(context, name) == name, (
            f"{name} shares the context {context!r} with {owner_of[context]}")
        missing = {_context_and_msgid(label) for label in labels.values()} - glossary
        assert missing == set(), f"{name}: not in the glossary"
    assert len(owner_of) >= 10


def test_no_word_with_two_meanings_is_used_without_its_context(messages):
    """(b) A word the glossary translates differently in different contexts (Closed, Open,
    Term, Renew, Name, Deposit, From, To, Rooms, Active, ...) always says which it means."""
    meanings = defaultdict(set)
    for row in GLOSSARY:
        meanings[row["english"]].add(row["chinese"])
    ambiguous = {english for english, chinese in meanings.items() if len(chinese) > 1}
    assert {"Closed", "Open", "Term", "Renew", "Name", "Deposit", "From", "Rooms"} <= ambiguous
    bare = sorted({message.id for message in messages
                   if message.context is None and message.id in ambiguous})
    assert bare == []


def test_a_closed_feedback_reads_closed_not_disabled(app, login_as):
    """(c) The supervisor's closed feedback, on its page and in the list, in Chinese."""
    from portal.feedback.models import FeedbackStatus
    from tests.feedback.factories import make_appointment, make_category, make_feedback

    supervisor = login_as("supervisor")
    make_appointment(app, supervisor.account.id)
    item = make_feedback(app, supervisor.account.id, make_category(app),
                         status=FeedbackStatus.CLOSED)
    resolved = make_feedback(app, supervisor.account.id, make_category(app),
                             status=FeedbackStatus.RESOLVED)
    for url in (f"/feedback/{item}?lang=zh", "/feedback/mine?lang=zh"):
        html = supervisor.get(url).get_data(as_text=True)
        assert "已关闭" in html, url
        assert "停用" not in html, url
    html = supervisor.get(f"/feedback/{resolved}?lang=zh").get_data(as_text=True)
    assert "已处理待确认" in html and "已办结" not in html


def test_the_roster_the_lease_and_the_contract_use_their_own_words(app, login_as):
    """(c) 聘期 on the roster (not 租期), 押金 and 未付金额 on a lease (not 定金 and 开放时间),
    协议期限 and 续签 on a service contract (not 租期区间 and 续租)."""
    from tests.feedback.factories import (
        make_appointment,
        make_category,
        make_contract,
        make_supplier,
    )
    from tests.rentals.factories import make_lease, make_room, make_tenant

    staff = login_as("staff")
    supervisor = login_as("supervisor")
    make_appointment(app, supervisor.account.id)
    roster = staff.get("/feedback/roster?lang=zh").get_data(as_text=True)
    assert "聘期" in roster and "租期" not in roster

    lease_id = make_lease(app, make_tenant(app), [make_room(app)])
    lease = staff.get(f"/rentals/leases/{lease_id}?lang=zh").get_data(as_text=True)
    assert "押金" in lease and "未付金额" in lease and "租期" in lease
    assert "定金" not in lease and "开放时间" not in lease

    category = make_category(app)
    contract_id = make_contract(app, make_supplier(app, category_ids=(category,)), category)
    contract = staff.get(f"/suppliers/contracts/{contract_id}?lang=zh").get_data(as_text=True)
    assert "协议期限" in contract and "续签" in contract
    assert "租期" not in contract and "续租" not in contract


def test_status_labels_render_per_module_in_both_languages(app):
    """The same English word reads differently per module in Chinese, the same in English."""
    from portal.bookings.models import BookingStatus
    from portal.feedback.models import FeedbackStatus
    from portal.meetings.models import MeetingStatus
    from portal.rentals.models import LeaseStatus
    from portal.suppliers.models import ContractState

    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert str(LeaseStatus.LABELS["active"]) == "履行中"
            assert str(BookingStatus.LABELS["rejected"]) == "已驳回"
            assert str(FeedbackStatus.LABELS["rejected"]) == "不予受理"
            assert str(MeetingStatus.LABELS["planned"]) == "待召开"
            assert str(ContractState.LABELS["upcoming"]) == "未生效"
        with force_locale("en"):
            assert str(FeedbackStatus.LABELS["closed"]) == "Closed"
            assert str(ContractState.LABELS["active"]) == str(LeaseStatus.LABELS["active"])


def test_timeline_words_fit_the_sentences_they_are_put_in(app):
    """The feedback timeline's words also fill the supervisor-step mail's subject."""
    from flask_babel import gettext

    from portal.feedback.services import EVENT_LABELS

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        subjects = [gettext("Feedback No. %(id)d: %(action)s by the supervisor", id=7,
                            action=str(EVENT_LABELS[step])) for step in ("close", "reopen")]
    assert subjects == ["第 7 号反馈：监督员已确认并关闭", "第 7 号反馈：监督员已重新打开"]
