"""List the UI strings (msgids without a context) used in more than one module.

A word like "Closed" or "Term" may mean one thing for venues and another for feedback; a
string used in several modules without a context shares one translation. Read the list and
give each string that means different things its own context (pgettext / lazy_pgettext).

    .venv/bin/python tools/msgid_collisions.py [--all]
"""

from __future__ import annotations

import re
import shlex
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def keywords() -> list[str]:
    """The extraction keywords of ``make extract-messages`` (the Makefile's EXTRACT_KEYWORDS)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return shlex.split(re.search(r"^EXTRACT_KEYWORDS\s*=(.*)$", makefile, re.M).group(1))


def module_of(path: str) -> str:
    parts = Path(path).resolve().relative_to(ROOT).parts
    if parts[0] in ("portal", "templates") and len(parts) > 2:
        return parts[1]
    return "core"


def extract() -> list:
    """Every message in the source right now, with its context and locations."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                                    *keywords(), "-o", str(pot), str(ROOT)])
        with pot.open("rb") as handle:
            return [m for m in read_po(handle) if m.id]


def collisions(messages, *, everything=False):
    """(context, msgid, {module: [locations]}) of each message used in several modules; only
    those without a context unless ``everything``."""
    rows = []
    for message in messages:
        if message.context and not everything:
            continue
        modules = defaultdict(list)
        for path, line in message.locations:
            modules[module_of(path)].append(f"{path}:{line}")
        if len(modules) > 1:
            rows.append((message.context, message.id, dict(modules)))
    return rows


if __name__ == "__main__":
    for context, msgid, modules in collisions(extract(), everything="--all" in sys.argv):
        label = f"[{context}] " if context else ""
        print(f"{label}{msgid!r}: {', '.join(sorted(modules))}")
