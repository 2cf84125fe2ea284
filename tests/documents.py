"""Looking at rendered documents the way a reader does: pages as PNG (poppler's ``pdftoppm``),
the text lines with their boxes (``pdftotext -bbox-layout``), page sizes (pypdf), and the
Word file's sections, styles and text (python-docx).  poppler-utils is a system package of the
Makefile."""

from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from docx import Document as WordDocument
from docx.shared import Mm
from PIL import Image
from pypdf import PdfReader

from portal.documents import MARGINS_MM

A4_PT = (595.276, 841.89)
XHTML = "{http://www.w3.org/1999/xhtml}"
# What Markdown source looks like when it was printed instead of rendered.
MARKDOWN_MARKUP = re.compile(r"#|\*\*|__|- \[|^\s*[-*+] ", re.MULTILINE)


@dataclass(frozen=True)
class Line:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    def overlaps(self, other: Line, tolerance: float = 0.5) -> bool:
        return (self.page == other.page
                and self.x0 < other.x1 - tolerance and other.x0 < self.x1 - tolerance
                and self.y0 < other.y1 - tolerance and other.y0 < self.y1 - tolerance)


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(page.mediabox.width), float(page.mediabox.height))
            for page in PdfReader(io.BytesIO(pdf)).pages]


def assert_a4(pdf: bytes) -> int:
    """Every page is A4 portrait (within 1 pt); the page count."""
    sizes = page_sizes(pdf)
    assert sizes
    for width, height in sizes:
        assert abs(width - A4_PT[0]) < 1 and abs(height - A4_PT[1]) < 1, (width, height)
    return len(sizes)


def text_lines(pdf: bytes, tmp_path: Path) -> list[Line]:
    """Every text line of the PDF with its box (points, origin top left)."""
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    xhtml = subprocess.run(["pdftotext", "-bbox-layout", str(source), "-"], check=True,
                           capture_output=True).stdout
    root = ET.fromstring(xhtml)  # noqa: S314  (pdftotext's output for a PDF we rendered)
    lines = []
    for number, page in enumerate(root.iter(f"{XHTML}page"), start=1):
        for line in page.iter(f"{XHTML}line"):
            words = [word.text or "" for word in line.iter(f"{XHTML}word")]
            lines.append(Line(number, *(float(line.get(k)) for k in
                                        ("xMin", "yMin", "xMax", "yMax")), " ".join(words)))
    return lines


def assert_no_overlap(lines: list[Line]) -> None:
    """No two text lines of a page share any area: nothing is printed over anything else."""
    clashes = [(a.text, b.text) for i, a in enumerate(lines) for b in lines[i + 1:]
               if a.overlaps(b)]
    assert not clashes, clashes


def assert_page_numbers(lines: list[Line], pages: int) -> None:
    """Each page carries its number "— n —" at its foot, below the text block."""
    bottom_of_text = A4_PT[1] - MARGINS_MM["bottom"] * 72 / 25.4
    for page in range(1, pages + 1):
        feet = [line.text for line in lines if line.page == page and line.y0 > bottom_of_text]
        assert feet == [f"— {page} —"], (page, feet)


def page_images(pdf: bytes, tmp_path: Path, dpi: int = 30) -> list[Image.Image]:
    """The pages as PNG images drawn by pdftoppm."""
    source = tmp_path / "render.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / "page")],
                   check=True)
    return [Image.open(path).convert("RGB") for path in sorted(tmp_path.glob("page-*.png"))]


def red_pixels(image: Image.Image, top: float, bottom: float) -> int:
    """Pixels of the official red between the fractions ``top`` and ``bottom`` of the height."""
    band = image.crop((0, int(image.height * top), image.width, int(image.height * bottom)))
    return sum(count for count, (r, g, b) in band.getcolors(band.width * band.height)
               if r > 150 and g < 90 and b < 90)


def word(data: bytes):
    return WordDocument(io.BytesIO(data))


def word_texts(document) -> list[str]:
    """The text of every paragraph and every table cell."""
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return texts


def assert_word_layout(document) -> None:
    """Every section is A4 with the margins of GB/T 9704, and no Markdown markup survives."""
    for section in document.sections:
        assert abs(section.page_width - Mm(210)) < Mm(0.1)
        assert abs(section.page_height - Mm(297)) < Mm(0.1)
        for side, mm in MARGINS_MM.items():
            assert abs(getattr(section, f"{side}_margin") - Mm(mm)) < Mm(0.1), side
    leftovers = [text for text in word_texts(document) if MARKDOWN_MARKUP.search(text)]
    assert not leftovers, leftovers


def headings(document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs
            if p.style.name.startswith("Heading")]
