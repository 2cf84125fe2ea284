"""Invariants hold under concurrent requests through real HTTP, on SQLite and PostgreSQL."""

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from tests.helpers import all_at_once

THREADS = 20
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Browserless:
    """One HTTP client with its own cookies (so its own session and CSRF token)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.mark.live
def test_concurrent_registrations_of_one_email_create_one_account(live_server):
    # All 20 come from one address; the registration rate limit is not what is tested here.
    live_server.app.config["REGISTER_RATE_LIMIT"] = "100 per minute"
    clients = [Browserless(live_server.url) for _ in range(THREADS)]
    tokens = [_TOKEN.search(c.get("/auth/register")).group(1) for c in clients]

    def register(n):
        return clients[n].post("/auth/register", {
            "csrf_token": tokens[n], "name": f"客户{n}", "organisation": "",
            "phone": "13912345678", "email": "same@example.com",
            "password": "a long passphrase for booking",
            "confirm": "a long passphrase for booking",
        })

    results = all_at_once(THREADS, register)
    statuses = sorted(status for status, _ in results)
    assert len(results) == THREADS
    assert statuses.count(200) == 1, statuses  # the winner followed the redirect to "done"
    refused = [body for status, body in results if status == 422]
    assert len(refused) == THREADS - 1, statuses
    assert all("该电子邮箱已注册账户" in body for body in refused)
    with live_server.app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.email == "same@example.com")
        ) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
        db.session.remove()
