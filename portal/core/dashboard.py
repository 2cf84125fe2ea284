"""Dashboard tiles: modules register a function that returns tiles for a user.

Each provider must run a bounded number of queries whatever the data size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Tile:
    title: str
    value: str
    url: str
    tone: str = "neutral"  # neutral, good, warning, danger
    note: str = ""


_providers: list[Callable] = []


def tile_provider(func: Callable) -> Callable:
    _providers.append(func)
    return func


def tiles_for(user) -> list[Tile]:
    tiles: list[Tile] = []
    for provider in _providers:
        tiles.extend(provider(user) or [])
    return tiles
