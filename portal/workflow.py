"""Status transitions: one mechanism for every module's lifecycle.

A module declares its transitions once (name, from which states, to which state, which roles,
whether a reason is required, and any rule of its own such as "only after the event began").
That one table answers both questions a lifecycle asks:

* **What may this user do here?**  :meth:`Workflow.offered` gives the buttons a page shows.
* **Do it.**  :meth:`Workflow.apply` runs the whole step, the same way in every module:

  1. inside :func:`portal.database.write_transaction`, re-read the row with
     ``SELECT … FOR UPDATE`` (:func:`locked`), so two requests acting on one record at once
     queue behind each other on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already serialises
     every writer);
  2. check the transition against that fresh state and the actor's role, ownership and the
     transition's own rule;
  3. write the module's changes and the new status (the audit trail records the step in the
     same flush, see :mod:`portal.audit.services`);
  4. queue the mails (the outbox is written in the same transaction, so a step that loses the
     race sends nothing);
  5. commit, and return the fresh record.

A request that loses a race finds the record already moved on and gets :class:`StaleRecord`,
whose message says who changed it to what ("刚刚被 X 改为 …"); views answer it with 409 and
the record's current page.  Changes that are not status steps but need the same lock and
re-check (renewing a contract once, spending a lease's open rent) call :func:`locked` too, so
there is one way to lock a record for a decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .database import write_transaction
from .errors import NotAllowed, ServiceError
from .extensions import db

SYSTEM = "system"  # the role of work done by the tick command (no user)

# A rule of a transition's own beyond state and role: raise ServiceError (with the field it
# belongs to) when the step is not possible now.  Called with (record, actor, details).
Rule = Callable[[Any, Any, dict], None]


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label: object  # a lazy string for buttons
    needs_reason: bool = False
    # Roles for whom the transition is only allowed on their own records ("client" cancels
    # only its own booking); the workflow's ``owner`` predicate decides what "own" means.
    owner_only: tuple[str, ...] = ()
    rule: Rule | None = None


class StaleRecord(NotAllowed):
    """The record moved on while the user looked at it (another request won the race)."""

    status_code = 409


def role_of(actor) -> str:
    return actor.role if actor is not None else SYSTEM


def locked(record):
    """The record re-read from the database under a row lock, for a decision about it.

    Must run inside :func:`write_transaction`.  ``FOR UPDATE`` makes a concurrent writer of
    the same row wait for this transaction; ``populate_existing`` replaces whatever the
    request had loaded with the row as it is now.  SQLite ignores ``FOR UPDATE``: its write
    transactions already run one at a time.  Returns None when the row is gone.
    """
    if not db.session.info.get("portal_write"):
        raise RuntimeError("locked() belongs inside write_transaction()")
    model = type(record)
    mapper = sa.inspect(model)
    identity = sa.inspect(record).identity  # read without loading the (expired) row
    if identity is None:
        raise ValueError("locked() needs a record that is in the database")
    stmt = (sa.select(model)
            .where(*[column == value
                     for column, value in zip(mapper.primary_key, identity, strict=True)])
            .with_for_update(of=model)
            .execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def last_changed_by(record, status_attr: str = "status") -> str:
    """Who made the latest change of the record's ``status_attr``, from the audit trail (for
    messages)."""
    from .audit.models import AuditAction, AuditLog
    from .auth.models import User

    rows = db.session.execute(
        sa.select(AuditLog.actor_label, User.name, AuditLog.changes)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.object_type == record.audit_type(),
               AuditLog.object_id == ",".join(str(p) for p in sa.inspect(record).identity),
               AuditLog.action == AuditAction.STATUS)
        .order_by(AuditLog.id.desc()).limit(10)).all()
    # A record with two lifecycles (a lease and its deposit): the step of this one.
    row = next((row for row in rows if status_attr in (row.changes or {})), None)
    label, name = (row.actor_label, row.name) if row is not None else ("anonymous", None)
    if name:
        return name
    if label == "anonymous":
        return str(_l("someone"))
    return str(_l("the system")) if label in ("system", "") else label


class Workflow:
    """One lifecycle: its states, transitions, labels and the one way to take a step."""

    def __init__(self, states: Iterable[str], transitions: Iterable[Transition], *,
                 labels: dict | None = None, noun: object = None,
                 owner: Callable[[Any, Any], bool] | None = None,
                 status_attr: str = "status"):
        self.states = tuple(states)
        self.transitions = {t.name: t for t in transitions}
        self.labels = labels or {}
        self.noun = noun if noun is not None else _l("This record")
        self.owner = owner
        self.status_attr = status_attr
        for transition in self.transitions.values():
            unknown = {*transition.sources, transition.target} - set(self.states)
            if unknown:
                raise ValueError(f"{transition.name}: unknown states {unknown}")

    # --- what a page may offer ----------------------------------------------------------

    def is_owner(self, record, actor) -> bool:
        if actor is None or self.owner is None:
            return True
        return bool(self.owner(record, actor))

    def available(self, state: str, role: str, is_owner: bool = True) -> list[Transition]:
        """The transitions this role may take from this state, in declaration order."""
        return [
            t for t in self.transitions.values()
            if state in t.sources and role in t.roles
            and (is_owner or role not in t.owner_only)
        ]

    def offered(self, record, actor, **details) -> list[Transition]:
        """The buttons a page shows this actor: state, role, ownership and each step's rule."""
        offered = []
        for step in self.available(self.state_of(record), role_of(actor),
                                   self.is_owner(record, actor)):
            if step.rule is not None:
                try:
                    step.rule(record, actor, details)
                except ServiceError:
                    continue
            offered.append(step)
        return offered

    def can(self, record, actor, name: str) -> bool:
        return any(step.name == name for step in self.offered(record, actor))

    def state_of(self, record) -> str:
        return getattr(record, self.status_attr)

    def label(self, state: str):
        return self.labels.get(state, state)

    # --- checking and taking a step -----------------------------------------------------

    def check(self, name: str, state: str, role: str, is_owner: bool = True,
              reason: str | None = None) -> Transition:
        """The transition, or NotAllowed with a message the user can read."""
        transition = self.transitions.get(name)
        if transition is None or transition not in self.available(state, role, is_owner):
            raise NotAllowed(_l("This action is not possible in the record's current state."))
        if transition.needs_reason and not (reason or "").strip():
            raise NotAllowed(_l("Please give a reason."), field="reason")
        return transition

    def stale(self, record) -> StaleRecord:
        return StaleRecord(_l("%(record)s changed a moment ago: %(who)s set it to "
                              "\"%(status)s\". The page now shows its current state.",
                              record=self.noun, who=last_changed_by(record, self.status_attr),
                              status=self.label(self.state_of(record))))

    def apply(self, record, name: str, actor, *, reason: str = "",
              expected: str | None = None,
              change: Callable[[Any, Transition], None] | None = None,
              after: Callable[[Any, Transition, str], None] | None = None,
              **details):
        """Take transition ``name`` on ``record`` as ``actor`` (None: the system); the fresh
        record, changed and committed.

        ``expected``: the state the user saw (a hidden form field); if the record has moved on
        since, :class:`StaleRecord` says who moved it.  ``change(record, step)`` writes the
        module's own fields (it may raise ServiceError: nothing is saved); the status is set
        after it.  ``after(record, step, before)`` runs once the change is flushed: mails,
        follow-up steps.  ``details`` reach the transition's rule.  Runs in its own write
        transaction (a savepoint when nested).
        """
        with write_transaction():
            fresh = locked(record)
            if fresh is None:
                raise NotAllowed(_l("This record no longer exists."))
            state = self.state_of(fresh)
            role = role_of(actor)
            step = self.transitions.get(name)
            if expected and expected != state:
                raise self.stale(fresh)
            if step is not None and role in step.roles and state not in step.sources:
                # The step was possible from the state the user saw; someone moved it on.
                raise self.stale(fresh)
            step = self.check(name, state, role, self.is_owner(fresh, actor), reason)
            if step.rule is not None:
                step.rule(fresh, actor, details)
            if change is not None:
                change(fresh, step)
            setattr(fresh, self.status_attr, step.target)
            db.session.flush()
            if after is not None:
                after(fresh, step, state)
        return fresh
