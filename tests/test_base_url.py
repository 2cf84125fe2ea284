"""`make run PORT=… HOST=…` and the address links are made with (portal/urls.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal import create_app
from portal.bookings.calendars import feed_url
from portal.config import load_config
from portal.urls import base_url
from tests.conftest import _test_config

ROOT = Path(__file__).resolve().parent.parent


def make_run(*variables: str) -> str:
    """The command `make run` would serve with (``make -n``: nothing is run)."""
    assert shutil.which("make"), "make is needed (Debian package make)"
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_BASE_URL", "HOST", "PORT")}
    output = subprocess.run(["make", "-n", "run", *variables], cwd=ROOT, env=env,  # noqa: S607
                            capture_output=True, text=True, check=True).stdout
    [line] = [line for line in output.splitlines() if " run --host " in line]
    return line


def served_base_url(line: str) -> str:
    """What PORTAL_BASE_URL the shell gives that line's server when none is exported."""
    match = re.match(r'PORTAL_BASE_URL="(\$\{PORTAL_BASE_URL:-[^"]*\})" ', line)
    assert match, line
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"}
    return subprocess.run(["sh", "-c", f'printf %s "{match.group(1)}"'], env=env,  # noqa: S607
                          capture_output=True, text=True, check=True).stdout


def test_make_run_serves_the_port_and_links_to_it(monkeypatch, tmp_path):
    line = make_run("PORT=5401")
    assert line.endswith("run --host 127.0.0.1 --port 5401")
    assert served_base_url(line) == "http://127.0.0.1:5401"
    monkeypatch.setenv("PORTAL_BASE_URL", "http://127.0.0.1:5401")
    config = load_config(str(tmp_path))
    assert (config["BASE_URL"], config["BASE_URL_FROM_REQUEST"]) == ("http://127.0.0.1:5401",
                                                                      False)
    assert make_run().endswith("run --host 127.0.0.1 --port 5000")
    assert served_base_url(make_run()) == "http://127.0.0.1:5000"
    lan = make_run("HOST=192.0.2.5", "PORT=8080")
    assert lan.endswith("--host 192.0.2.5 --port 8080")
    assert served_base_url(lan) == "http://192.0.2.5:8080"
    # Every interface: no one address to name, so each request's own (see below).
    assert served_base_url(make_run("HOST=0.0.0.0")) == ""


@pytest.mark.live  # apps of their own, not the shared rolled-back connection
def test_without_a_base_url_development_links_follow_the_served_address(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    config = _test_config(f"sqlite:///{tmp_path / 'u.db'}")
    del config["BASE_URL"]
    app = create_app(config)
    assert app.config["BASE_URL_FROM_REQUEST"] is True
    with app.test_request_context(base_url="http://192.0.2.5:5401/"):
        assert base_url() == "http://192.0.2.5:5401"
        assert feed_url("abc").startswith("http://192.0.2.5:5401/venues/feeds/abc")
    with app.app_context():  # cron and the CLI: the configured default
        assert base_url() == "http://127.0.0.1:5000"

    monkeypatch.setenv("PORTAL_ENV", "production")  # never from the Host header a client sent
    production = load_config(str(tmp_path))
    assert production["BASE_URL_FROM_REQUEST"] is False
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.gov.cn/")
    assert load_config(str(tmp_path))["BASE_URL_FROM_REQUEST"] is False
    given = create_app(_test_config(f"sqlite:///{tmp_path / 'u.db'}",
                                    BASE_URL="http://localhost"))
    with given.test_request_context(base_url="http://192.0.2.5:5401/"):
        assert base_url() == "http://localhost"
