"""The production topology on loopback: Debian's nginx (deploy/nginx.conf) in front of two
gunicorn instances sharing one database, one uploads folder and Redis.

Everything here is started by the test and stopped by it: nginx runs its own master
(``-p`` a temporary prefix, ``daemon off``, loopback ports), never the system's service.
"""

from __future__ import annotations

import http.cookiejar
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.run import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
SITE_FILE = ROOT / "deploy" / "nginx.conf"
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn
HOST = "127.0.0.1"
NGINX = os.environ.get("PORTAL_TEST_NGINX", "/usr/sbin/nginx")
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def wait_for_port(port: int, process: subprocess.Popen, name: str, log: Path,
                  seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not listen on {port} within {seconds} s")


# --- nginx ------------------------------------------------------------------------------------


def render_site(https_port: int, http_port: int, app_ports: tuple[int, int], cert: Path,
                key: Path, access_log: Path, error_log: Path) -> str:
    """deploy/nginx.conf with its example values replaced by the test's (each must be there:
    the test runs the shipped file, not a copy of it)."""
    text = SITE_FILE.read_text()
    replacements = [
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen {HOST}:{http_port};"),
        ("listen 443 ssl http2;", f"listen {HOST}:{https_port} ssl http2;"),
        ("/etc/ssl/certs/portal.example.gov.cn.pem", str(cert)),
        ("/etc/ssl/private/portal.example.gov.cn.key", str(key)),
        ("/var/log/nginx/portal.access.log", str(access_log)),
        ("/var/log/nginx/portal.error.log", str(error_log)),
        ("/srv/portal/", f"{ROOT}/"),
        ("server 127.0.0.1:8001 ", f"server {HOST}:{app_ports[0]} "),
        ("server 127.0.0.1:8002 ", f"server {HOST}:{app_ports[1]} "),
    ]
    for old, new in replacements:
        assert old in text, f"{SITE_FILE} no longer holds {old!r}: update tests/topology/stack.py"
        text = text.replace(old, new)
    return text


def main_config(prefix: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf gives a site file, in a prefix of our own."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {prefix / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\ndaemon off;\n"
        "events { worker_connections 256; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    sendfile on;\n{temp}    include {site};\n}}\n"
    )


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "portal.pem", folder / "portal.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


class Nginx:
    def __init__(self, folder: Path, app_ports: tuple[int, int]):
        if not os.access(NGINX, os.X_OK):
            raise RuntimeError(f"nginx not found at {NGINX}: `make proxy-deps` installs Debian's "
                               "nginx (make test does it)")
        self.prefix = folder
        self.https_port, self.http_port = free_port(), free_port()
        self.access_log = folder / "portal.access.log"
        self.error_log = folder / "portal.error.log"
        self.cert, key = make_certificate(folder)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / kind).mkdir()
        site = folder / "portal.conf"
        site.write_text(render_site(self.https_port, self.http_port, app_ports, self.cert, key,
                                    self.access_log, self.error_log))
        self.config = folder / "nginx.conf"
        self.config.write_text(main_config(folder, site))
        self.log = folder / "nginx.out"
        self.process: subprocess.Popen | None = None

    def check(self) -> str:
        result = subprocess.run([NGINX, "-t", "-p", str(self.prefix), "-c", str(self.config),
                                 "-e", str(self.prefix / "error.log")],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stderr

    def start(self) -> None:
        self.check()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                [NGINX, "-p", str(self.prefix), "-c", str(self.config),
                 "-e", str(self.prefix / "error.log")],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.https_port, self.process, "nginx", self.log)

    def stop(self) -> None:
        stop_group(self.process, signal.SIGQUIT)  # graceful: the master, then its worker

    def log_lines(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []

    def line_with(self, *parts: str) -> str:
        """The last access log line holding every one of ``parts`` (nginx writes a line once
        the answer is sent: it is waited for)."""
        deadline = time.monotonic() + 10
        while True:
            found = [line for line in self.log_lines() if all(p in line for p in parts)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no line with {parts} in the access log")
            time.sleep(0.05)

    def upstream_of(self, request_id: str) -> str:
        """The instance (host:port) that answered the request with this id."""
        assert request_id, "the answer carries no X-Request-ID"
        return self.line_with(f"rid={request_id} ").split("upstream=", 1)[1].split(" ", 1)[0]


# --- gunicorn ---------------------------------------------------------------------------------


class Instance:
    """One app instance: gunicorn with production settings, in its own process group."""

    def __init__(self, folder: Path, env: dict[str, str], workers: int = 2):
        self.port = free_port()
        self.log = folder / f"gunicorn-{self.port}.log"
        self.env, self.workers = env, workers
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self) -> None:
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", self.address,
                 "--timeout", "120", "--graceful-timeout", "5", "portal:create_app()"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait(self) -> None:
        wait_for_port(self.port, self.process, "gunicorn", self.log)

    def stop(self) -> None:
        stop_group(self.process)


def app_environment(database_url: str, redis_url: str, uploads: Path, base_url: str) -> dict:
    """The production environment of both instances (nothing of the caller's PORTAL_*)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PORTAL_", "FLASK_"))}
    env.update({
        "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_DATABASE_URL": database_url, "PORTAL_REDIS_URL": redis_url,
        "PORTAL_PROXY_HOPS": "1", "PORTAL_MAX_UPLOAD_MB": "48",
        "PORTAL_UPLOAD_IMAGE_MAX_MB": "8", "PORTAL_UPLOAD_FOLDER": str(uploads),
        "PORTAL_BASE_URL": base_url,
    })
    return env


# --- a browser without a browser --------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: object  # http.client.HTTPMessage
    text: str
    url: str

    @property
    def request_id(self) -> str:
        return self.headers.get("X-Request-ID", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Visitor:
    """One person's HTTPS client through nginx: its own cookies, hence its own session."""

    def __init__(self, base: str, cafile: Path, follow: bool = True):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPSHandler(context=ssl.create_default_context(
            cafile=str(cafile))), urllib.request.HTTPCookieProcessor(self.jar)]
        if not follow:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)
        self.csrf = ""

    def request(self, method: str, path: str, data: bytes | None = None,
                headers: dict | None = None, base: str | None = None) -> Answer:
        # A browser's POST names the page it came from; Flask-WTF checks it over HTTPS.
        headers = {"Referer": f"{self.base}/", "User-Agent": "portal-topology/1",
                   **(headers or {})}
        req = urllib.request.Request(  # noqa: S310  (https://127.0.0.1 or http://127.0.0.1)
            (base or self.base) + path, data=data, method=method,
            headers=headers)
        try:
            with self.opener.open(req, timeout=120) as response:
                return Answer(response.status, response.headers, response.read().decode(),
                              response.url)
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read().decode(errors="replace"),
                          error.url)

    def get(self, path: str, **kwargs) -> Answer:
        answer = self.request("GET", path, **kwargs)
        match = _CSRF.search(answer.text)
        if match:
            self.csrf = next(group for group in match.groups() if group)
        return answer

    def post(self, path: str, fields: dict, **kwargs) -> Answer:
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **fields}).encode()
        return self.request("POST", path, data=data, **kwargs)

    def log_in(self, account) -> None:
        self.get("/auth/login")
        answer = self.post("/auth/login", {"email": account.email,
                                           "password": account.password})
        location = answer.headers.get("Location", "") if answer.status == 303 else answer.url
        assert answer.status in (200, 303) and not location.endswith("/auth/login"), \
            (answer.status, answer.url, answer.text[:500])

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)


def direct_get(address: str, path: str, cookie: str) -> int:
    """A GET straight to one instance (no nginx, no redirects): its status."""
    import http.client

    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("GET", path, headers={"Cookie": cookie,
                                                 "User-Agent": "portal-topology/1"})
        return connection.getresponse().status
    finally:
        connection.close()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
