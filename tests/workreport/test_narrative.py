"""The generated sentences read like the seed (a reader's check against it): sums in 万元,
no "0批" of government sessions, no meetings said plainly, and a satisfaction rate that did not
rise said so, by how much when it fell."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.workreport import periods
from portal.workreport.figures import compute
from portal.workreport.narrative import amount, satisfaction_sentence, sentences


@pytest.mark.parametrize("lang, fen, text", [
    ("zh", 18_683_250, "18.68万元"), ("zh", 1_000_000, "1.00万元"), ("zh", 93_600, "936.00元"),
    ("zh", 0, "0.00元"), ("en", 18_683_250, "186,832.50 yuan"),
])
def test_sums_in_sentences_are_in_ten_thousand_yuan_in_chinese(app, lang, fen, text):
    with app.test_request_context(f"/?lang={lang}"):
        assert amount(fen) == text


def _survey(latest, before):
    def point(rate, title):
        return SimpleNamespace(rate=rate, title=title)
    return SimpleNamespace(sources=SimpleNamespace(
        rounds=[point(latest, "2026年下半年满意度调查")],
        round_before=None if before is None else point(before, "上半年")))


@pytest.mark.parametrize("latest, before, text", [
    (93.8, 77.5, "满意度调查“2026年下半年满意度调查”满意率为93.8%，比上一轮的77.5%有所提高。"),
    (80.0, 80.0, "满意度调查“2026年下半年满意度调查”满意率为80.0%，与上一轮的80.0%持平，"
                 "没有提高。"),
    (77.5, 93.8, "满意度调查“2026年下半年满意度调查”满意率为77.5%，比上一轮的93.8%下降16.3个"
                 "百分点，满意率没有提高。"),
    (77.5, None, "满意度调查“2026年下半年满意度调查”满意率为77.5%，此前没有可比较的调查。"),
])
def test_satisfaction_says_plainly_whether_it_rose(app, latest, before, text):
    with app.test_request_context("/?lang=zh"):
        assert satisfaction_sentence(_survey(latest, before)) == text


def test_english_says_it_fell(app):
    with app.test_request_context("/?lang=en"):
        assert satisfaction_sentence(_survey(77.5, 93.8)).endswith(
            "16.3 percentage points down on the 93.8% of the round before: satisfaction did "
            "not rise.")


def test_a_period_without_meetings_says_so_without_zero_batches(app):
    with app.test_request_context("/?lang=zh"):
        lines = sentences(compute(periods.year(2001)))
    venues, income = lines["venues"], lines["income"]
    assert venues == ["全年会议中心没有承接会议服务，去年同期无可比数据。",
                      "食堂供应工作餐0人次、宴会0桌。"]  # no "重要会议0批", no "利用率为—"
    assert income == ["全年共实现创收0.00元，其中会议中心和食堂0.00元、房屋租金0.00元，"
                      "去年同期无可比数据。"]
