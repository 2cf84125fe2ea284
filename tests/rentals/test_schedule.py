"""The rent schedule on its own: no database."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.rentals.schedule import Terms, lease_total, schedule


def test_monthly_schedule_prorates_first_and_last_months():
    lines = schedule(Terms(date(2026, 1, 16), date(2026, 4, 15), 310_000))
    assert [(line.starts_on, line.ends_on) for line in lines] == [
        (date(2026, 1, 16), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 15))]
    assert lines[0].amount_fen == 160_000  # 16 of 31 days
    assert lines[1].amount_fen == lines[2].amount_fen == 310_000
    assert lines[3].amount_fen == 155_000  # 15 of 30 days
    assert [line.due_on for line in lines] == [line.starts_on for line in lines]


def test_quarterly_periods_follow_calendar_quarters():
    lines = schedule(Terms(date(2026, 2, 1), date(2027, 1, 31), 100_000, cycle_months=3))
    assert [(line.starts_on, line.ends_on) for line in lines] == [
        (date(2026, 2, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 31))]
    assert [line.amount_fen for line in lines] == [200_000, 300_000, 300_000, 300_000, 100_000]


def test_fit_out_months_are_free_and_increases_apply_on_anniversaries():
    terms = Terms(date(2026, 1, 1), date(2027, 12, 31), 100_000, cycle_months=12,
                  rent_free_until=date(2026, 2, 28), yearly_increase_pct=Decimal("5"))
    first, second = schedule(terms)
    assert first.amount_fen == 1_000_000  # 10 paid months
    assert second.amount_fen == 1_260_000  # 12 months at 105,000
    assert lease_total(terms) == 2_260_000


@settings(max_examples=150, deadline=None)
@given(start=st.dates(date(2024, 1, 1), date(2028, 12, 31)),
       length=st.integers(0, 1500),
       rent=st.integers(1, 5_000_000),
       cycle=st.sampled_from([1, 3, 6, 12]),
       free_days=st.integers(0, 200) | st.none(),
       increase=st.decimals(0, 20, places=2))
def test_the_schedule_adds_up_to_the_lease_total(start, length, rent, cycle, free_days,
                                                 increase):
    terms = Terms(start, start + timedelta(days=length), rent, cycle,
                  start + timedelta(days=free_days) if free_days is not None else None,
                  increase)
    lines = schedule(terms)
    assert sum(line.amount_fen for line in lines) == lease_total(terms)
    assert all(line.amount_fen >= 0 for line in lines)
    # The periods tile the lease exactly: no gap, no overlap.
    assert lines[0].starts_on == terms.start and lines[-1].ends_on == terms.end
    for before, after in zip(lines, lines[1:], strict=False):
        assert after.starts_on == before.ends_on + timedelta(days=1)
