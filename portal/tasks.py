"""Periodic work: ``flask --app portal tick`` runs every registered task once.

Cron runs it every few minutes.  Each task must be idempotent and safe when two ticks run at
once (claim rows in a write transaction, or key what it sends so it is sent once).
"""

from __future__ import annotations

from collections.abc import Callable

_tasks: list[tuple[str, Callable[[], object]]] = []


def tick_task(name: str):
    def decorator(func):
        _tasks.append((name, func))
        return func

    return decorator


def registered_tasks() -> list[tuple[str, Callable[[], object]]]:
    return list(_tasks)
