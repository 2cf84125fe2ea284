"""Status-transition tables: one mechanism for every module's lifecycle.

A module declares its transitions once (name, from which states, to which state, which roles,
whether a reason is required); views ask the table which actions a user may take on a record,
and services call :meth:`Workflow.check` before changing a status.  The audit trail records
the status change itself (see :mod:`portal.audit.services`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .errors import NotAllowed


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label: object  # a lazy string for buttons
    needs_reason: bool = False
    # Roles for whom the transition is only allowed on their own records ("client" cancels
    # only its own booking); the service decides what "own" means.
    owner_only: tuple[str, ...] = ()


class Workflow:
    def __init__(self, states: Iterable[str], transitions: Iterable[Transition]):
        self.states = tuple(states)
        self.transitions = {t.name: t for t in transitions}
        for transition in self.transitions.values():
            unknown = {*transition.sources, transition.target} - set(self.states)
            if unknown:
                raise ValueError(f"{transition.name}: unknown states {unknown}")

    def available(self, state: str, role: str, is_owner: bool = True) -> list[Transition]:
        """The transitions this role may take from this state, in declaration order."""
        return [
            t for t in self.transitions.values()
            if state in t.sources and role in t.roles
            and (is_owner or role not in t.owner_only)
        ]

    def check(self, name: str, state: str, role: str, is_owner: bool = True,
              reason: str | None = None) -> Transition:
        """The transition, or NotAllowed with a message the user can read."""
        transition = self.transitions.get(name)
        if transition is None or transition not in self.available(state, role, is_owner):
            raise NotAllowed(_l("This action is not possible in the record's current state."))
        if transition.needs_reason and not (reason or "").strip():
            raise NotAllowed(_l("Please give a reason."), field="reason")
        return transition
