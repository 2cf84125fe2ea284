import itertools
import re

from flask import render_template_string

from portal.charts import bar_chart, label_width, line_chart


def test_line_chart_scales_values_and_leaves_gaps():
    chart = line_chart([("2025 H1", 80.0), ("2025 H2", None), ("2026 H1", 95.0)],
                       unit="%", target=90, y_max=100)
    first, gap, last = chart.points
    assert gap.y is None
    assert last.y < first.y  # higher values are drawn higher up
    assert len(chart.paths) == 2  # the gap splits the line
    assert chart.target_y is not None and last.y < chart.target_y < first.y
    assert [label for _, label in chart.y_ticks][-1] == "100%"


def test_bar_chart_heights_are_proportional():
    chart = bar_chart([("a", 10), ("b", 20)], y_max=20)
    a, b = chart.points
    assert chart.baseline - b.y == 2 * (chart.baseline - a.y)


def test_chart_macro_draws_svg_and_a_table_with_the_same_figures(app):
    chart = line_chart([("Round 1", 82.5), ("Round 2", 91.0)], unit="%", target=90)
    with app.test_request_context():
        html = render_template_string(
            '{% from "_chart.html" import chart as draw %}'
            '{{ draw(c, "Rate", "Round", "Rate", "r") }}',
            c=chart)
    assert "<svg" in html and "chart-target" in html
    assert "<th scope=\"row\">Round 2</th><td>91%</td>" in html
    assert "style=" not in html  # the CSP forbids inline styles


def test_empty_chart_says_so(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_chart.html" import chart as draw %}{{ draw(c, "T", "L", "V", "e") }}',
            c=bar_chart([("a", None)]))
    assert "<svg" not in html


def _axis_labels(html: str) -> list[str]:
    return re.findall(r'<text class="chart-label"[^>]*>([^<]*)</text>', html)


def _draw(app, chart) -> str:
    with app.test_request_context():
        return render_template_string(
            '{% from "_chart.html" import chart as draw %}{{ draw(c, "T", "L", "V", "t") }}',
            c=chart)


def test_a_line_chart_of_many_rounds_labels_every_nth_point_and_tables_them_all(app):
    months = [f"{2017 + n // 2}-{'01' if n % 2 == 0 else '07'}" for n in range(20)]
    chart = line_chart([(month, 80 + n / 2) for n, month in enumerate(months)], unit="%",
                       target=90, y_max=100)
    html = _draw(app, chart)
    shown = _axis_labels(html)
    assert chart.label_step > 1 and len(shown) < 20
    assert shown[-1] == months[-1]  # the latest round is always labelled
    assert shown == months[::-1][::chart.label_step][::-1]
    labelled = [p for p in chart.points if p.show_label]
    for left, right in itertools.pairwise(labelled):  # no two labels overlap
        room = right.x - left.x
        assert room >= (label_width(left.short_label) + label_width(right.short_label)) / 2
    for month in months:  # every figure stays in the table and in the dots' tooltips
        assert f'<th scope="row">{month}</th>' in html
        assert f"<title>{month}: " in html
    # Long Chinese labels are cut and spaced further apart.
    titles = [(f"第{n}轮后勤服务满意度调查", 90.0) for n in range(20)]
    wide = line_chart(titles, unit="%")
    assert wide.label_step > chart.label_step
    assert all(len(p.short_label) <= 10 for p in wide.points)
    assert "第19轮后勤服务满…" in _axis_labels(_draw(app, wide))


def test_a_line_chart_of_few_rounds_labels_every_point(app):
    data = [("2025-06", 88.0), ("2025-12", None), ("2026-06", 93.5)]
    chart = line_chart(data, unit="%")
    assert chart.label_step == 1
    assert _axis_labels(_draw(app, chart)) == ["2025-06", "2025-12", "2026-06"]


def test_a_bar_chart_of_many_services_labels_every_nth_bar_without_overlap(app):
    services = ["食堂餐饮", "会议服务", "大楼保洁", "外墙清洗", "绿化养护", "电梯",
                "消防监控", "智能化会议室", "空调机组维护", "车辆及通勤车", "房屋维修", "其他"]
    chart = bar_chart([(name, n) for n, name in enumerate(services)])
    shown = _axis_labels(_draw(app, chart))
    assert chart.label_step > 1 and shown[0] == "食堂餐饮"
    assert shown == [p.short_label for p in chart.points][::chart.label_step]
    labelled = [p for p in chart.points if p.show_label]
    for left, right in itertools.pairwise(labelled):
        assert right.x - left.x >= (label_width(left.short_label)
                                    + label_width(right.short_label)) / 2
    assert [row[0] for row in chart.rows()] == services  # the table has them all
    few = bar_chart([("1月", 1), ("2月", 2)])
    assert few.label_step == 1 and all(p.show_label for p in few.points)


# --- the same chart drawn as PNG (documents) ---------------------------------------------------

def _png(chart, app, scale=2, **kw):
    from io import BytesIO

    from PIL import Image

    from portal.charts import render_png

    with app.test_request_context():
        return Image.open(BytesIO(render_png(chart, scale=scale, **kw))).convert("RGB")


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def test_png_draws_the_bars_at_the_charts_coordinates(app):
    from portal.charts import COLOURS

    chart = bar_chart([("保洁", 10), ("餐饮", 20), ("绿化", None)], y_max=20)
    image = _png(chart, app)
    assert image.size == (chart.width * 2, chart.height * 2)
    a, b, gap = chart.points
    # the middle of each bar is the bar's colour (portal.css's --red), scaled 2×
    for point in (a, b):
        middle = (round((point.x + chart.bar_width / 2) * 2),
                  round((point.y + chart.baseline) / 2 * 2))
        assert _hex(image.getpixel(middle)) == COLOURS["bar"]
    # above the shorter bar, inside its column, the background shows
    assert _hex(image.getpixel((round((a.x + chart.bar_width / 2) * 2),
                                round((a.y - 10) * 2)))) == COLOURS["background"]
    # no bar where there is no value; the bar area has many drawn pixels
    column = image.crop((round(gap.x * 2) + 4, round(16 * 2) + 4,
                         round((gap.x + chart.bar_width) * 2) - 4, round(chart.baseline * 2) - 4))
    assert COLOURS["bar"] not in {_hex(colour) for _n, colour in column.getcolors(1 << 20)}
    plot = image.crop((round(chart.plot_left * 2), 0, round(chart.plot_right * 2),
                       round(chart.baseline * 2)))
    bar_pixels = sum(n for n, colour in plot.getcolors(1 << 20)
                     if _hex(colour) == COLOURS["bar"])
    assert bar_pixels > 0.2 * plot.width * plot.height / 3


def test_png_draws_a_line_dots_target_and_labels(app):
    from portal.charts import COLOURS

    chart = line_chart([("2025-06", 80.0), ("2025-12", None), ("2026-06", 95.0)], unit="%",
                       target=90, y_max=100)
    image = _png(chart, app, scale=1)
    assert image.size == (chart.width, chart.height)
    first = chart.points[0]
    assert _hex(image.getpixel((round(first.x), round(first.y)))) == COLOURS["bar"]  # the dot
    target = image.crop((round(chart.plot_left), round(chart.target_y) - 1,
                         round(chart.plot_right), round(chart.target_y) + 1))
    assert any(_hex(colour) == COLOURS["target"] for _n, colour in target.getcolors(1 << 16))
    # labels under the axis: dark (anti-aliased) text pixels below the baseline
    below = image.crop((0, round(chart.baseline) + 2, chart.width, chart.height))
    assert sum(n for n, (r, g, b) in below.getcolors(1 << 16) if r + g + b < 500) > 50


def test_png_of_an_empty_chart_says_no_data(app):
    from portal.charts import COLOURS

    chart = bar_chart([])
    image = _png(chart, app)
    middle = image.crop((image.width // 4, image.height // 4,
                         3 * image.width // 4, 3 * image.height // 4))
    colours = {_hex(colour) for _n, colour in middle.getcolors(1 << 20)}
    assert COLOURS["bar"] not in colours and len(colours) > 2  # text, no bars


def test_the_cjk_font_is_found():
    from pathlib import Path

    from portal.charts import cjk_font_file

    path, index = cjk_font_file()
    assert Path(path).exists() and index >= 0 and "CJK" in path


def test_rows_are_the_table_of_the_page_and_of_documents(app):
    chart = line_chart([("a", 82.5), ("b", None)], unit="%", target=90,
                       notes=["n = 4", ""])
    with app.test_request_context():
        assert chart.rows() == [("a", "82.5%", "n = 4"), ("b", "—", ""), ("目标", "90%", "")]
    assert chart.has_notes and not bar_chart([("a", 1)]).has_notes
