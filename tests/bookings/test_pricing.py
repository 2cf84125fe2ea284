"""The pricing function on its own: no database, no HTTP."""

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.bookings.pricing import (
    CateringKind,
    CateringRequest,
    QuoteLine,
    RateKind,
    SlotRequest,
    VenueRates,
    quote,
    slot_charge,
)

HALL = VenueRates(half_day_fen=300_000, evening_fen=200_000, full_day_fen=500_000)
DAY = date(2026, 12, 8)


def slot(session, start, end, rates=HALL, venue="大礼堂", day=DAY):
    return SlotRequest(venue, day, session, start, end, rates)


@pytest.mark.parametrize("session, start, end, expected", [
    ("morning", time(8, 30), time(12), 300_000),
    ("afternoon", time(13, 30), time(17, 30), 300_000),
    ("evening", time(18), time(21, 30), 200_000),
    ("full_day", time(8, 30), time(17, 30), 500_000),
    ("custom", time(9), time(11), 300_000),          # inside the morning
    ("custom", time(10), time(15), 500_000),         # morning and afternoon: a full day
    ("custom", time(12), time(13, 30), 300_000),     # lunch hour: charged as a half day
    ("custom", time(16), time(20), 500_000),         # afternoon + evening
    ("custom", time(19), time(21), 200_000),         # evening only
    ("custom", time(8), time(21, 30), 700_000),      # all day and evening
])
def test_slot_charges(session, start, end, expected):
    assert slot_charge(slot(session, start, end)) == expected


DAY_2 = date(2026, 12, 9)


def test_two_rooms_two_days_with_banquet_and_tea():
    """Meals and tea every day (per day: charged for both days), the banquet on day 2 only."""
    breakout = VenueRates(80_000, 60_000, 140_000)
    result = quote(
        [slot("full_day", time(8, 30), time(17, 30)),
         slot("morning", time(8, 30), time(12), rates=breakout, venue="第一会议室"),
         slot("full_day", time(8, 30), time(17, 30), day=DAY_2)],
        [CateringRequest(CateringKind.MEAL, "工作餐 50元标准", 5_000, quantity=120, times=2),
         CateringRequest(CateringKind.TEA_BREAK, "茶歇", 2_500, quantity=120, times=2),
         CateringRequest(CateringKind.BANQUET, "宴席 2000元/桌", 200_000, quantity=12,
                         day=DAY_2)],
        RateKind.EXTERNAL,
    )
    assert result.venue_fen == 500_000 + 80_000 + 500_000
    assert [line.amount_fen for line in result.lines[3:]] == [2_400_000, 1_200_000, 2_400_000]
    assert result.total_fen == 1_080_000 + 2_400_000 + 1_200_000 + 2_400_000
    assert [line.label for line in result.lines[:2]] == ["大礼堂", "第一会议室"]  # by day, time
    meal, _tea, banquet = result.lines[3:]
    assert (meal.unit_price_fen, meal.quantity, meal.times, meal.days, meal.day) == (
        5_000, 120, 2, 2, None)
    assert (banquet.quantity, banquet.times, banquet.days, banquet.day) == (12, 1, 1, DAY_2)
    frozen = result.as_dict()
    assert frozen["total_fen"] == result.total_fen
    assert frozen["lines"][5]["day"] == "2026-12-09"  # JSON-safe, and read back the same
    assert [QuoteLine.from_dict(line) for line in frozen["lines"]] == result.lines


def test_two_days_with_tea_every_day_and_a_banquet_on_day_2():
    """The issue's case: 200 tea breaks every day of two days, 10 banquet tables on day 2."""
    result = quote(
        [slot("full_day", time(8, 30), time(17, 30)),
         slot("full_day", time(8, 30), time(17, 30), day=DAY_2)],
        [CateringRequest(CateringKind.TEA_BREAK, "茶歇", 2_500, quantity=200, times=1),
         CateringRequest(CateringKind.BANQUET, "宴席 1888元/桌", 188_800, quantity=10,
                         day=DAY_2)],
        RateKind.FREE,
    )
    assert [line.amount_fen for line in result.lines[2:]] == [2_500 * 200 * 2, 188_800 * 10]
    assert result.total_fen == 1_000_000 + 1_888_000


def test_every_day_catering_of_a_one_day_or_slotless_request_counts_once():
    tea = CateringRequest(CateringKind.TEA_BREAK, "茶歇", 2_500, quantity=10, times=2)
    one_day = quote([slot("morning", time(8, 30), time(12)),
                     slot("afternoon", time(13, 30), time(17, 30), venue="第一会议室")],
                    [tea], RateKind.FREE)
    assert one_day.total_fen == 50_000 and one_day.lines[-1].days == 1
    assert quote([], [tea], RateKind.FREE).total_fen == 50_000


def test_free_waives_the_venue_but_not_the_catering():
    result = quote([slot("full_day", time(8, 30), time(17, 30))],
                   [CateringRequest(CateringKind.MEAL, "工作餐", 3_000, 50, 1)], RateKind.FREE)
    assert result.venue_fen == 0 and result.total_fen == 150_000


def test_empty_catering_lines_are_left_out():
    result = quote([], [CateringRequest(CateringKind.TEA_BREAK, "茶歇", 2_000, 0, 1)],
                   RateKind.EXTERNAL)
    assert result.lines == [] and result.total_fen == 0


def test_unknown_rate_kind_is_refused():
    with pytest.raises(ValueError):
        quote([], [], "discount")


money = st.integers(min_value=0, max_value=10_000_000)


@given(half=money, evening=money, full=money, people=st.integers(1, 2000),
       meals=st.integers(1, 6), price=st.integers(0, 100_000))
def test_total_is_the_sum_of_its_lines_and_never_negative(half, evening, full, people, meals,
                                                          price):
    rates = VenueRates(half, evening, full)
    result = quote([slot("custom", time(9), time(20), rates=rates)],
                   [CateringRequest(CateringKind.MEAL, "餐", price, people, meals)],
                   RateKind.EXTERNAL)
    assert result.total_fen == sum(line.amount_fen for line in result.lines) >= 0
    assert result.lines[-1].amount_fen == price * people * meals
