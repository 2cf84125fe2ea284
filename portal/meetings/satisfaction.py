"""Satisfaction figures of suppliers for the agenda pre-fill and the supplier scorecard.

The figures are the surveys module's (:func:`portal.surveys.reports.supplier_satisfaction`:
per supplier, its rate per service category for its latest rounds, newest first, from the
supplier recorded when each round was published); this module turns them into the plain data
an agenda item keeps as its snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable

AGENDA_ROUNDS = 2  # an agenda shows the latest figures
SCORECARD_ROUNDS = 8  # a scorecard shows the trend ("satisfaction over time")


def supplier_satisfaction(supplier_ids: Iterable[int],
                          rounds: int = AGENDA_ROUNDS) -> dict[int, list]:
    """Satisfaction figures per supplier id (``SupplierSatisfaction``) for its latest
    ``rounds`` survey rounds, newest round first."""
    from ..surveys.reports import supplier_satisfaction as figures

    return figures(list(supplier_ids), rounds=rounds)


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
