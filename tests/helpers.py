"""Helpers shared by tests: today in the bureau's time zone, a request reading stored figures,
reading the outbox, extracting links, firing requests at once, a hand-written PDF.

Runtime packages only (no pytest): tests/smoke/prod_smoke.py imports it in a production
install."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa

from portal.extensions import db
from portal.i18n import local_today
from portal.outbox.models import OutboxMessage


@contextmanager
def figures_request(app, live: bool = False) -> Iterator[None]:
    """A request that reads the stored figures of closed periods and stores those it
    computes, committed at its end as a request's are (``portal/stored_figures.py``);
    ``live``: a recount, with nothing stored read or written."""
    saved = app.config["STORED_FIGURES"]
    app.config["STORED_FIGURES"] = not live
    try:
        with app.test_request_context():
            yield
            db.session.commit()
    finally:
        app.config["STORED_FIGURES"] = saved


def bureau_today(app) -> date:
    """Today in the bureau's time zone, as the services see it."""
    with app.app_context():
        return local_today()


_LINK = re.compile(r"https?://\S+")


def outbox_for(app, recipient: str, template: str | None = None) -> list[OutboxMessage]:
    """The mails queued for ``recipient`` (of one ``template`` when given), oldest first."""
    with app.app_context():
        stmt = sa.select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        if template is not None:
            stmt = stmt.where(OutboxMessage.template == template)
        messages = list(db.session.scalars(stmt.order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return messages


def link_in(message: OutboxMessage, base: str = "http://localhost") -> str:
    """The first link in an email, as a path for the test client."""
    match = _LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(0).removeprefix(base)


def form_data(client, path: str, **fields) -> dict:
    from tests.conftest import csrf_token

    return {"csrf_token": csrf_token(client, path), **fields}


def all_at_once(count: int, work: Callable[[int], object], timeout: float = 120) -> list:
    """Run ``work(n)`` for n in range(count) in threads released together; their results.

    An exception in a thread is returned as its result, so the caller sees every outcome.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def hand_written_pdf(catalog: bytes = b"", text: bytes = b"Service contract") -> bytes:
    """A one-page PDF written byte by byte (its xref offsets computed) with ``catalog`` added
    to its catalog dictionary and ``text`` as its one line: no PDF library needed, and any
    structure a library would not write (hex-escaped names...) can be made."""
    stream = b"BT /F1 12 Tf 20 100 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, start)
    return out


_WORK_LINE = re.compile(
    r'<a class="work-item[^"]*" href="([^"]+)" data-module="[^"]*">\s*'
    r'<span class="work-label">([^<]*)</span>\s*(?:<span class="work-lead">([^<]*)</span>)?')


def work_lines(page: str) -> dict[str, tuple[str, str]]:
    """The home page's work list ("My work"): label → (link, lead), unescaped."""
    return {html.unescape(label): (html.unescape(href), html.unescape(lead or ""))
            for href, label, lead in _WORK_LINE.findall(page)}
