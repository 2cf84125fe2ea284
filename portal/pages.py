"""Sections a higher module adds to a lower module's page.

A feedback item shows the joint meetings that dealt with it, a supplier its meetings, a booking
the meeting held in it: meetings sit above feedback, suppliers and bookings in the module layers
(tests/test_import_graph.py), so those pages cannot import it.  Instead the higher module
registers a context function for the page by name, and the page asks for whatever is
registered.  Each function must run a bounded number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

_sections: dict[str, list[Callable[..., dict]]] = defaultdict(list)


def page_section(page: str) -> Callable:
    """Register ``func(record, user) -> dict`` as part of the context of ``page``."""

    def register(func: Callable[..., dict]) -> Callable[..., dict]:
        _sections[page].append(func)
        return func

    return register


def sections_for(page: str, record, user) -> dict:
    """The context every module registered for ``page``."""
    context: dict = {}
    for section in _sections[page]:
        context.update(section(record, user))
    return context
