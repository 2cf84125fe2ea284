"""Races through real HTTP: several signed-in sessions post conflicting steps on one record at
the same instant (a barrier releases them together), on SQLite and on PostgreSQL.

Every workflow's concurrency test asks the same of the outcome (:func:`assert_one_step`):
exactly one status change in the audit trail, one set of mails, every loser answered 409 or
422 with the "changed a moment ago" message, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from portal.audit.models import AuditAction, AuditLog
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from tests.helpers import all_at_once
from tests.test_concurrency import _TOKEN, Browserless

STALE = "刚刚被"  # "…刚刚被 X 改为 …": the loser's message, the same in every module


def signed_in(live_server, account, page: str = "/") -> Browserless:
    """A browser session of ``account``, signed in through the login form."""
    browser = Browserless(live_server.url)
    token = _TOKEN.search(browser.get("/auth/login")).group(1)
    status, _ = browser.post("/auth/login", {"email": account.email, "csrf_token": token,
                                             "password": account.password})
    assert status == 200, f"login of {account.email} failed ({status})"
    browser.csrf = csrf_of(browser, page)
    return browser


def csrf_of(browser: Browserless, page: str) -> str:
    html = browser.get(page)
    match = _TOKEN.search(html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


@dataclass
class Attempt:
    browser: Browserless
    path: str
    fields: dict


def race(attempts: list[Attempt]) -> list[tuple[int, str]]:
    """Post every attempt at once; (status, body) of each, in order."""
    def post(n: int):
        attempt = attempts[n]
        return attempt.browser.post(attempt.path, {"csrf_token": attempt.browser.csrf,
                                                   **attempt.fields})
    results = all_at_once(len(attempts), post)
    for result in results:
        assert not isinstance(result, Exception), result
    return results


def status_changes(app, object_type: str, object_id, column: str = "status") -> list[dict]:
    """The audited changes of one record's lifecycle ``column``, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.object_type == object_type,
                                      AuditLog.object_id == str(object_id),
                                      AuditLog.action == AuditAction.STATUS)
            .order_by(AuditLog.id)).all()
        changes = [row.changes[column] for row in rows if column in row.changes]
        db.session.remove()
        return changes


def outbox_count(app, recipient: str) -> int:
    """Mails queued for one address."""
    with app.app_context():
        stmt = sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == recipient)
        count = db.session.scalar(stmt)
        db.session.remove()
        return count


def assert_one_step(results, app, object_type: str, object_id, before_changes: int = 0,
                    winners_status: tuple[int, ...] = (200, 303),
                    column: str = "status") -> list:
    """Exactly one request changed the status; the others were told, clearly, never a 500.

    ``before_changes``: status changes the record had before the race.  Returns the audited
    changes (each [old, new]) made by the race.
    """
    statuses = [status for status, _ in results]
    assert 500 not in statuses, statuses
    won = [n for n, status in enumerate(statuses) if status in winners_status]
    assert len(won) == 1, statuses
    for n, (status, body) in enumerate(results):
        if n in won:
            continue
        assert status in (409, 422), statuses
        assert STALE in body, body[:2000]
    changes = status_changes(app, object_type, object_id, column)[before_changes:]
    assert len(changes) == 1, changes
    return changes
