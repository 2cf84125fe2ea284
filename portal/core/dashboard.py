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


@dataclass
class HomeAction:
    """A large button leading a user's home page (what that role comes to do most)."""

    label: str
    url: str
    note: str = ""


_action_providers: list[Callable] = []


def home_action_provider(func: Callable) -> Callable:
    _action_providers.append(func)
    return func


def home_actions_for(user) -> list[HomeAction]:
    actions: list[HomeAction] = []
    for provider in _action_providers:
        actions.extend(provider(user) or [])
    return actions
