"""The work report's figures: recomputed by hand from seeded data, compared with the previous
period and a year before, zeros for an empty period, and a bounded number of queries."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from portal.i18n import local_today, local_zone
from portal.workreport import periods
from portal.workreport.figures import FIGURES, compute
from portal.workreport.narrative import sentences
from tests.conftest import make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)
from tests.rentals.factories import make_lease, make_room, make_tenant


def _current_half_in(app) -> periods.ReportPeriod:
    with app.app_context():
        day = local_today()
    return periods.half(day.year, 1 if day.month <= 6 else 2)


def _feedback(app, supervisor, category, day):
    with app.app_context():
        moment = datetime.combine(day, time(10), tzinfo=local_zone())
    make_feedback(app, supervisor, category, submitted_on=day, submitted_at=moment)


def _seed(app, scale: int = 1) -> dict:
    """Feedback, appointments, contracts and leases in this half-year, the previous one and
    a year before; ``scale`` multiplies the rows (for the query count)."""
    half = _current_half_in(app)
    before, year_ago = half.previous(), half.year_before()
    category = make_category(app)
    supplier = make_supplier(app, category_ids=(category,))
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id, start=half.first - timedelta(days=400),
                     end=half.first + timedelta(days=700))
    make_appointment(app, supervisor.id, start=half.first,  # appointed in the half
                     end=half.first + timedelta(days=700))
    for n in range(scale):
        for _i in range(3):
            _feedback(app, supervisor.id, category, half.first + timedelta(n))
        _feedback(app, supervisor.id, category, before.first + timedelta(n))
        for _i in range(2):
            _feedback(app, supervisor.id, category, year_ago.first + timedelta(n))
        old = make_contract(app, supplier, category, starts_on=before.first,
                            ends_on=half.first - timedelta(days=1))
        make_contract(app, supplier, category, starts_on=half.first,
                      ends_on=half.end + timedelta(days=300))  # new
        renewal = make_contract(app, supplier, category, starts_on=half.first,
                                ends_on=half.end + timedelta(days=300))
        from portal.database import write_transaction
        from portal.extensions import db
        from portal.suppliers.models import ServiceContract
        with app.test_request_context(), write_transaction():
            db.session.get(ServiceContract, old).successor_id = renewal
        room = make_room(app, area="40")
        make_lease(app, make_tenant(app), [room], start=half.first,
                   end=half.first + timedelta(days=364))
    return {"half": half, "scale": scale}


def test_five_figures_recomputed_by_hand(app):
    _seed(app)
    half = _current_half_in(app)
    with app.test_request_context():
        figures = compute(half)
    # 1. feedback received: 3 in the half, 1 in the half before, 2 a year before
    assert (figures["feedback"].current, figures["feedback"].previous,
            figures["feedback"].year_ago) == (3, 1, 2)
    assert figures["feedback"].vs_previous == Decimal("200.0")
    assert figures["feedback"].vs_year_ago == Decimal("50.0")
    # 2. supervisors in office: two terms meet the half; one appointed in it
    assert figures["supervisors"].current == 2
    assert figures["supervisors_appointed"].current == 1
    # 3. contracts: two in force (new + renewal), one new, one renewed; before: the old one
    assert (figures["contracts"].current, figures["contracts_new"].current,
            figures["contracts_renewed"].current) == (2, 1, 1)
    assert figures["contracts"].previous == 1
    # 4. leases: one new lease of one 40 m² room
    assert figures["new_leases"].current == 1
    assert figures["rooms_leased"].current == 1
    assert figures["area_leased"].current == Decimal("40")
    # 5. income in total = the venues' income + the rent collected (nothing paid yet)
    assert figures["income_total"].current == (figures["income_venues"].current
                                               + figures["income_rentals"].current)
    assert figures["rent_collected"].current == 0
    assert figures["rent_due"].current > 0


def test_an_empty_period_shows_zeros_and_says_so(app, login_as):
    with app.test_request_context():
        figures = compute(periods.year(2001))
        assert figures.empty
        assert all(value.vs_previous is None for value in figures.values.values())
        text = " ".join(" ".join(lines) for lines in sentences(figures).values())
    assert "0" in text
    page = login_as("staff").get("/work-report/?period=2001")
    assert page.status_code == 200
    assert 'id="no-data"' in page.text


@pytest.mark.parametrize("args, field", [
    ("start=2026-03-01&end=2026-02-01", "end"),
    ("start=2001-01-01&end=2026-06-30", "end"),
    ("start=2099-01-01&end=2099-02-01", "start"),
    ("period=2099-H1", "period"),
    ("period=nonsense", "period"),
    ("start=2026-13-01&end=2026-02-01", "start"),
])
def test_bad_periods_are_refused_beside_the_field(app, login_as, args, field):
    page = login_as("staff").get(f"/work-report/?{args}")
    assert page.status_code == 400
    assert f'id="{field}-error"' in page.text
    assert 'id="work-report"' not in page.text


def test_only_staff_read_the_report(app, login_as):
    assert login_as("client").get("/work-report/").status_code in (403, 404)
    assert login_as("supervisor").get("/work-report/").status_code in (403, 404)


def test_every_figure_has_a_label_unit_and_link(app):
    keys = [figure.key for figure in FIGURES]
    assert len(keys) == len(set(keys))
    with app.test_request_context():
        for figure in FIGURES:
            assert str(figure.label) and figure.unit
            assert figure.link(_current_half_in(app)).startswith("/")


def test_queries_do_not_grow_with_the_data(app, login_as, count_queries):
    client = login_as("staff")
    half = _current_half_in(app)
    counts = []
    for scale in (1, 4):
        _seed(app, scale)
        # The first visit stores the closed periods' venue figures (portal/stored_figures.py),
        # the second reads them: the steady state is counted.
        client.get(f"/work-report/?period={half.key}")
        with count_queries() as queries:
            page = client.get(f"/work-report/?period={half.key}")
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] < 60


def test_custom_and_year_periods(app):
    with app.test_request_context():
        custom = periods.parse(start="2025-03-01", end="2025-03-31")
        assert custom.previous().first == date(2025, 1, 29)
        assert custom.year_before().first == date(2024, 3, 1)
        assert periods.parse("2025").previous() == periods.year(2024)
        assert periods.parse("2026-H1").previous() == periods.half(2025, 2)


def test_meetings_and_government_sessions_by_hand(app):
    """Two internal meetings (one a government session) and an external one in the first
    half of 2025, one external a year before; income from the external ones."""
    from portal.bookings.models import Booking
    from portal.bookings.models import BookingStatus as S
    from portal.database import write_transaction
    from portal.extensions import db
    from tests.bookings.test_reports import add_booking, add_venue

    client = make_user(app, "client").id
    hall = add_venue(app, "W-A", "大礼堂")

    def at(day: date, hour: int) -> datetime:
        with app.app_context():
            return datetime.combine(day, time(hour), tzinfo=local_zone())

    def meeting(day: date, **kwargs) -> int:
        return add_booking(app, [(hall, at(day, 9), at(day, 12))], S.COMPLETED, **kwargs)

    congress = meeting(date(2025, 1, 10))
    meeting(date(2025, 3, 3))
    meeting(date(2025, 5, 5), client_id=client, approved_total=100_000, final_total=120_000)
    meeting(date(2024, 4, 4), client_id=client, approved_total=50_000, final_total=60_000)
    with app.test_request_context(), write_transaction():
        db.session.get(Booking, congress).category = "government_session"
    with app.test_request_context():
        figures = compute(periods.half(2025, 1))
    assert (figures["meetings_total"].current, figures["meetings_internal"].current,
            figures["meetings_external"].current) == (3, 2, 1)
    assert figures["government_sessions"].current == 1
    assert figures["meetings_total"].year_ago == 1
    assert figures["meetings_total"].vs_year_ago == Decimal("200.0")
    assert figures["income_venues"].current == 120_000
    assert figures["income_total"].current == 120_000
    assert figures["income_total"].vs_year_ago == Decimal("100.0")
    # The income chart: the conference center's income in its month (May), rent in none.
    months = figures.sources.income_months
    assert [label for label, _venues, _rent in months][0] in ("2025年1月", "January 2025",
                                                              "Jan 2025")
    assert [venues for _label, venues, _rent in months] == [0, 0, 0, 0, 120_000, 0]
    assert sum(venues + rent for _label, venues, rent in months) == \
        figures["income_total"].current


def test_each_source_reads_several_periods_as_each_alone(app, count_queries):
    """compute() reads each source's three periods in one go: for any periods (overlapping,
    apart, one inside another) each equals the source's figures of that period alone, and
    the queries do not grow with the number of periods."""
    from portal.meetings.reports import meeting_figures, meeting_figures_of
    from portal.rentals.reports import (
        income_table,
        income_tables,
        lease_movements,
        lease_movements_of,
    )
    from portal.reporting import Period
    from portal.suppliers.reports import contract_figures, contract_figures_of

    seeded = _seed(app)
    half = seeded["half"]
    spans = [half.period, half.previous().period, half.year_before().period,
             Period(half.first + timedelta(days=10), half.first + timedelta(days=40)),
             Period(half.first - timedelta(days=500), half.first - timedelta(days=450))]
    days = [(span.first, span.end) for span in spans]
    with app.test_request_context():
        with count_queries() as queries:
            together = (income_tables(spans), lease_movements_of(spans),
                        meeting_figures_of(days), contract_figures_of(days))
        # Rent and leases: the stored results' tokens and rows, then what is summed.
        assert len([q for q in queries if q.startswith("SELECT")]) == 3 + 4 + 1 + 2
        alone = ([income_table(span) for span in spans],
                 [lease_movements(span) for span in spans],
                 [meeting_figures(*pair) for pair in days],
                 [contract_figures(*pair) for pair in days])
    tables, other_tables = together[0], alone[0]
    for one, other in zip(tables, other_tables, strict=True):
        assert (one.rows, one.totals) == (other.rows, other.totals)
    assert together[1:] == alone[1:]
    assert together[1][0].rooms_leased == 1 and together[3][0].in_force == 2
