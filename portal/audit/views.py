from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import request
from flask_babel import get_timezone

from ..authz import admin_required
from ..htmx import render
from ..pagination import paginate
from . import bp, services
from .models import AuditAction
from .vocabulary import describe_rows


def _local_day_start(text: str, days: int = 0):
    """A yyyy-mm-dd date typed in local time, as an aware instant (start of that day)."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=days), time.min, tzinfo=get_timezone())


@bp.route("/")
@admin_required
def index():
    args = request.args
    filters = {
        "object_type": args.get("object_type", ""),
        "object_id": args.get("object_id", "").strip(),
        "actor": args.get("actor", "").strip(),
        "action": args.get("action", "") if args.get("action") in AuditAction.ALL else "",
        "since": args.get("since", ""),
        "until": args.get("until", ""),
        "routine": args.get("routine") == "1",
    }
    stmt = services.search_stmt(
        object_type=filters["object_type"] or None,
        object_id=filters["object_id"] or None,
        actor=filters["actor"] or None,
        action=filters["action"] or None,
        since=_local_day_start(filters["since"]) if filters["since"] else None,
        until=_local_day_start(filters["until"], days=1) if filters["until"] else None,
        show_routine=filters["routine"],
    )
    pager = paginate(stmt)
    entries = describe_rows(pager.items, show_routine=filters["routine"])
    return render("audit/index.html", "results", pager=pager, entries=entries, filters=filters,
                  object_types=services.object_types(), actions=AuditAction.ALL)
