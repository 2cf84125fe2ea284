"""Service categories for tests (the feedback, suppliers, surveys and meetings tests use them
too, through :mod:`tests.feedback.factories`).  Writes through ``write_transaction`` and
returns ids."""

from __future__ import annotations

from itertools import count

from portal.catalogue.models import ServiceCategory
from portal.database import write_transaction
from portal.extensions import db

_sequence = count(1)


def make_category(app, code: str | None = None, name: str = "保洁", name_en: str = "Cleaning",
                  contract_id: int | None = None, response_days: int = 1,
                  resolution_days: int = 5, team: str = "物业管理科") -> int:
    with app.test_request_context(), write_transaction():
        category = ServiceCategory(
            code=code or f"cat{next(_sequence)}", name=name, name_en=name_en, team=team,
            contract_id=contract_id, response_days=response_days,
            resolution_days=resolution_days)
        db.session.add(category)
        db.session.flush()
        return category.id
