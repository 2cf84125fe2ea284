from datetime import date

from portal.workdays import add_workdays, is_workday


def test_national_day_and_adjusted_workday_of_a_known_year():
    assert not is_workday(date(2026, 10, 1))  # National Day
    assert is_workday(date(2026, 10, 10))  # a Saturday worked in lieu
    assert not is_workday(date(2026, 11, 21))  # an ordinary Saturday


def test_deadline_skips_the_golden_week():
    # Submitted on Wednesday 30 September 2026: one working day later is after the holiday.
    due = add_workdays(date(2026, 9, 30), 1)
    assert due > date(2026, 10, 7)
    assert is_workday(due)


def test_unknown_year_falls_back_to_weekdays_and_fixed_holidays():
    assert not is_workday(date(2031, 1, 1))  # New Year's Day, a Wednesday
    assert is_workday(date(2031, 1, 2))
    assert not is_workday(date(2031, 1, 4))  # Saturday
    assert add_workdays(date(2031, 1, 3), 1) == date(2031, 1, 6)  # Friday -> Monday

