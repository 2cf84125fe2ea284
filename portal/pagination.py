"""List pages paginate: one COUNT and one page of rows, whatever the table size.

The count stops at :data:`COUNT_CAP` rows past the page shown (a list of 200,000 bookings
costs a count of 1,000 index entries, not 200,000: that count was most of the staff
queue's time).  Past the cap the pager says "more than" (第 1 页，共 40 页以上 · 超过 1,000 条),
and the next page is offered as long as rows follow the one shown: forty pages is further than
anyone reads a list, who then narrows it with its filters.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import orm

from .extensions import db

COUNT_CAP = 1_000  # rows counted beyond the current page's offset, at most


class CappedPagination(SelectPagination):
    """Flask-SQLAlchemy's pagination with a bounded count: ``capped`` is true when more rows
    than counted exist; ``total`` is then the rows counted (a lower bound)."""

    capped = False

    def _query_count(self) -> int:
        select = self._query_args["select"]
        limit = self._query_offset + max(COUNT_CAP, self.per_page) + 1
        sub = select.options(orm.lazyload("*")).order_by(None).limit(limit).subquery()
        counted = self._query_args["session"].execute(
            sa.select(sa.func.count()).select_from(sub)).scalar()
        self.capped = counted >= limit
        return counted - 1 if self.capped else counted

    @property
    def pages(self) -> int:
        """The pages known to exist: when capped, "more than" this many."""
        if self.capped:
            return max(self.total // self.per_page, self.page)
        return super().pages

    @property
    def has_next(self) -> bool:
        # Capped: more than a page's rows follow this page's offset.
        return self.capped or super().has_next


def paginate(stmt, per_page: int | None = None) -> CappedPagination:
    page = request.args.get("page", 1, type=int) or 1
    return CappedPagination(
        select=stmt, session=db.session(), page=max(page, 1),
        per_page=per_page or current_app.config["PER_PAGE"], max_per_page=100,
        error_out=False)
