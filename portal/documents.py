"""Official documents (公文): one structure, rendered to PDF and to Word alike.

A document is data (:class:`Document`): the issuing body's mark (发文机关标志, the bureau's
name in red), an optional document number (文号, e.g. 区机管〔2026〕12号), a title, sections of
blocks (:class:`Heading`, :class:`Paragraph`, :class:`ListBlock`, :class:`Table`) and a
signature (落款 and 成文日期).  :func:`render_pdf` renders it through the Jinja template
``documents/official.html`` and WeasyPrint, :func:`render_docx` through python-docx, both in the
layout of GB/T 9704-2012 (党政机关公文格式) where it applies:

* A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 × 225 mm text block);
* the title in 小标宋 二号 (22 pt), the body in 仿宋 三号 (16 pt), 22 lines of 28 characters per
  page (line pitch :data:`LINE_PITCH`); headings by level: 黑体 "一、", 楷体 "（一）",
  仿宋 bold "1.", 仿宋 "（1）" (:func:`heading_label`; English "1.", "1.1", "1.1.1", "(a)");
* page numbers "— 1 —" in 宋体 四号 (14 pt) 7 mm below the text block, on the outer side (odd
  pages right, even pages left, one character in);
* the signature right-aligned four characters in, the date written 2026年12月6日.

Fonts are stacks (:data:`FONTS`): the Windows office fonts first, then the Debian Noto CJK fonts
(``fonts-noto-cjk``), which is what renders on the server.  CSS takes the whole stack; a Word run
names one font per script, so the DOCX names the first font of the stack and lists the next one
as its ``altName`` in the font table, which Word uses when the first is not installed.

Minutes and other user text arrive as Markdown: :func:`markdown_blocks` reads the tokens of the
one Markdown parser of :mod:`portal.markdown` and builds blocks (headings, bold and italic runs,
lists, tables), so Word gets real structure, never the Markdown source.

WeasyPrint is imported when a PDF is made, not when the app starts: it loads Pango through
cffi, which only these pages need.  It needs Debian's ``libpango-1.0-0``, ``libpangoft2-1.0-0``
and ``libharfbuzz-subset0``, and ``fonts-noto-cjk`` for the Chinese text (``make system-deps``).
Templates are ours and every value in them is escaped by Jinja, and WeasyPrint is given a URL
fetcher that refuses every URL: rendering never reads a file or the network.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import ClassVar

from flask import Response, render_template
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from .exports import content_disposition
from .markdown import markdown_tokens

PDF_LIMIT = "30 per minute"  # rendering takes about half a second of CPU
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# --- GB/T 9704-2012 ---------------------------------------------------------------------------

PAGE_MM = (210, 297)  # A4
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
BODY_PT = 16  # 三号
TITLE_PT = 22  # 二号
PAGE_NUMBER_PT = 14  # 四号
TABLE_PT = 12  # 小四: tables are set smaller than the body
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
_MM = 72 / 25.4
TEXT_HEIGHT_PT = (PAGE_MM[1] - MARGINS_MM["top"] - MARGINS_MM["bottom"]) * _MM
TEXT_WIDTH_PT = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) * _MM
LINE_PITCH = round(TEXT_HEIGHT_PT / LINES_PER_PAGE, 2)  # 28.99 pt: 22 lines on 225 mm
# 28 characters on 156 mm: 16 pt characters drawn 0.25 pt closer together (a whole number of
# twentieths of a point, as Word stores it, rounded down so that the 28th still fits).
CHAR_SPACING = math.floor((TEXT_WIDTH_PT / CHARS_PER_LINE - BODY_PT) * 20) / 20
RED = "C00000"  # the red of the issuing body's mark and the separator line

# Font stacks: Windows office fonts first, then what Debian's fonts-noto-cjk provides.
FONTS = {
    "title": ("方正小标宋简体", "华文中宋", "宋体", "Noto Serif CJK SC"),  # 小标宋 (bold fallback)
    "body": ("仿宋_GB2312", "仿宋", "FangSong", "Noto Serif CJK SC"),  # 仿宋
    "hei": ("黑体", "SimHei", "Noto Sans CJK SC"),  # 黑体
    "kai": ("楷体_GB2312", "楷体", "KaiTi", "Noto Serif CJK SC"),  # 楷体
    "song": ("宋体", "SimSun", "Noto Serif CJK SC"),  # 宋体 (page numbers)
}
LATIN_FONT = "Times New Roman"  # Word: the font of Latin letters and digits
CODE_FONT = "Courier New"
# The font of a heading by level (1: section headings), in both renderers.
HEADING_FONTS = {1: ("hei", False), 2: ("kai", False), 3: ("body", True), 4: ("body", False)}
MAX_LEVEL = 4


def css_stack(name: str) -> Markup:
    """A CSS font-family list (Markup: our constants, quoted for the style element)."""
    return Markup(", ".join(f'"{font}"' for font in FONTS[name]) + (  # noqa: S704
        ", sans-serif" if name == "hei" else ", serif"))


# --- the structure ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Text with its emphasis; ``\\n`` is a line break."""
    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False


Runs = tuple[Run, ...]


def runs(text: str | None, bold: bool = False) -> Runs:
    """Plain text as runs."""
    return (Run(text, bold=bold),) if text else ()


def plain(content: Runs) -> str:
    return "".join(run.text for run in content)


@dataclass(frozen=True)
class Heading:
    kind: ClassVar[str] = "heading"
    text: str
    level: int = 2  # 1 is a section's heading; blocks start at 2
    label: str = ""  # "（一）", filled in when the document is numbered


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    runs: Runs
    indent: bool = True  # first line indented by two characters
    quote: bool = False  # a block quote: the whole paragraph indented


@dataclass(frozen=True)
class ListItem:
    runs: Runs
    depth: int = 0
    number: int | None = None  # None: a bullet
    list_id: int = 0  # items of one (sub)list share it: Word numbers each list from its start

    @property
    def marker(self) -> str:
        return f"{self.number}." if self.number is not None else ("•", "◦", "▪")[self.depth % 3]


@dataclass(frozen=True)
class ListBlock:
    kind: ClassVar[str] = "list"
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    header: tuple[Runs, ...]
    rows: tuple[tuple[Runs, ...], ...]
    widths: tuple[float, ...] | None = None  # relative column widths; None: equal
    align: tuple[str, ...] | None = None  # per column: "left", "center" or "right"

    def percentages(self) -> list[float]:
        widths = self.widths or (1,) * len(self.header)
        total = sum(widths)
        return [100 * w / total for w in widths]

    def alignment(self, column: int) -> str:
        return (self.align[column] if self.align and column < len(self.align) else "") or "left"


@dataclass(frozen=True)
class Figure:
    """An image (PNG, e.g. a chart drawn by :func:`portal.charts.render_png`) across the text
    block, its caption below it (图1 …, Figure 1 …, numbered when the document is) and the
    table of its figures."""
    kind: ClassVar[str] = "figure"
    image: bytes
    caption: str
    table: Table | None = None
    label: str = ""  # "图1" / "Figure 1", filled in when the document is numbered

    @property
    def data_uri(self) -> str:
        """The image inline (the PDF's renderer fetches nothing, ``data:`` included)."""
        return "data:image/png;base64," + base64.b64encode(self.image).decode("ascii")

    def caption_text(self, lang: str) -> str:
        if not self.label:
            return self.caption
        return f"{self.label}\u3000{self.caption}" if lang == "zh" else \
            f"{self.label}. {self.caption}"


def chart_figure(chart, caption: str, label_heading: str, value_heading: str) -> Figure:
    """A chart of :mod:`portal.charts` as a figure: the same chart the pages draw as SVG,
    drawn as PNG, with the same table (label, value, and the notes when there are any)."""
    from .charts import render_png

    notes = chart.has_notes
    header = (label_heading, value_heading) + ((_("Note"),) if notes else ())
    rows = tuple(tuple(runs(cell) for cell in (row if notes else row[:2]))
                 for row in chart.rows())
    return Figure(render_png(chart), caption,
                  Table(tuple(runs(cell) for cell in header), rows,
                        widths=(3, 2, 3) if notes else (3, 2),
                        align=("left", "right", "left") if notes else ("left", "right")))


Block = Heading | Paragraph | ListBlock | Table | Figure


@dataclass(frozen=True)
class Section:
    heading: str | None
    blocks: tuple[Block, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class Signature:
    issuer: str
    on: date

    @property
    def date_text(self) -> str:
        """成文日期 as 2026年12月6日 (English: December 6, 2026)."""
        return format_date(self.on, "long")


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]
    number: str = ""  # 文号
    signature: Signature | None = None
    issuer_mark: str = ""  # 发文机关标志; default: the bureau's name
    lang: str = field(default_factory=lambda: "zh" if str(get_locale()).startswith("zh")
                      else "en")

    @property
    def mark(self) -> str:
        return self.issuer_mark or bureau_name()

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.lang == "zh" else "en"

    @property
    def display_title(self) -> str:
        """A Chinese title of two or three characters is spaced out (聘　书), as is usual."""
        if self.lang == "zh" and 2 <= len(self.title) <= 3:
            return "\u3000".join(self.title)
        return self.title


def bureau_name() -> str:
    """The bureau's name in the reader's language (区机关事务管理局), as on every page."""
    return _("District Administrative Affairs Management Bureau")


# --- numbering --------------------------------------------------------------------------------

_CHINESE_DIGITS = "零一二三四五六七八九"
_ALREADY_NUMBERED = re.compile(
    r"^\s*([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+(\.\d+)*[.、．\s])")


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (headings never go further)."""
    if n < 10:
        return _CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CHINESE_DIGITS[tens]) + "十" + (
        _CHINESE_DIGITS[ones] if ones else "")


def heading_label(counters: Sequence[int], lang: str) -> str:
    """The number of a heading at level ``len(counters)`` given the counters of its levels."""
    level, n = len(counters), counters[-1]
    if lang == "zh":
        number = chinese_number(n)
        return (f"{number}、", f"（{number}）", f"{n}.", f"（{n}）")[level - 1]
    if level == 4:
        return f"({chr(ord('a') + (n - 1) % 26)})"
    return ".".join(str(c) for c in counters) + ("." if level == 1 else "")


def figure_label(n: int, lang: str) -> str:
    """图1 in Chinese, Figure 1 in English (figures are numbered through the document)."""
    return f"图{n}" if lang == "zh" else f"Figure {n}"


def numbered(document: Document) -> Document:
    """The document with its section, heading and figure labels filled in (the same in PDF
    and Word).

    A heading the writer numbered already ("一、概况") keeps its own number and is not counted.
    """
    counters = [0] * MAX_LEVEL

    def label(text: str, level: int) -> str:
        if _ALREADY_NUMBERED.match(text):
            return ""
        counters[level - 1] += 1
        for deeper in range(level, MAX_LEVEL):
            counters[deeper] = 0
        return heading_label([max(c, 1) for c in counters[:level - 1]] + [counters[level - 1]],
                             document.lang)

    figures = iter(range(1, 10_000))

    def numbered_block(block: Block) -> Block:
        if isinstance(block, Heading):
            return replace(block, label=label(block.text, block.level))
        if isinstance(block, Figure):
            return replace(block, label=figure_label(next(figures), document.lang))
        return block

    sections = []
    for section in document.sections:
        section_label = label(section.heading, 1) if section.heading else ""
        blocks = tuple(numbered_block(block) for block in section.blocks)
        sections.append(replace(section, label=section_label, blocks=blocks))
    return replace(document, sections=tuple(sections))


def labelled(label: str, text: str, lang: str) -> str:
    if not label:
        return text
    return f"{label}{text}" if lang == "zh" and not label[-1].isdigit() else f"{label} {text}"


# --- Markdown ---------------------------------------------------------------------------------


def markdown_blocks(text: str | None, level: int = 2) -> list[Block]:
    """Blocks of Markdown typed by a user (the parser of :mod:`portal.markdown`).

    The text's biggest heading becomes a heading of ``level``, smaller ones the levels below
    (at most 4); images are their alt text, links their text followed by the address.
    """
    tokens = markdown_tokens(text)
    top = min((int(t.tag[1]) for t in tokens if t.type == "heading_open"), default=1)
    blocks: list[Block] = []
    lists: list[dict] = []  # the open (sub)lists: ordered?, next number, id
    items: list[ListItem] = []
    list_ids = iter(range(1, 10_000))
    table: dict | None = None
    quote = 0
    heading_level = 0
    for index, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            heading_level = min(level + int(token.tag[1]) - top, MAX_LEVEL)
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None
            lists.append({"next": start, "id": next(list_ids)})
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                blocks.append(ListBlock(tuple(items)))
                items = []
        elif kind == "list_item_open":
            lists[-1]["item_started"] = False
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "table_open":
            table = {"header": (), "rows": [], "align": [], "row": []}
        elif kind == "tr_open":
            table["row"] = []
        elif kind == "tr_close":
            if table["header"]:
                table["rows"].append(tuple(table["row"]))
            else:  # the first row is the header row
                table["header"] = tuple(table["row"])
        elif kind == "th_open":
            style = token.attrGet("style") or ""
            table["align"].append(style.removeprefix("text-align:") or "left")
        elif kind == "table_close":
            blocks.append(Table(table["header"], tuple(table["rows"]),
                                align=tuple(table["align"])))
            table = None
        elif kind == "inline":
            content = _inline_runs(token.children or [])
            parent = tokens[index - 1].type
            if parent == "heading_open":
                blocks.append(Heading(plain(content).strip(), heading_level))
            elif parent in ("th_open", "td_open"):
                table["row"].append(content)
            elif lists:
                current = lists[-1]
                if not current.get("item_started"):
                    current["item_started"] = True
                    items.append(ListItem(content, len(lists) - 1, current["next"],
                                          current["id"]))
                    if current["next"] is not None:
                        current["next"] += 1
                else:  # a second paragraph of one item: a line of it
                    last = items.pop()
                    items.append(replace(last, runs=last.runs + (Run("\n"),) + content))
            elif content:
                blocks.append(Paragraph(content, indent=not quote, quote=bool(quote)))
        elif kind in ("fence", "code_block"):
            code = token.content.rstrip("\n")
            blocks.append(Paragraph((Run(code, code=True),), indent=False, quote=True))
    return blocks


def _inline_runs(children) -> Runs:
    out: list[Run] = []
    bold = italic = strike = 0
    link: list[str] = []
    for child in children:
        kind = child.type
        if kind == "text":
            out.append(Run(child.content, bold > 0, italic > 0, strike > 0))
        elif kind == "code_inline":
            out.append(Run(child.content, bold > 0, italic > 0, strike > 0, code=True))
        elif kind in ("softbreak", "hardbreak"):
            out.append(Run("\n"))
        elif kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic -= 1
        elif kind == "s_open":
            strike += 1
        elif kind == "s_close":
            strike -= 1
        elif kind == "link_open":
            link.append(child.attrGet("href") or "")
        elif kind == "link_close":
            href = link.pop()
            shown = out[-1].text if out else ""
            if href and href != shown and not href.startswith("mailto:"):
                out.append(Run(f" ({href})"))
        elif kind == "image":
            out.append(Run("".join(c.content for c in child.children or [])))
    merged: list[Run] = []
    for run in out:  # neighbours with the same emphasis become one run
        if merged and replace(merged[-1], text="") == replace(run, text=""):
            merged[-1] = replace(run, text=merged[-1].text + run.text)
        elif run.text:
            merged.append(run)
    return tuple(merged)


# --- PDF --------------------------------------------------------------------------------------


@cache
def _no_fetching():
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        """Refuses every URL but a ``data:`` one (a figure's image inline in the HTML), which
        reads neither a file nor the network."""

        def __init__(self):
            super().__init__(allowed_protocols=("data",), allow_redirects=False)

        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                raise ValueError(f"documents load no external resource ({url})")
            return super().fetch(url, headers)

    return NoFetching


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_fetching()()).write_pdf()


def render_pdf(document: Document) -> bytes:
    """The document as PDF: ``documents/official.html`` rendered by WeasyPrint."""
    html = render_template(
        "documents/official.html", doc=numbered(document), labelled=labelled,
        fonts={name: css_stack(name) for name in FONTS}, heading_fonts=HEADING_FONTS,
        margins=MARGINS_MM, line=LINE_PITCH, char_spacing=CHAR_SPACING, red=RED,
        body_pt=BODY_PT, title_pt=TITLE_PT, page_number_pt=PAGE_NUMBER_PT, table_pt=TABLE_PT)
    return html_to_pdf(html)


def document_response(document: Document, stem: str, kind: str) -> Response:
    """The document as a private download, ``kind`` "pdf" or "docx" (one route serves both)."""
    if kind == "docx":
        return docx_response(render_docx(document), f"{stem}.docx")
    return pdf_response(render_pdf(document), f"{stem}.pdf")


def pdf_response(data: bytes, filename: str) -> Response:
    """A private download (never cached by a proxy)."""
    return _download(data, "application/pdf", filename)


def docx_response(data: bytes, filename: str) -> Response:
    return _download(data, DOCX_MIMETYPE, filename)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Word -------------------------------------------------------------------------------------


def render_docx(document: Document) -> bytes:
    """The document as a Word file (python-docx) with the same structure as the PDF."""
    from docx import Document as WordDocument

    doc = numbered(document)
    word = WordDocument()
    _WordBuilder(word, doc).build()
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


class _WordBuilder:
    """Page setup, styles, font table and body of one Word document."""

    def __init__(self, word, document: Document):
        self.word = word
        self.doc = document
        self.zh = document.lang == "zh"

    def build(self) -> None:
        self._page()
        self._styles()
        self._font_table()
        self._masthead()
        self._title()
        for section in self.doc.sections:
            if section.heading:
                self._heading_text(labelled(section.label, section.heading, self.doc.lang), 1)
            for block in section.blocks:
                getattr(self, f"_{block.kind}")(block)
        if self.doc.signature is not None:
            self._signature(self.doc.signature)

    # page: A4, the GB/T margins, the line grid, page numbers on the outer side
    def _page(self) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm, Pt

        self.word.settings.odd_and_even_pages_header_footer = True
        for section in self.word.sections:
            section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
            section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), \
                Mm(MARGINS_MM["bottom"])
            section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), \
                Mm(MARGINS_MM["right"])
            section.header_distance = Mm(15)
            # the page number's top 7 mm below the text block
            section.footer_distance = Mm(MARGINS_MM["bottom"] - 7) - Pt(PAGE_NUMBER_PT * 1.3)
            grid = section._sectPr.find(qn("w:docGrid"))
            if grid is None:
                grid = OxmlElement("w:docGrid")
                section._sectPr.append(grid)
            # a line grid (22 lines); the 28 characters come from the character spacing
            # of the defaults, which Word and LibreOffice both honour, where a character
            # grid is drawn differently by each
            grid.set(qn("w:type"), "lines")
            grid.set(qn("w:linePitch"), str(round(LINE_PITCH * 20)))
            grid.attrib.pop(qn("w:charSpace"), None)
            for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                                  (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
                footer.is_linked_to_previous = False
                paragraph = footer.paragraphs[0]
                paragraph.alignment = align
                fmt = paragraph.paragraph_format
                if align == WD_ALIGN_PARAGRAPH.RIGHT:
                    fmt.right_indent = Pt(PAGE_NUMBER_PT)  # one character in
                else:
                    fmt.left_indent = Pt(PAGE_NUMBER_PT)
                self._font(paragraph.add_run("— "), "song", PAGE_NUMBER_PT)
                self._page_field(paragraph)
                self._font(paragraph.add_run(" —"), "song", PAGE_NUMBER_PT)

    def _page_field(self, paragraph) -> None:
        """The PAGE field as runs (begin, instruction, separator, "1", end)."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        for tag, value in (("w:fldChar", "begin"), ("w:instrText", " PAGE "),
                           ("w:fldChar", "separate"), ("w:t", "1"), ("w:fldChar", "end")):
            element = OxmlElement(tag)
            if tag == "w:fldChar":
                element.set(qn("w:fldCharType"), value)
            else:
                element.text = value
                element.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            self._font(paragraph.add_run(), "song", PAGE_NUMBER_PT)._r.append(element)

    def _styles(self) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Pt, RGBColor

        styles = self.word.styles

        # The defaults: the line grid counts characters of this size, Chinese is zh-CN.
        defaults = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(
            qn("w:rPr"))
        self._rfonts(defaults, "body")
        for name in ("w:sz", "w:szCs"):
            defaults.find(qn(name)).set(qn("w:val"), str(BODY_PT * 2))
        if self.zh:
            spacing = OxmlElement("w:spacing")
            spacing.set(qn("w:val"), str(round(CHAR_SPACING * 20)))
            defaults.find(qn("w:sz")).addprevious(spacing)
        language = defaults.find(qn("w:lang"))
        language.set(qn("w:val"), "zh-CN" if self.zh else "en-GB")
        language.set(qn("w:eastAsia"), "zh-CN")

        def setup(style, font: str, size: float, bold: bool = False,
                  indent: bool | None = False, exact: bool = True):
            style.font.size = Pt(size)
            style.font.bold = bold
            style.font.italic = False
            style.font.color.rgb = RGBColor(0, 0, 0)
            self._style_fonts(style, font)
            fmt = style.paragraph_format
            fmt.space_before = fmt.space_after = Pt(0)
            if exact:
                fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                fmt.line_spacing = Pt(LINE_PITCH)
            else:
                fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
            if indent is not None:  # None: lists keep the hanging indent of their numbering
                fmt.first_line_indent = Pt(2 * size) if indent else Pt(0)
            ppr = style.element.pPr
            if ppr is not None:
                for border in ppr.findall(qn("w:pBdr")):
                    ppr.remove(border)
            return style

        setup(styles["Normal"], "body", BODY_PT)
        body = setup(styles["Body Text"], "body", BODY_PT, indent=True)
        body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        title = setup(styles["Title"], "title", TITLE_PT, bold=True)
        title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.space_after = Pt(LINE_PITCH)
        rpr = title.element.rPr
        for name in ("w:spacing", "w:kern"):  # the template spaces the title's letters out
            for element in rpr.findall(qn(name)):
                rpr.remove(element)
        for level, (font, bold) in HEADING_FONTS.items():
            heading = setup(styles[f"Heading {level}"], font, BODY_PT, bold=bold, indent=True)
            heading.paragraph_format.keep_with_next = True
        setup(styles["Quote"], "body", BODY_PT).paragraph_format.left_indent = Pt(2 * BODY_PT)
        for name in ("List Bullet", "List Bullet 2", "List Bullet 3", "List Number",
                     "List Number 2", "List Number 3"):
            setup(styles[name], "body", BODY_PT, indent=None)
        setup(styles["Table Grid"], "body", TABLE_PT, exact=False)

    def _style_fonts(self, style, font: str) -> None:
        self._rfonts(style.element.get_or_add_rPr(), font)

    def _rfonts(self, rpr, font: str, code: bool = False) -> None:
        from docx.oxml.ns import qn

        fonts = rpr.get_or_add_rFonts()
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
        latin = CODE_FONT if code else LATIN_FONT
        fonts.set(qn("w:ascii"), latin)
        fonts.set(qn("w:hAnsi"), latin)
        fonts.set(qn("w:eastAsia"), FONTS[font][0])
        fonts.set(qn("w:hint"), "eastAsia")

    def _font(self, run, font: str, size: float | None = None, code: bool = False):
        from docx.shared import Pt

        self._rfonts(run._element.get_or_add_rPr(), font, code)
        if size:
            run.font.size = Pt(size)
        return run

    def _font_table(self) -> None:
        """Each first font of a stack is listed with the next one as its ``altName``."""
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.opc.oxml import serialize_part_xml
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn

        part = self.word.part.part_related_by(RT.FONT_TABLE)
        table = parse_xml(part.blob)
        present = {font.get(qn("w:name")) for font in table}
        for stack in FONTS.values():
            if stack[0] in present:
                continue
            present.add(stack[0])
            table.append(parse_xml(
                f'<w:font {nsdecls("w")} w:name="{stack[0]}"><w:altName w:val="{stack[1]}"/>'
                '<w:charset w:val="86"/><w:family w:val="roman"/><w:pitch w:val="variable"/>'
                "</w:font>"))
        part._blob = serialize_part_xml(table)

    # body
    def _masthead(self) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt, RGBColor

        mark = self.word.add_paragraph()
        mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt = mark.paragraph_format
        fmt.line_spacing_rule = None
        fmt.line_spacing = 1.0
        run = self._font(mark.add_run(self.doc.mark), "title", 30 if self.zh else BODY_PT)
        run.font.color.rgb = RGBColor.from_string(RED)
        run.bold = True
        last = mark
        if self.doc.number:
            number = self.word.add_paragraph()
            number.alignment = WD_ALIGN_PARAGRAPH.CENTER
            number.paragraph_format.space_before = Pt(LINE_PITCH)
            self._font(number.add_run(self.doc.number), "body")
            last = number
        self._red_rule(last)

    def _red_rule(self, paragraph) -> None:
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls

        ppr = paragraph._p.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="12" '
                             f'w:space="11" w:color="{RED}"/></w:pBdr>'))

    def _title(self) -> None:
        from docx.shared import Pt

        title = self.word.add_paragraph(style="Title")
        title.paragraph_format.space_before = Pt(2 * LINE_PITCH)
        self._add_runs(title, runs(self.doc.display_title), "title")

    def _heading_text(self, text: str, level: int) -> None:
        paragraph = self.word.add_paragraph(style=f"Heading {level}")
        self._add_runs(paragraph, runs(text), HEADING_FONTS[level][0])

    def _add_runs(self, paragraph, content: Runs, font: str = "body",
                  size: float | None = None) -> None:
        for item in content:
            for n, line in enumerate(item.text.split("\n")):
                if n:
                    paragraph.add_run().add_break()
                if not line:
                    continue
                run = self._font(paragraph.add_run(line), font, size, code=item.code)
                if item.bold:
                    run.bold = True
                if item.italic:
                    run.italic = True
                if item.strike:
                    run.font.strike = True

    def _heading(self, block: Heading) -> None:
        self._heading_text(labelled(block.label, block.text, self.doc.lang), block.level)

    def _paragraph(self, block: Paragraph) -> None:
        style = "Quote" if block.quote else "Body Text"
        paragraph = self.word.add_paragraph(style=style)
        if not block.indent and not block.quote:
            from docx.shared import Pt

            paragraph.paragraph_format.first_line_indent = Pt(0)
        self._add_runs(paragraph, block.runs)

    def _list(self, block: ListBlock) -> None:
        numbering = self.word.part.numbering_part.element
        nums: dict[int, int] = {}
        for item in block.items:
            depth = min(item.depth, 2)
            name = ("List Number" if item.number is not None else "List Bullet") + (
                f" {depth + 1}" if depth else "")
            paragraph = self.word.add_paragraph(style=name)
            if item.number is not None:
                # every numbered list starts from its own first number
                if item.list_id not in nums:
                    style_num = self.word.styles[name].element.pPr.numPr
                    abstract = numbering.num_having_numId(style_num.numId.val).abstractNumId.val
                    num = numbering.add_num(abstract)
                    ilvl = style_num.ilvl.val if style_num.ilvl is not None else 0
                    override = num.add_lvlOverride(ilvl=ilvl)
                    override.add_startOverride(item.number)
                    nums[item.list_id] = num.numId
                num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                num_pr.get_or_add_numId().val = nums[item.list_id]
                style_ilvl = self.word.styles[name].element.pPr.numPr.ilvl
                num_pr.get_or_add_ilvl().val = style_ilvl.val if style_ilvl is not None else 0
            self._add_runs(paragraph, item.runs)

    def _table(self, block: Table) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls
        from docx.shared import Pt

        columns = len(block.header)
        table = self.word.add_table(rows=1, cols=columns)
        table.style = self.word.styles["Table Grid"]
        table.autofit = False
        table._tbl.tblPr.append(parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'))
        widths = [Pt(TEXT_WIDTH_PT * p / 100) for p in block.percentages()]
        aligns = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                  "right": WD_ALIGN_PARAGRAPH.RIGHT}
        header = table.rows[0]
        header._tr.get_or_add_trPr().append(  # repeated at the top of every page
            parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
        for row_cells, cells, bold in [(header.cells, block.header, True)] + [
                (None, row, False) for row in block.rows]:
            if row_cells is None:
                row = table.add_row()
                row._tr.get_or_add_trPr().append(  # a row is never split over two pages
                    parse_xml(f'<w:cantSplit {nsdecls("w")}/>'))
                row_cells = row.cells
            for column, (cell, content) in enumerate(zip(row_cells, cells, strict=False)):
                cell.width = widths[column]
                paragraph = cell.paragraphs[0]
                paragraph.alignment = aligns.get(block.alignment(column))
                # single lines in a table, not the body's line grid
                paragraph.paragraph_format.line_spacing = 1.15
                paragraph._p.get_or_add_pPr().append(
                    parse_xml(f'<w:snapToGrid {nsdecls("w")} w:val="0"/>'))
                self._add_runs(paragraph, tuple(replace(r, bold=r.bold or bold)
                                                for r in content), "body", TABLE_PT)
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        spacer = self.word.add_paragraph()  # Word joins adjacent tables; keep them apart
        spacer.paragraph_format.line_spacing = Pt(TABLE_PT)

    def _figure(self, block: Figure) -> None:
        """The image across the text block, its caption centred below it, then its table."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls
        from docx.shared import Pt

        picture = self.word.add_paragraph()
        fmt = picture.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.first_line_indent = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE  # an exact line would clip the image
        fmt.space_before = Pt(LINE_PITCH / 2)
        fmt.keep_with_next = True
        picture._p.get_or_add_pPr().append(parse_xml(f'<w:snapToGrid {nsdecls("w")} w:val="0"/>'))
        picture.add_run().add_picture(io.BytesIO(block.image), width=Pt(TEXT_WIDTH_PT))
        caption = self.word.add_paragraph()
        fmt = caption.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.first_line_indent = Pt(0)
        fmt.keep_with_next = block.table is not None
        self._add_runs(caption, runs(block.caption_text(self.doc.lang)), "hei", TABLE_PT)
        if block.table is not None:
            self._table(block.table)

    def _signature(self, signature: Signature) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        for n, text in enumerate((signature.issuer, signature.date_text)):
            paragraph = self.word.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            fmt = paragraph.paragraph_format
            fmt.right_indent = Pt(4 * BODY_PT)  # 成文日期右空四字
            fmt.keep_with_next = n == 0
            if n == 0:  # one empty line below the text
                fmt.space_before = Pt(LINE_PITCH)
            self._font(paragraph.add_run(text), "body")

