"""README and docs/ links work in a clone: every relative link names a file of the repository
(nothing outside it, such as ../shared/)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def test_relative_links_resolve_inside_the_repository():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    checked = 0
    for document in documents:
        for target in _LINK.findall(document.read_text()):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a web address or a heading of the same page
            path = (document.parent / unquote(target.split("#")[0])).resolve()
            assert path.is_relative_to(ROOT), f"{document.name}: {target} leaves the repository"
            assert path.exists(), f"{document.name}: {target} does not exist"
            checked += 1
    assert checked > 10
    assert (ROOT / "docs" / "DESIGN.md").exists()
