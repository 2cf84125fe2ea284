"""Sections a higher module adds to a lower module's page.

A feedback item shows the joint meetings that dealt with it, a supplier its meetings, a booking
the meeting held in it, a supplier's scorecard the feedback and action-item figures, the
feedback dashboard the satisfaction rounds: the module that owns those figures sits above the
page's module in the layers (tests/test_import_graph.py), so the page cannot import it.
Instead the higher module registers a context function for the page by name, and the page
asks for whatever is registered, passing the same arguments to each (a record page: the record
and the reader).  Each function must run a bounded number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

_sections: dict[str, list[Callable[..., dict]]] = defaultdict(list)


def page_section(page: str) -> Callable:
    """Register ``func(*args) -> dict`` as part of the context of ``page``; the page decides
    the arguments (see :func:`sections_for`'s callers)."""

    def register(func: Callable[..., dict]) -> Callable[..., dict]:
        _sections[page].append(func)
        return func

    return register


def sections_for(page: str, *args) -> dict:
    """The context every module registered for ``page``, each called with ``args``."""
    context: dict = {}
    for section in _sections[page]:
        context.update(section(*args))
    return context
