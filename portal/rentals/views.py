"""Rentals pages (filled in below as the module grows)."""

from __future__ import annotations

from . import bp  # noqa: F401
