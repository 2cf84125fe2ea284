"""How the audit trail reads: each audited model's name, its fields' labels and its values.

A module declares once per model, beside its forms (:func:`describe`), what its records are
called and which label each column has; labels come from the module's own form fields where
they exist, so the trail speaks like the page the change was made on.  :func:`describe_rows`
turns stored audit rows into what the history block and the admin page show: ``报价合计:
¥29,180.00``, status labels, local times, people's names instead of ``user_account #12``,
other records by their own label (a room's code, a category's name), 是/否 — in the reader's
language, looked up in one query per referenced model whatever the number of rows.

Login bookkeeping (``last_login_at``, ``session_epoch``, password hashes) is *routine*: rows
that change nothing else are hidden unless asked for (:func:`routine_condition`).
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cached_property

import sqlalchemy as sa
from flask_babel import format_decimal, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from wtforms.fields.core import UnboundField

from ..extensions import db
from ..i18n import format_datetime_local, format_time_24, local_date, money
from .models import AuditAction, AuditLog, action_label

USER_TABLE = "user_account"
REDACTED = "***"
TEXT_LIMIT = 200  # longer texts are shown shortened in the trail (the record keeps them whole)
_UNIT_SUFFIX = re.compile(r"\s*[（(](?:元|yuan|¥)[)）]\s*$")
_DEFAULT_DISPLAY = ("reference", "name", "title", "number", "code")
# The key, and the moment of creation (the entry's own time says it).
ALWAYS_HIDDEN = frozenset({"id", "created_at"})
# Columns many models share, labelled once (a model's own label or form field comes first).
COMMON_LABELS = {
    "created_by_id": _l("Created by"), "status": _l("Status"),
    "reason": _l("Reason"), "note": _l("Note"), "notes": _l("Notes"),
    "active": lazy_pgettext("column", "Active"),
    "file_name": _l("File"), "caption": _l("Caption"), "width": _l("Width (pixels)"),
    "height": _l("Height (pixels)"), "position": _l("Order in lists"),
}


@dataclass
class ModelVocabulary:
    """What the trail calls one audited model and how it reads its columns."""

    model: type
    noun: object
    forms_fields: dict[str, UnboundField] = field(default_factory=dict)
    given_labels: dict[str, object] = field(default_factory=dict)
    given_choices: dict[str, object] = field(default_factory=dict)
    display: Callable[[object], str] | None = None
    load: tuple = ()  # loader options for the batch query of display labels
    hidden: frozenset[str] = frozenset()  # never shown (file keys, idempotency keys, ids)
    routine: frozenset[str] = frozenset()  # login bookkeeping: hidden unless asked for

    @cached_property
    def _resolved(self) -> tuple[dict, dict]:
        """Labels and value labels per column, worked out once the mappers are configured."""
        labels, choices = {}, {}
        for attr in inspect(self.model).mapper.column_attrs:
            column = attr.key
            unbound = (self.forms_fields.get(column)
                       or self.forms_fields.get(column.removesuffix("_fen")))
            explicit = self.given_labels.get(column)
            if isinstance(explicit, UnboundField):
                unbound, explicit = explicit, None
            if explicit is not None:
                labels[column] = explicit
            elif unbound is not None and _form_label(unbound) is not None:
                labels[column] = _form_label(unbound)
            elif column in COMMON_LABELS:
                labels[column] = COMMON_LABELS[column]
            if unbound is not None and _form_choices(unbound) is not None:
                choices[column] = _form_choices(unbound)
        choices.update(self.given_choices)
        return labels, choices

    @property
    def labels(self) -> dict[str, object]:
        return self._resolved[0]

    @property
    def choices(self) -> dict[str, object]:
        return self._resolved[1]

    def label(self, column: str) -> str:
        return str(self.labels.get(column, column))

    def name_of(self, record) -> str:
        if self.display is not None:
            return str(self.display(record))
        for attribute in _DEFAULT_DISPLAY:
            value = getattr(record, attribute, None)
            if value:
                return str(value)
        return f"#{_identity(record)}"


_REGISTRY: dict[str, ModelVocabulary] = {}


def _identity(record) -> str:
    return ",".join(str(part) for part in inspect(record).mapper.primary_key_from_instance(record))


def _form_label(unbound: UnboundField):
    return unbound.args[0] if unbound.args else unbound.kwargs.get("label")


def _form_choices(unbound: UnboundField):
    return unbound.kwargs.get("choices")


def _form_fields(forms: Iterable[type]) -> dict[str, UnboundField]:
    found: dict[str, UnboundField] = {}
    for form in forms:
        for name in dir(form):
            value = getattr(form, name, None)
            if isinstance(value, UnboundField):
                found.setdefault(name, value)
    return found


def describe(model, noun, *forms, labels: Mapping | None = None, choices: Mapping | None = None,
             display: Callable | None = None, load: tuple = (), hidden: Iterable[str] = (),
             routine: Iterable[str] = ()) -> ModelVocabulary:
    """Declare how the audit trail reads ``model``.

    Each column's label is, in this order: ``labels[column]`` (a lazy string, or a form's
    field to borrow its label), then the field of the same name in one of ``forms``, then
    the field named like the column without its ``_fen`` suffix (``monthly_rent_fen`` →
    ``monthly_rent``).  Value labels come from ``choices[column]`` (a ``{value: label}``
    dict such as a status class's ``LABELS``) or from the form field's own choices.
    """
    vocabulary = ModelVocabulary(
        model=model, noun=noun, forms_fields=_form_fields(forms), given_labels=dict(labels or {}),
        given_choices=dict(choices or {}), display=display, load=tuple(load),
        hidden=frozenset(hidden) | ALWAYS_HIDDEN, routine=frozenset(routine))
    _REGISTRY[model.audit_type()] = vocabulary
    return vocabulary


def vocabulary_of(object_type: str) -> ModelVocabulary | None:
    return _REGISTRY.get(object_type)


def registered() -> dict[str, ModelVocabulary]:
    return dict(_REGISTRY)


def type_label(object_type: str) -> str:
    vocabulary = _REGISTRY.get(object_type)
    return str(vocabulary.noun) if vocabulary else object_type


# --- which rows are login bookkeeping ------------------------------------------------------------


def is_routine(row: AuditLog) -> bool:
    vocabulary = _REGISTRY.get(row.object_type)
    return bool(vocabulary and vocabulary.routine and row.action == AuditAction.UPDATE
                and row.changes and set(row.changes) <= vocabulary.routine)


def routine_condition():
    """SQL: the rows :func:`is_routine` says are bookkeeping (an update of a model's routine
    columns and of nothing else).  A changed column is a key of the JSON ``changes``; its
    value is always an [old, new] pair, so a missing key reads as NULL on both engines."""
    conditions = []
    for object_type, vocabulary in _REGISTRY.items():
        if not vocabulary.routine:
            continue
        others = [attr.key for attr in inspect(vocabulary.model).mapper.column_attrs
                  if attr.key not in vocabulary.routine]
        conditions.append(sa.and_(
            AuditLog.object_type == object_type, AuditLog.action == AuditAction.UPDATE,
            *[AuditLog.changes[key].as_string().is_(None) for key in others]))
    return sa.or_(*conditions) if conditions else sa.false()


# --- values as the pages show them ---------------------------------------------------------------


def _parse_datetime(value):
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse(cls, value):
    if isinstance(value, cls):
        return value
    try:
        return cls.fromisoformat(str(value))
    except ValueError:
        return None


def _choice_map(choices) -> dict[str, object]:
    if callable(choices):
        choices = choices()
    if isinstance(choices, Mapping):
        return {str(key): label for key, label in choices.items()}
    found = {}
    for choice in choices or ():
        if isinstance(choice, tuple | list):
            value, label = choice[0], choice[1]
        else:
            value, label = choice.value, choice.label
        found[str(value)] = label
    return found


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


@dataclass
class _Column:
    """One audited column: its label and how its stored values read."""

    key: str
    label: str
    kind: str  # money, choice, user, record, bool, datetime, date, time, decimal, text
    target: str | None = None  # the referenced table of a foreign key
    choices: dict | None = None


def _column(vocabulary: ModelVocabulary, key: str) -> _Column:
    label = vocabulary.label(key)
    column = inspect(vocabulary.model).mapper.columns.get(key)
    if key.endswith("_fen"):
        return _Column(key, _UNIT_SUFFIX.sub("", label), "money")
    if key in vocabulary.choices:
        return _Column(key, label, "choice", choices=_choice_map(vocabulary.choices[key]))
    if column is None:
        return _Column(key, label, "text")
    for foreign_key in column.foreign_keys:
        target = foreign_key.column.table.name
        return _Column(key, label, "user" if target == USER_TABLE else "record", target=target)
    python_type = None
    column_type = getattr(column.type, "impl_instance", column.type)  # a TypeDecorator's base
    with contextlib.suppress(NotImplementedError):
        python_type = column_type.python_type
    kinds = {bool: "bool", datetime: "datetime", date: "date", time: "time", Decimal: "decimal"}
    return _Column(key, label, kinds.get(python_type, "text"))


@dataclass
class Change:
    label: str
    old: str | None  # None: no earlier value (a created record)
    new: str


@dataclass
class Entry:
    """One audit row as people read it."""

    row: AuditLog
    actor: str
    actor_detail: str
    action: str
    action_label: str
    type_label: str
    record: str
    changes: list[Change]
    routine: bool

    @property
    def created_at(self):
        return self.row.created_at


class _References:
    """Display labels of the records rows point at, read in one query per model."""

    def __init__(self):
        self.wanted: dict[str, set] = defaultdict(set)
        self.found: dict[tuple[str, str], str] = {}

    def want(self, table: str, value) -> None:
        if value is not None and value != REDACTED:
            self.wanted[table].add(str(value))

    def load(self) -> None:
        from ..auth.models import User  # the accounts module is itself audited

        for table, keys in self.wanted.items():
            if table == USER_TABLE:
                ids = [int(key) for key in keys if key.isdigit()]
                for user_id, name in db.session.execute(
                        sa.select(User.id, User.name).where(User.id.in_(ids))):
                    self.found[(table, str(user_id))] = name
                continue
            vocabulary = _REGISTRY.get(table)
            if vocabulary is None:
                continue
            primary = inspect(vocabulary.model).mapper.primary_key
            if len(primary) != 1:
                continue
            try:
                ids = [primary[0].type.python_type(key) for key in keys]
            except (TypeError, ValueError, NotImplementedError):
                continue
            stmt = sa.select(vocabulary.model).where(primary[0].in_(ids))
            if vocabulary.load:
                stmt = stmt.options(*vocabulary.load)
            for record in db.session.scalars(stmt):
                self.found[(table, _identity(record))] = vocabulary.name_of(record)

    def name(self, table: str, value) -> str | None:
        return self.found.get((table, str(value)))


def _value(column: _Column, value, references: _References) -> str:
    from ..lists import join_names  # the list in the reader's language

    if value is None:
        return "—"
    if value == REDACTED:
        return _("(not shown)")
    if column.kind == "money":
        try:
            return money(int(value))
        except (TypeError, ValueError):
            return str(value)
    if column.kind == "choice":
        values = value if isinstance(value, list) else [value]
        return join_names(column.choices.get(str(item), item) for item in values) or "—"
    if column.kind in ("user", "record"):
        return references.name(column.target, value) or f"#{value}"
    if column.kind == "bool" or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if column.kind == "datetime":
        moment = _parse_datetime(value)
        return format_datetime_local(moment) if moment else str(value)
    if column.kind == "date":
        day = _parse(date, value)
        return local_date(day) if day else str(value)
    if column.kind == "time":
        moment = _parse(time, value)
        return format_time_24(moment) if moment else str(value)
    if column.kind == "decimal":
        try:
            return format_decimal(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    if isinstance(value, list):
        return join_names(value) or "—"
    if isinstance(value, dict):
        return _("(details)")
    return _shorten(str(value))


def _actor(row: AuditLog, references: _References) -> tuple[str, str]:
    name = references.name(USER_TABLE, row.actor_id) if row.actor_id is not None else None
    if name:
        return name, row.actor_label
    if row.actor_label == "system":
        return _("System"), ""
    if row.actor_label == "anonymous":
        return _("Visitor (not signed in)"), ""
    return row.actor_label, ""


def describe_rows(rows: list[AuditLog], show_routine: bool = False) -> list[Entry]:
    """Audit rows in plain language, in the reader's language.

    Queries: one per referenced model (accounts, rooms, categories...) whatever the number of
    rows.  Routine columns (login bookkeeping) are left out of a row's changes unless
    ``show_routine``.
    """
    references = _References()
    plan: list[tuple[AuditLog, ModelVocabulary | None, list[tuple[_Column, list]]]] = []
    columns: dict[tuple[str, str], _Column] = {}
    for row in rows:
        references.want(USER_TABLE, row.actor_id)
        vocabulary = _REGISTRY.get(row.object_type)
        if vocabulary is not None:
            references.want(row.object_type, row.object_id)
        shown = []
        for key, pair in (row.changes or {}).items():
            if vocabulary is not None and (key in vocabulary.hidden or (
                    key in vocabulary.routine and not show_routine)):
                continue
            if row.action in (AuditAction.CREATE, AuditAction.DELETE) and \
                    pair[0 if row.action == AuditAction.DELETE else 1] in ("", [], {}):
                continue  # an empty field of a whole record says nothing
            if (row.object_type, key) not in columns:
                columns[(row.object_type, key)] = (
                    _column(vocabulary, key) if vocabulary is not None
                    else _Column(key, key, "text"))
            column = columns[(row.object_type, key)]
            if column.kind in ("user", "record"):
                for value in pair:
                    references.want(column.target, value)
            shown.append((column, pair))
        plan.append((row, vocabulary, shown))
    references.load()
    entries = []
    for row, vocabulary, shown in plan:
        actor, detail = _actor(row, references)
        record = references.name(row.object_type, row.object_id) if vocabulary else None
        changes = []
        for column, (old, new) in shown:
            if row.action == AuditAction.DELETE:  # what the deleted record held
                old, new = None, old
            changes.append(Change(
                column.label, None if old is None else _value(column, old, references),
                _value(column, new, references)))
        entries.append(Entry(
            row=row, actor=actor, actor_detail=detail, action=row.action,
            action_label=str(action_label(row.action)), type_label=type_label(row.object_type),
            record=record or f"#{row.object_id}", changes=changes, routine=is_routine(row)))
    return entries

