"""The one export mechanism: CSV and XLSX from the same columns and rows, read back."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from werkzeug.exceptions import BadRequest

from portal.exports import (
    Column,
    Kind,
    content_disposition,
    export_response,
    guard_formula,
    safe_stem,
    to_csv,
    to_xlsx,
)

COLUMNS = [
    Column("会场"),
    Column("场次", Kind.INT),
    Column("收入（元）", Kind.MONEY_FEN),
    Column("小时", Kind.DECIMAL),
    Column("使用率", Kind.PERCENT),
    Column("日期", Kind.DATE),
    Column("时间", Kind.DATETIME),
]
ROWS = [
    ["大礼堂", 12, 123456, Decimal("14.5"), Decimal("0.4567"), date(2026, 7, 1),
     datetime(2026, 7, 1, 1, 30, tzinfo=UTC)],  # 09:30 in Shanghai
    ["第一会议室", 0, 5, Decimal("0"), None, None, None],
]
TOTALS = ["合计", 12, 123461, Decimal("14.5"), Decimal("0.25"), None, None]


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_csv_round_trip(app):
    with app.app_context():
        body = to_csv(COLUMNS, ROWS, totals=TOTALS)
    assert b"\r\n" in body
    rows = _csv_rows(body)
    assert rows[0] == ["会场", "场次", "收入（元）", "小时", "使用率", "日期", "时间"]
    assert rows[1] == ["大礼堂", "12", "1234.56", "14.5", "45.7%", "2026-07-01", "2026-07-01 09:30"]
    assert rows[2] == ["第一会议室", "0", "0.05", "0.0", "", "", ""]
    assert rows[3] == ["合计", "12", "1234.61", "14.5", "25.0%", "", ""]


@pytest.mark.parametrize("text", ["=SUM(A1:A2)", "+86 138", "-1+1", "@cmd", "\t=1", "\r=1"])
def test_csv_cells_that_look_like_formulas_are_defused(app, text):
    with app.app_context():
        rows = _csv_rows(to_csv([Column("名称"), Column("数", Kind.INT)], [[text, -5]]))
    assert rows[1] == ["'" + text, "-5"]  # numbers we write are numbers, never guarded
    assert guard_formula("安全的文字-1") == "安全的文字-1"


def test_xlsx_round_trip(app):
    with app.app_context():
        body = to_xlsx(COLUMNS, ROWS, totals=TOTALS, title="会场报表-2026-07")
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet.title == "会场报表-2026-07"
    assert sheet.freeze_panes == "A2"
    header = [cell for cell in sheet[1]]
    assert [cell.value for cell in header] == [column.heading for column in COLUMNS]
    assert all(cell.font.bold for cell in header)
    venue, count, money, hours, rate, day, when = sheet[2]
    assert venue.value == "大礼堂" and venue.data_type == "s" and not venue.font.bold
    assert count.value == 12 and count.data_type == "n"
    assert money.value == pytest.approx(1234.56) and money.data_type == "n"
    assert "¥" in money.number_format and "0.00" in money.number_format
    assert hours.value == pytest.approx(14.5)
    assert rate.value == pytest.approx(0.457) and rate.number_format.endswith("%")
    assert day.value == datetime(2026, 7, 1) and day.is_date
    assert when.value == datetime(2026, 7, 1, 9, 30)  # local time, without a zone
    assert [cell.value for cell in sheet[3]][4:] == [None, None, None]
    totals = sheet[4]
    assert totals[0].value == "合计" and totals[0].font.bold and totals[2].font.bold
    assert totals[2].value == pytest.approx(1234.61)
    # Columns fit their content; Chinese characters count double.
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert widths["A"] >= 12 and widths["B"] >= 6 and widths["C"] >= 12
    assert all(6 <= width <= 60 for width in widths.values())


def test_xlsx_keeps_text_as_text(app):
    with app.app_context():
        body = to_xlsx([Column("名称")], [["=HYPERLINK(\"http://evil\")"], ["a\x00b"]])
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet["A2"].value == '=HYPERLINK("http://evil")' and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "ab"  # control characters Excel refuses are dropped


def test_rows_must_match_the_columns(app):
    with app.app_context(), pytest.raises(ValueError):
        to_csv([Column("a"), Column("b")], [["only one"]])
    with pytest.raises(ValueError):
        Column("a", "float")


def test_content_disposition_carries_a_chinese_name():
    header = content_disposition("会场报表-2026-07.xlsx")
    assert header.startswith('attachment; filename="2026-07.xlsx"; filename*=UTF-8\'\'')
    encoded = header.split("filename*=UTF-8''")[1]
    assert encoded.isascii() and " " not in encoded
    assert unquote(encoded) == "会场报表-2026-07.xlsx"
    assert content_disposition("会场.csv").startswith('attachment; filename="export.csv"')
    assert 'filename="venue report 2026-H2.csv"' in content_disposition(
        "venue report 2026-H2.csv")


def test_file_names_cannot_escape():
    assert safe_stem("../../etc/passwd") == "etc_passwd"
    assert safe_stem('a"b;c\r\nd') == "a_b_c_d"
    assert safe_stem("") == "export"


@pytest.mark.parametrize(("query", "mimetype", "extension"), [
    ("", "text/csv", "csv"),
    ("?format=csv", "text/csv", "csv"),
    ("?format=xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     "xlsx"),
    ("?format=XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     "xlsx"),
])
def test_the_request_picks_the_format(app, query, mimetype, extension):
    with app.test_request_context(f"/report{query}"):
        response = export_response("会场报表/2026-07", COLUMNS, ROWS, totals=TOTALS)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    disposition = response.headers["Content-Disposition"]
    assert unquote(disposition.split("''")[1]) == f"会场报表_2026-07.{extension}"
    assert response.headers["Cache-Control"] == "private, no-store"
    if extension == "csv":
        assert response.content_type == "text/csv; charset=utf-8"
        assert _csv_rows(response.get_data())[1][0] == "大礼堂"
    else:
        assert load_workbook(io.BytesIO(response.get_data())).active["A2"].value == "大礼堂"


def test_an_unknown_format_is_a_bad_request(app):
    with app.test_request_context("/report?format=pdf"), pytest.raises(BadRequest):
        export_response("x", COLUMNS, ROWS)
