"""Printable documents: HTML templates rendered to PDF by WeasyPrint, one mechanism for all.

WeasyPrint is imported when a PDF is made, not when the app starts: it loads Pango through
cffi, which only these pages need.  It needs Debian's ``libpango-1.0-0``, ``libpangoft2-1.0-0``
and ``libharfbuzz-subset0``, and ``fonts-noto-cjk`` for the Chinese text (``make system-deps``).

Templates are ours and every value in them is escaped by Jinja, and WeasyPrint is given a URL
fetcher that refuses every URL: rendering never reads a file or the network.
"""

from __future__ import annotations

from functools import cache

from flask import Response

from .exports import content_disposition

PDF_LIMIT = "30 per minute"  # rendering takes about half a second of CPU


@cache
def _no_fetching():
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"documents load no external resource ({url})")

    return NoFetching


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_fetching()()).write_pdf()


def pdf_response(data: bytes, filename: str) -> Response:
    """A private download (never cached by a proxy)."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
