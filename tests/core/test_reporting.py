"""The shared reporting helpers: one per-month helper for every module's reports."""

from datetime import date

from portal import reporting
from portal.reporting import Period, half_year, month, months_of


def test_months_of_a_half_year_are_its_whole_months():
    assert months_of(date(2026, 7, 1), date(2027, 1, 1)) == [
        month(2026, number) for number in range(7, 13)]
    assert months_of(*(lambda p: (p.first, p.end))(half_year(2026, 1)))[-1] == month(2026, 6)


def test_months_of_a_span_are_clipped_to_it_across_the_year_end():
    assert months_of(date(2026, 12, 15), date(2027, 2, 10)) == [
        Period(date(2026, 12, 15), date(2027, 1, 1)), month(2027, 1),
        Period(date(2027, 2, 1), date(2027, 2, 10))]
    assert months_of(date(2026, 3, 5), date(2026, 3, 5)) == []


def test_the_modules_use_the_one_helper():
    from portal.feedback import reports as feedback_reports
    from portal.rentals import reports as rental_reports

    assert feedback_reports.months_of is reporting.months_of
    assert rental_reports.months_of is reporting.months_of
    assert not hasattr(rental_reports, "_months")
