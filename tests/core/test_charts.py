from flask import render_template_string

from portal.charts import bar_chart, line_chart


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
