"""Table exports, one mechanism for every module: CSV or Excel (XLSX) from the same table.

A caller describes its columns (a translated heading and a kind) and hands over the rows; the
format comes from ``?format=csv|xlsx``::

    return export_response(_("venue-report-%(period)s", period=key),
                           [Column(_("Venue")), Column(_("Income"), Kind.MONEY_FEN)],
                           rows, totals=[_("Total"), total_fen])

* **CSV** is UTF-8 with a byte-order mark, so Excel opens Chinese text correctly. Money is
  written in yuan as a plain number (``1234.50``) and percentages as ``45.6%``. A text cell that
  begins with ``= + - @`` (or a tab or carriage return) gets a leading apostrophe, so a
  spreadsheet never runs it as a formula (CSV injection).
* **XLSX** (openpyxl, streamed in write-only mode) has a bold header row that stays in view,
  columns sized to their content (Chinese characters count double), numbers stored as numbers
  with a number format (``¥#,##0.00`` for money, ``0.0%`` for percentages, ``yyyy-mm-dd`` for
  dates). Text cells are stored as text, never as formulas.
* The download name may be Chinese: ``Content-Disposition`` carries an ASCII fallback and the
  RFC 5987 ``filename*``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, request
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .i18n import format_datetime_local


class Kind:
    TEXT = "text"
    INT = "int"
    MONEY_FEN = "money_fen"  # integer fen (分), exported in yuan
    DECIMAL = "decimal"  # a Decimal (e.g. hours), shown with ``Column.decimals`` places
    PERCENT = "percent"  # a fraction (Decimal("0.456") is 45.6%)
    DATE = "date"
    DATETIME = "datetime"  # aware datetimes are shown in the local time zone
    ALL = (TEXT, INT, MONEY_FEN, DECIMAL, PERCENT, DATE, DATETIME)


@dataclass(frozen=True)
class Column:
    heading: str  # already translated (a lazy string is fine)
    kind: str = Kind.TEXT
    decimals: int = 1  # DECIMAL and PERCENT only

    def __post_init__(self):
        if self.kind not in Kind.ALL:
            raise ValueError(f"unknown column kind {self.kind!r}")


FORMATS = ("csv", "xlsx")
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._ ()-]+")
_SHEET_TITLE_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_NUMBER_FORMATS = {
    Kind.INT: "#,##0",
    Kind.MONEY_FEN: '"¥"#,##0.00',
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
}
MIN_WIDTH, MAX_WIDTH = 6, 60


def guard_formula(text: str) -> str:
    """Text a spreadsheet would take for a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _local(value: datetime) -> datetime:
    """An aware datetime in local time without its zone (spreadsheets have no zones)."""
    return value.astimezone(_zone()).replace(tzinfo=None) if value.tzinfo else value


def _decimal(value, places: int) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _yuan(fen) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _text(value) -> str:
    if isinstance(value, datetime):
        return format_datetime_local(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv_cell(column: Column, value) -> str:
    if value is None:
        return ""
    if isinstance(value, str) or column.kind == Kind.TEXT:
        return guard_formula(_text(value))
    if column.kind == Kind.INT:
        return str(int(value))
    if column.kind == Kind.MONEY_FEN:
        return f"{_yuan(value):f}"
    if column.kind == Kind.DECIMAL:
        return f"{_decimal(value, column.decimals):f}"
    if column.kind == Kind.PERCENT:
        return f"{_decimal(Decimal(value) * 100, column.decimals):f}%"
    if column.kind == Kind.DATE and isinstance(value, datetime):
        return _local(value).date().isoformat()
    return _text(value)


def to_csv(columns: Sequence[Column], rows: Iterable[Sequence], totals=None) -> bytes:
    """The table as CSV bytes: UTF-8 with a BOM, CRLF line ends, formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([guard_formula(str(column.heading)) for column in columns])
    for row in [*rows, *([totals] if totals is not None else [])]:
        writer.writerow([_csv_cell(column, value) for column, value in zip(columns, row,
                                                                            strict=True)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _xlsx_value(column: Column, value):
    """The value as stored in the sheet, and its number format (None for text)."""
    if isinstance(value, str) or column.kind == Kind.TEXT:
        return ILLEGAL_CHARACTERS_RE.sub("", _text(value)), None
    if column.kind == Kind.INT:
        return int(value), _NUMBER_FORMATS[Kind.INT]
    if column.kind == Kind.MONEY_FEN:
        return _yuan(value), _NUMBER_FORMATS[Kind.MONEY_FEN]
    places = "0" * column.decimals
    if column.kind == Kind.DECIMAL:
        return _decimal(value, column.decimals), "#,##0" + (f".{places}" if places else "")
    if column.kind == Kind.PERCENT:
        return (_decimal(value, column.decimals + 2),
                "0" + (f".{places}" if places else "") + "%")
    if column.kind == Kind.DATE:
        if isinstance(value, datetime):
            value = _local(value).date()
        return value, _NUMBER_FORMATS[Kind.DATE]
    if isinstance(value, datetime):
        return _local(value), _NUMBER_FORMATS[Kind.DATETIME]
    return value, _NUMBER_FORMATS[Kind.DATE]


def sheet_title(text: str) -> str:
    return _SHEET_TITLE_UNSAFE.sub("_", text).strip("'")[:31] or "Sheet1"


def to_xlsx(columns: Sequence[Column], rows: Iterable[Sequence], totals=None,
            title: str = "") -> bytes:
    """The table as an Excel workbook: bold frozen header, sized columns, typed numbers."""
    return to_xlsx_sheets([(title, columns, rows, totals)])


def to_xlsx_sheets(sheets: Iterable[tuple[str, Sequence[Column], Iterable[Sequence],
                                          Sequence | None]]) -> bytes:
    """Several tables as one workbook, a sheet each: (title, columns, rows, totals)."""
    workbook = Workbook(write_only=True)
    for title, columns, rows, totals in sheets:
        _write_sheet(workbook, columns, list(rows), totals, title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(workbook, columns: Sequence[Column], rows: list, totals, title: str) -> None:
    sheet = workbook.create_sheet(sheet_title(title))
    bold = Font(bold=True)
    widths = [_display_width(str(column.heading)) for column in columns]
    for row in [*rows, *([totals] if totals is not None else [])]:
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            if value is not None:
                # The CSV rendering is close to what Excel shows (money gains "¥" and commas).
                shown = _csv_cell(column, value)
                extra = 4 if column.kind in (Kind.MONEY_FEN, Kind.INT, Kind.DECIMAL) else 0
                widths[index] = max(widths[index], _display_width(shown) + extra)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"

    def cells(values, font=None):
        out = []
        for column, value in zip(columns, values, strict=True):
            cell = WriteOnlyCell(sheet)
            if value is not None:
                stored, number_format = _xlsx_value(column, value)
                cell.value = stored
                if number_format is None:
                    cell.data_type = "s"  # text stays text, even "=SUM(...)"
                else:
                    cell.number_format = number_format
            if font is not None:
                cell.font = font
            out.append(cell)
        return out

    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(column.heading)))
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(cells(row))
    if totals is not None:
        sheet.append(cells(totals, bold))


def safe_stem(stem: str) -> str:
    """A file name stem without path separators or characters file systems refuse."""
    cleaned = _UNSAFE_IN_NAME.sub("_", str(stem)).strip(" ._")
    return cleaned or "export"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` fallback and the RFC 5987 ``filename*``."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = _NOT_ASCII_SAFE.sub("_", ascii_stem).strip(" ._-") or "export"
    fallback = ascii_stem + (f".{extension}" if extension else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def requested_format() -> str:
    """``?format=`` (default CSV); anything else is a bad request."""
    wanted = request.args.get("format", "csv").lower()
    if wanted not in FORMATS:
        abort(400, description=f"format must be one of {', '.join(FORMATS)}")
    return wanted


def export_response(stem: str, columns: Sequence[Column], rows: Iterable[Sequence],
                    totals: Sequence | None = None, fmt: str | None = None) -> Response:
    """The table as a download in the format the request asked for (``?format=csv|xlsx``).

    ``rows`` are sequences of str, int, Decimal, date or datetime (or None), one value per
    column; ``totals`` is an optional last row, bold in Excel.
    """
    fmt = fmt or requested_format()
    stem = safe_stem(stem)
    if fmt == "xlsx":
        body, mimetype = to_xlsx(columns, rows, totals, title=stem), XLSX_MIMETYPE
    else:
        body, mimetype = to_csv(columns, rows, totals), f"{CSV_MIMETYPE}; charset=utf-8"
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = content_disposition(f"{stem}.{fmt}")
    response.headers["Cache-Control"] = "private, no-store"  # reports hold internal figures
    return response
