"""Screenshots of the official documents for the README, on the demo data (run by hand).

    .venv/bin/python -m tests.document_screenshots [output-dir]

The demo's first joint meeting's minutes are built as Word (``render_docx``) and drawn by
LibreOffice (``soffice --headless --convert-to pdf``, not a project dependency: install
``libreoffice-writer-nogui`` to take them again; without it the PDF of ``render_pdf`` is drawn
instead), then the first two pages are put side by side with pdftoppm and Pillow.
LibreOffice runs with a fontconfig file that maps the Windows office fonts the document names
to the Noto CJK fonts, as Word does with its own substitutes on a machine without them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from PIL import Image

from portal import create_app
from portal.demo import run_loaders
from portal.documents import FONTS, render_docx, render_pdf
from portal.extensions import db
from portal.meetings.exports import minutes_document
from portal.meetings.models import Meeting
from tests.conftest import _test_config

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
FONT_ALIASES = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  {aliases}
</fontconfig>
"""


def _fontconfig(folder: Path) -> Path:
    aliases = "\n  ".join(
        f'<alias binding="same"><family>{name}</family><prefer><family>{stack[-1]}</family>'
        "</prefer></alias>" for stack in FONTS.values() for name in stack[:-1])
    path = folder / "fonts.conf"
    path.write_text(FONT_ALIASES.format(aliases=aliases), encoding="utf-8")
    return path


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = create_app(_test_config(f"sqlite:///{tmp}/shots.db"))
        with app.app_context():
            upgrade()
        with app.test_request_context():
            run_loaders()
            meeting = db.session.scalar(sa.select(Meeting).where(
                Meeting.title.startswith("第一季度")))
            document = minutes_document(meeting)
            (folder / "minutes.docx").write_bytes(render_docx(document))
            (folder / "weasyprint.pdf").write_bytes(render_pdf(document))
        soffice = shutil.which("soffice")
        if soffice:
            env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig(folder)),
                   "HOME": str(folder)}
            subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir",
                            str(folder), str(folder / "minutes.docx")], check=True, env=env,
                           capture_output=True, timeout=180)
            pdf = folder / "minutes.pdf"
        else:
            pdf = folder / "weasyprint.pdf"
        subprocess.run(["pdftoppm", "-r", "80", "-f", "1", "-l", "2", "-png", str(pdf),
                        str(folder / "page")], check=True)
        pages = [Image.open(p).convert("RGB") for p in sorted(folder.glob("page-*.png"))]
        gap = 16
        sheet = Image.new("RGB", (sum(p.width for p in pages) + gap * (len(pages) + 1),
                                  max(p.height for p in pages) + 2 * gap), "#d9d9d9")
        x = gap
        for page in pages:
            sheet.paste(page, (x, gap))
            x += page.width + gap
        sheet.save(out / "minutes-word.png", optimize=True)
        print(out / "minutes-word.png", "drawn by", "LibreOffice" if soffice else "WeasyPrint")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
