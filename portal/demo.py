"""Demo data: ``flask --app portal demo``; each module adds a loader as it lands.

The dataset is drawn from the bureau's half-year summary (see docs/DESIGN.md): district offices as
the supervisors' units, outside clients, and later venues, rooms, suppliers and meetings.
"""

from __future__ import annotations

from collections.abc import Callable

_loaders: list[tuple[int, Callable[[dict], None]]] = []

# Printed by the command; demo data is refused in production.
DEMO_PASSWORD = "bureau-demo-2026"  # noqa: S105


def demo_loader(order: int):
    """Register ``func(context)``; lower ``order`` runs first.  ``context`` is shared."""

    def decorator(func):
        _loaders.append((order, func))
        return func

    return decorator


def run_loaders() -> dict:
    context: dict = {"logins": []}
    for _order, loader in sorted(_loaders, key=lambda item: item[0]):
        loader(context)
    return context
