"""catering per day: each booking_catering line names its day (NULL: every day of the booking)

Existing lines become "every day" (NULL). What that means changes with this revision:

* before, the catering summary and the run sheet listed a booking's whole order on each of its
  days, while the quote charged the order once for the whole booking;
* from now on an "every day" line is per day everywhere: it is served on each day of the
  booking and charged unit price x quantity x times x days; a dated line is served and charged
  once, on its day.

So the canteen's figures of existing bookings stay as they were, but a multi-day booking with
catering that is priced again (approved after this revision, or changed) is charged its
catering once per day.  Prices already frozen at approval keep their amounts: their catering
lines are rewritten from the text detail ("188800 x 10") to figures in fen (unit price,
quantity, times, days 1), so that they can be shown in yuan.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 09:00:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD_DETAIL = re.compile(r"^(\d+) x (\d+)(?: x (\d+))?$")
booking = sa.table("booking", sa.column("id", sa.Integer),
                   sa.column("approved_quote", sa.JSON))


def _rewrite_frozen_quotes(convert) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(booking.c.id, booking.c.approved_quote)
                              .where(booking.c.approved_quote.is_not(None))).all()
    for booking_id, quote in rows:
        if not isinstance(quote, dict) or not quote.get("lines"):
            continue
        lines = [convert(line) if line.get("kind") != "venue" else line
                 for line in quote["lines"]]
        if lines != quote["lines"]:
            connection.execute(booking.update().where(booking.c.id == booking_id)
                               .values(approved_quote={**quote, "lines": lines}))


def _to_figures(line: dict) -> dict:
    match = OLD_DETAIL.match(line.get("detail") or "")
    if match is None:
        return line
    unit, quantity, times = match.groups()
    return {**line, "detail": "", "unit_price_fen": int(unit), "quantity": int(quantity),
            "times": int(times or 1), "days": 1, "day": None}


def _to_text(line: dict) -> dict:
    if "unit_price_fen" not in line:
        return line
    detail = f"{line['unit_price_fen']} x {line['quantity']}"
    if line.get("kind") != "banquet":
        detail += f" x {line['times']}"
    old = {key: value for key, value in line.items()
           if key not in ("unit_price_fen", "quantity", "times", "days", "day")}
    return {**old, "detail": detail}


def upgrade():
    with op.batch_alter_table('booking_catering', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day', sa.Date(), nullable=True))
    _rewrite_frozen_quotes(_to_figures)


def downgrade():
    _rewrite_frozen_quotes(_to_text)
    with op.batch_alter_table('booking_catering', schema=None) as batch_op:
        batch_op.drop_column('day')
