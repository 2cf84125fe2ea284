"""The work report page: staff and admins read the figures of a period as the report's
sections, with the generated sentences and the comparisons."""

from __future__ import annotations

from flask import request
from flask_babel import get_locale

from ..authz import staff_required
from ..errors import ServiceError
from ..htmx import render
from . import bp, periods
from .figures import SECTIONS, compute
from .narrative import percent, sentences, shown

CHINESE_NUMERALS = "一二三四五六七八九十"


def section_number(index: int) -> str:
    """一、 in Chinese, 1. in English (the seed's numbering of sections)."""
    if str(get_locale() or "").startswith("zh"):
        return CHINESE_NUMERALS[index] + "、"
    return f"{index + 1}. "


def asked_period():
    args = request.args
    return periods.parse(args.get("period", ""), args.get("start", ""), args.get("end", ""))


def page_context(period) -> dict:
    figures = compute(period)
    return {"period": period, "figures": figures, "sections": SECTIONS,
            "sentences": sentences(figures), "shown": shown, "percent": percent,
            "section_number": section_number}


@bp.route("/")
@staff_required
def report():
    args = request.args
    choices = periods.choices()
    try:
        period = asked_period()
    except ServiceError as error:
        return render("workreport/report.html", status=400, errors=error.fields,
                      choices=choices, period=None, asked=args)
    return render("workreport/report.html", errors={}, choices=choices, asked=args,
                  **page_context(period))
