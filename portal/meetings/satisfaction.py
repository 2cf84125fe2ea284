"""The ONE adapter to the surveys module's satisfaction figures.

The surveys module (built in parallel) exposes
``portal.surveys.reports.supplier_satisfaction(supplier_ids) -> dict[int,
list[SupplierSatisfaction]]`` (fields round_id, round_title, closes_on, category_label, rate
— a percentage or None —, valid_responses). Agenda pre-fill and the supplier scorecard read the
figures only through :func:`supplier_satisfaction` here.

INTEGRATOR: until the surveys module is merged this returns ``{}``. Wire it by replacing the
body with::

    from ..surveys.reports import supplier_satisfaction as figures
    return figures(list(supplier_ids))
"""

from __future__ import annotations

from collections.abc import Iterable


def supplier_satisfaction(supplier_ids: Iterable[int]) -> dict[int, list]:
    """Satisfaction figures per supplier id (objects with the fields above), newest first."""
    return {}  # not wired yet: see the module docstring


def as_dicts(figures: list) -> list[dict]:
    """Figures as plain data (stored as a snapshot on an agenda item)."""
    out = []
    for figure in figures:
        closes_on = getattr(figure, "closes_on", None)
        rate = getattr(figure, "rate", None)
        out.append({
            "round_id": getattr(figure, "round_id", None),
            "round_title": str(getattr(figure, "round_title", "")),
            "closes_on": closes_on.isoformat() if closes_on else None,
            "category_label": str(getattr(figure, "category_label", "")),
            "rate": float(rate) if rate is not None else None,
            "valid_responses": int(getattr(figure, "valid_responses", 0) or 0),
        })
    return out
