"""The official-document mechanism (portal/documents.py): Markdown to blocks, GB/T 9704
numbering, and one document rendered to PDF and Word in the GB/T layout."""

from __future__ import annotations

import re
from datetime import date

import pytest
from docx.enum.text import WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn

from portal.documents import (
    FONTS,
    LINE_PITCH,
    Document,
    Heading,
    ListBlock,
    Paragraph,
    Run,
    Section,
    Signature,
    Table,
    chinese_number,
    markdown_blocks,
    numbered,
    render_docx,
    render_pdf,
    runs,
)
from tests.documents import (
    assert_a4,
    assert_no_overlap,
    assert_page_numbers,
    assert_word_layout,
    headings,
    page_images,
    red_pixels,
    text_lines,
    word,
    word_texts,
)

MINUTES_MD = """## 议题讨论

监督员反映**2号楼三楼**卫生间午间积水，*王建华*说明了原因。

- 供应商说明：午间人员不足
- 机管局要求：__高峰时段__，增加巡查
  1. 第一步
  2. 第二步

3. 每日巡查
4. 每周抽查

| 项目 | 得分 |
|:--|--:|
| 保洁 | **95** |

### 下一步
见[通知](https://example.gov.cn/notice)，图片![现场照片](x.png)。
"""


def test_markdown_becomes_headings_runs_lists_and_tables(app):
    with app.test_request_context():
        blocks = markdown_blocks(MINUTES_MD, level=3)
    assert blocks[0] == Heading("议题讨论", 3)
    assert blocks[1] == Paragraph((Run("监督员反映"), Run("2号楼三楼", bold=True),
                                   Run("卫生间午间积水，"), Run("王建华", italic=True),
                                   Run("说明了原因。")))
    bullets, numbers = blocks[2], blocks[3]
    assert isinstance(bullets, ListBlock) and isinstance(numbers, ListBlock)
    assert [(i.depth, i.number, i.marker) for i in bullets.items] == [
        (0, None, "•"), (0, None, "•"), (1, 1, "1."), (1, 2, "2.")]
    assert bullets.items[1].runs == (Run("机管局要求："), Run("高峰时段", bold=True),
                                     Run("，增加巡查"))
    # an ordered list keeps its own start number
    assert [i.number for i in numbers.items] == [3, 4]
    assert numbers.items[0].list_id != bullets.items[2].list_id
    table = blocks[4]
    assert isinstance(table, Table)
    assert table.header == ((Run("项目"),), (Run("得分"),))
    assert table.rows == (((Run("保洁"),), (Run("95", bold=True),)),)
    assert table.align == ("left", "right")
    assert blocks[5] == Heading("下一步", 4)
    assert blocks[6].runs == (Run("见通知 (https://example.gov.cn/notice)，图片现场照片。"),)
    assert len(blocks) == 7
    quoted = markdown_blocks("> 引用一段\n\n```\nflask tick\n```")
    assert quoted == [Paragraph((Run("引用一段"),), indent=False, quote=True),
                      Paragraph((Run("flask tick", code=True),), indent=False, quote=True)]


def test_headings_are_numbered_in_the_gbt_order(app):
    assert [chinese_number(n) for n in (1, 9, 10, 12, 20, 35)] == [
        "一", "九", "十", "十二", "二十", "三十五"]

    def labels(lang):
        doc = Document(title="t", lang=lang, sections=(
            Section("概况", (Heading("甲", 2), Heading("细", 3), Heading("末", 4),
                           Heading("乙", 2), Heading("一、已编号", 2), Heading("丙", 2))),
            Section("议程", (Heading("丁", 2),))))
        doc = numbered(doc)
        return [s.label for s in doc.sections], [
            b.label for s in doc.sections for b in s.blocks]

    with app.test_request_context():
        assert labels("zh") == (["一、", "二、"],
                                ["（一）", "1.", "（1）", "（二）", "", "（三）", "（一）"])
        assert labels("en") == (["1.", "2."], ["1.1", "1.1.1", "(a)", "1.2", "", "1.3", "2.1"])


def _report(lang: str) -> Document:
    """The shape of a half-year work report: numbered, sections of every kind of block."""
    rows = tuple((runs(str(n)), runs("会议中心对外开放，承接各类会议和宴席" * 2),
                  runs(f"2026-{n % 12 + 1:02d}-15")) for n in range(1, 41))
    return Document(
        title="2026年上半年工作总结", number="区机管〔2026〕12号", lang=lang,
        sections=(
            Section("主要工作", (
                Heading("会议服务", 2),
                *markdown_blocks(MINUTES_MD, level=3),
                Paragraph(runs("上半年共承办各类会议二百三十余批次。" * 6)),
                Table((runs("序号"), runs("事项"), runs("日期")), rows, widths=(1, 6, 2)),
            )),
            Section("下半年打算", (Paragraph(runs("继续提高服务质量。")),)),
        ),
        signature=Signature("区机关事务管理局", date(2026, 12, 6)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_document_as_pdf_is_a4_numbered_red_headed_and_nothing_overprints(
        app, tmp_path, lang):
    with app.test_request_context(f"/?lang={lang}"):
        pdf = render_pdf(_report(lang))
    pages = assert_a4(pdf)
    assert pages == 5  # the 40-row table (two lines a row) runs over four pages
    lines = text_lines(pdf, tmp_path)
    assert_no_overlap(lines)
    assert_page_numbers(lines, pages)
    texts = [line.text for line in lines]
    assert "区机管〔2026〕12号" in texts
    assert ("2026年12月6日" if lang == "zh" else "December 6, 2026") in texts
    if lang == "zh":
        assert "一、主要工作" in texts and "（一）会议服务" in texts and "1.议题讨论" in texts
    else:
        assert "1. 主要工作" in texts and "1.1 会议服务" in texts
    # the date column is wide enough for a date on one line
    assert sum("2026-" in text for text in texts) >= 40
    # the issuing body's mark is red, at the top of the first page only
    images = page_images(pdf, tmp_path)
    assert len(images) == pages  # A4 at 30 dpi: 248 × 351 pixels, rounded up
    assert {image.size for image in images} <= {(248, 351), (249, 351), (249, 352)}
    assert red_pixels(images[0], 0.1, 0.25) > 50
    assert red_pixels(images[1], 0.0, 1.0) == 0


def test_22_lines_of_28_characters_on_a_page(app, tmp_path):
    with app.test_request_context():
        pdf = render_pdf(Document(title="版心", sections=(
            Section(None, (Paragraph(runs("机" * 28 * 40), indent=False),)),)))
    lines = [line for line in text_lines(pdf, tmp_path)
             if line.page == 2 and set(line.text) == {"机"}]
    assert len(lines) == 22
    assert {len(line.text) for line in lines[:-1]} == {28}
    pitch = (lines[-1].y0 - lines[0].y0) / 21
    assert abs(pitch - LINE_PITCH) < 0.1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_same_document_as_word(app, lang):
    with app.test_request_context(f"/?lang={lang}"):
        document = word(render_docx(_report(lang)))
    assert_word_layout(document)
    texts = word_texts(document)
    assert texts[0] == "区机关事务管理局" if lang == "zh" else "District Administrative Affairs " \
        "Management Bureau"
    assert "区机管〔2026〕12号" in texts
    assert ("2026年12月6日" if lang == "zh" else "December 6, 2026") in texts
    expected = [("Heading 1", "一、主要工作"), ("Heading 2", "（一）会议服务"),
                ("Heading 3", "1.议题讨论"), ("Heading 4", "（1）下一步"),
                ("Heading 1", "二、下半年打算")] if lang == "zh" else [
        ("Heading 1", "1. 主要工作"), ("Heading 2", "1.1 会议服务"),
        ("Heading 3", "1.1.1 议题讨论"), ("Heading 4", "(a) 下一步"),
        ("Heading 1", "2. 下半年打算")]
    assert headings(document) == expected
    title = next(p for p in document.paragraphs if p.style.name == "Title")
    assert title.text == "2026年上半年工作总结"
    # runs keep their emphasis; lists are Word lists, each numbered list from its own start
    paragraph = next(p for p in document.paragraphs if p.text.startswith("监督员反映"))
    assert [(r.text, bool(r.bold), bool(r.italic)) for r in paragraph.runs] == [
        ("监督员反映", False, False), ("2号楼三楼", True, False),
        ("卫生间午间积水，", False, False), ("王建华", False, True), ("说明了原因。", False, False)]
    styles = {p.text: p.style.name for p in document.paragraphs}
    assert styles["供应商说明：午间人员不足"] == "List Bullet"
    assert styles["第一步"] == "List Number 2" and styles["每日巡查"] == "List Number"
    starts = {p.text: _start(document, p) for p in document.paragraphs
              if p.text in ("第一步", "每日巡查")}
    assert starts == {"第一步": 1, "每日巡查": 3}
    # the Markdown table and the report's table, with the header row repeated on each page
    assert len(document.tables) == 2
    assert [c.text for c in document.tables[1].rows[0].cells] == ["序号", "事项", "日期"]
    assert document.tables[1].rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    widths = [cell.width for cell in document.tables[1].rows[1].cells]
    assert round(widths[1] / widths[2], 2) == 3 and round(widths[1] / widths[0], 2) == 6


def _start(document, paragraph) -> int:
    num_id = paragraph._p.pPr.numPr.numId.val
    numbering = document.part.numbering_part.element
    num = numbering.num_having_numId(num_id)
    return int(num.find(qn("w:lvlOverride")).find(qn("w:startOverride")).get(qn("w:val")))


def test_word_fonts_sizes_grid_and_page_numbers(app):
    with app.test_request_context():
        document = word(render_docx(_report("zh")))
    styles = document.styles
    body = styles["Body Text"]
    assert body.font.size.pt == 16
    assert body.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert abs(body.paragraph_format.line_spacing.pt - LINE_PITCH) < 0.05
    assert styles["Title"].font.size.pt == 22
    assert styles["Title"].element.rPr.find(qn("w:spacing")) is None  # not letter-spaced

    def east_asian(style):
        return style.element.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asian(body) == "仿宋_GB2312" and east_asian(styles["Title"]) == "方正小标宋简体"
    assert east_asian(styles["Heading 1"]) == "黑体"
    assert east_asian(styles["Heading 2"]) == "楷体_GB2312"
    # the font table names the next font of each stack for Word to use in its place
    part = document.part.part_related_by(RT.FONT_TABLE)
    for stack in FONTS.values():
        assert f'w:name="{stack[0]}"><w:altName w:val="{stack[1]}"/>' in part.blob.decode() \
            or stack[0] in ("宋体",)
    # 16 pt characters 0.25 pt closer: 28 to a line of 156 mm
    defaults = document.styles.element.find(qn("w:docDefaults")).find(
        qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:sz")).get(qn("w:val")) == "32"
    assert defaults.find(qn("w:spacing")).get(qn("w:val")) == "-5"
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    section = document.sections[0]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == str(round(LINE_PITCH * 20))
    # "— 1 —" on the outer side: odd pages right, even pages left
    assert document.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        assert "PAGE" in [e.text.strip() for e in footer._element.iter(qn("w:instrText"))]
        assert footer.paragraphs[0].text == "— 1 —"
    assert section.footer.paragraphs[0].alignment == 2  # right
    assert section.even_page_footer.paragraphs[0].alignment == 0  # left


@pytest.mark.parametrize("lang, caption", [("zh", "图2\u3000每月收缴租金"),
                                           ("en", "Figure 2. 每月收缴租金")])
def test_figures_are_images_with_numbered_captions_and_tables_in_word_and_pdf(
        app, tmp_path, lang, caption):
    import subprocess

    from docx.shared import Pt

    from portal.charts import bar_chart, line_chart
    from portal.documents import TEXT_WIDTH_PT, chart_figure

    with app.test_request_context(f"/?lang={lang}"):
        figures = (chart_figure(line_chart([("2026-03", 91.5)], unit="%"), "满意率",
                                "轮次", "满意率"),
                   chart_figure(bar_chart([("1月", 1200), ("2月", 800)]), "每月收缴租金",
                                "月份", "租金（元）"))
        document = Document(title="图表", sections=(Section("一", (figures[0],)),
                                                    Section("二", (figures[1],))))
        docx = word(render_docx(document))
        pdf = render_pdf(document)
    # Word: two pictures across the text block, their captions, each followed by its table
    assert len(docx.inline_shapes) == 2
    assert all(abs(shape.width - Pt(TEXT_WIDTH_PT)) < Pt(1) for shape in docx.inline_shapes)
    assert caption in [p.text for p in docx.paragraphs]
    assert [[cell.text for cell in row.cells] for row in docx.tables[1].rows] == [
        ["月份", "租金（元）"], ["1月", "1200"], ["2月", "800"]]
    # PDF: the two images embedded (WeasyPrint fetched the data: URIs), the caption as text
    source = tmp_path / "figures.pdf"
    source.write_bytes(pdf)
    images = subprocess.run(["pdfimages", "-list", str(source)], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]
    assert len(images) == 2 and all(" 1280 " in line and " 480 " in line for line in images)
    text = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, text=True,
                          check=True).stdout
    def flat(value: str) -> str:
        return re.sub(r"[\s\u3000]", "", value)
    assert flat(caption) in flat(text)
    assert "1200" in text


def test_rendering_reads_data_uris_only(app):
    from portal import documents as portal_documents

    fetcher = portal_documents._no_fetching()()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    for url in ("file:///etc/passwd", "http://169.254.169.254/", "DATA:x;file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
