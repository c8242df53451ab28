#!/usr/bin/env python3
"""Build the policyqa sample corpus: convert ``corpus-src/*.md`` to PDFs in ``corpus/``.

Usage::

    python scripts/build_corpus_pdfs.py [--src corpus-src] [--out corpus] [--check] [FILES...]

Every ``<src>/*.md`` (or only the given FILES) is rendered to ``<out>/<stem>.pdf`` with
reportlab, except the names in ``KEEP_AS_MARKDOWN``, which are copied byte-for-byte.
Output is reproducible: the same input gives byte-identical PDFs (reportlab
``invariant`` mode, no timestamps or random document ids).

Supported Markdown subset: ``#``/``##``/``###`` headings, paragraphs (consecutive
lines are joined), ``- `` bullet lists (and ``1.`` numbered items), lines starting
with ``□``/``○`` (government-style items with a hanging indent), ``> `` blockquotes,
pipe tables, ``---`` rules and ``**bold**`` inline.  All text is set in NanumGothic
(Debian ``fonts-nanum``) so Korean glyphs are embedded.

``--check`` re-reads every PDF with pypdf and verifies that the text is extractable,
free of replacement characters / missing glyphs, and covers >= 98% of the source's
Hangul syllables and Latin letters in order.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

KEEP_AS_MARKDOWN = {"timeline-ko.md"}

AUTHOR = "policyqa sample corpus (illustrative compilation)"
FONT_DIR = Path("/usr/share/fonts/truetype/nanum")
FONT_REGULAR = "NanumGothic"
FONT_BOLD = "NanumGothicBold"
MARGIN = 2 * cm
MIN_COVERAGE = 98.0

BlockKind = Literal["heading", "para", "bullet", "item", "quote", "table", "rule"]


@dataclass
class Block:
    """One block-level Markdown element."""

    kind: BlockKind
    text: str = ""
    level: int = 0  # heading level, list nesting level or □/○ depth
    marker: str = ""  # bullet text for lists / □ ○ items
    rows: list[list[str]] = field(default_factory=list)  # table rows, header first
    aligns: list[str] = field(default_factory=list)  # table column alignment: LEFT/CENTER/RIGHT


# --------------------------------------------------------------------------- fonts


def register_fonts() -> None:
    """Register NanumGothic regular/bold as one family, or exit with a clear message."""
    if FONT_REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    paths = {name: FONT_DIR / f"{name}.ttf" for name in (FONT_REGULAR, FONT_BOLD)}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        sys.exit(
            f"error: font file(s) not found: {', '.join(missing)}\n"
            "install Debian's fonts-nanum (apt-get install fonts-nanum)"
        )
    for name, path in paths.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(
        FONT_REGULAR, normal=FONT_REGULAR, bold=FONT_BOLD, italic=FONT_REGULAR, boldItalic=FONT_BOLD
    )


def font_has_char(char: str) -> bool:
    font = pdfmetrics.getFont(FONT_REGULAR)
    assert isinstance(font, TTFont)
    return ord(char) in font.face.charToGlyph


# ------------------------------------------------------------------------- parsing

HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET_RE = re.compile(r"^(\s*)([-*+])\s+(.*)$")
ORDERED_RE = re.compile(r"^(\s*)(\d{1,3}[.)])\s+(.*)$")
ITEM_RE = re.compile(r"^\s*([□○])\s*(.*)$")
QUOTE_RE = re.compile(r"^\s*>\s?(.*)$")
RULE_RE = re.compile(r"^\s*(?:-\s*){3,}$|^\s*(?:\*\s*){3,}$|^\s*(?:_\s*){3,}$")
TABLE_SEP_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
ITEM_LEVEL = {"□": 0, "○": 1}


def is_table_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def split_row(line: str) -> list[str]:
    cells = line.strip()
    cells = cells.removeprefix("|")
    if cells.endswith("|") and not cells.endswith("\\|"):
        cells = cells[:-1]
    parts = re.split(r"(?<!\\)\|", cells)
    return [part.strip().replace("\\|", "|") for part in parts]


def starts_block(lines: list[str], i: int) -> bool:
    """True if ``lines[i]`` cannot be a lazy continuation of the previous block."""
    line = lines[i]
    if not line.strip():
        return True
    if HEADING_RE.match(line) or RULE_RE.match(line) or QUOTE_RE.match(line):
        return True
    if BULLET_RE.match(line) or ORDERED_RE.match(line) or ITEM_RE.match(line):
        return True
    return is_table_row(line) and i + 1 < len(lines) and bool(TABLE_SEP_RE.match(lines[i + 1]))


def collect_continuation(lines: list[str], i: int, first: str) -> tuple[str, int]:
    """Join ``first`` with following lazy-continuation lines; return text and next index."""
    parts = [first.strip()]
    while i < len(lines) and not starts_block(lines, i):
        parts.append(lines[i].strip())
        i += 1
    return " ".join(p for p in parts if p), i


def column_alignment(spec: str) -> str:
    if spec.startswith(":") and spec.endswith(":"):
        return "CENTER"
    return "RIGHT" if spec.endswith(":") else "LEFT"


def parse_table(lines: list[str], i: int) -> tuple[Block, int]:
    header = split_row(lines[i])
    specs = (split_row(lines[i + 1]) + ["-"] * len(header))[: len(header)]
    rows = [header]
    i += 2  # header + separator
    while i < len(lines) and is_table_row(lines[i]):
        cells = split_row(lines[i])
        cells = (cells + [""] * len(header))[: len(header)]
        rows.append(cells)
        i += 1
    return Block("table", rows=rows, aligns=[column_alignment(s) for s in specs]), i


def parse_quote(lines: list[str], i: int) -> tuple[list[Block], int]:
    blocks: list[Block] = []
    current: list[str] = []
    while i < len(lines):
        m = QUOTE_RE.match(lines[i])
        if not m:
            break
        if m.group(1).strip():
            current.append(m.group(1).strip())
        elif current:
            blocks.append(Block("quote", " ".join(current)))
            current = []
        i += 1
    if current:
        blocks.append(Block("quote", " ".join(current)))
    return blocks, i


def parse_markdown(source: str) -> list[Block]:
    lines = source.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif m := HEADING_RE.match(line):
            blocks.append(Block("heading", m.group(2), level=min(len(m.group(1)), 3)))
            i += 1
        elif RULE_RE.match(line):
            blocks.append(Block("rule"))
            i += 1
        elif is_table_row(line) and i + 1 < len(lines) and TABLE_SEP_RE.match(lines[i + 1]):
            block, i = parse_table(lines, i)
            blocks.append(block)
        elif QUOTE_RE.match(line):
            quotes, i = parse_quote(lines, i)
            blocks.extend(quotes)
        elif m := ITEM_RE.match(line):
            text, i = collect_continuation(lines, i + 1, m.group(2))
            mark = m.group(1)
            blocks.append(Block("item", text, level=ITEM_LEVEL[mark], marker=mark))
        elif m := BULLET_RE.match(line) or ORDERED_RE.match(line):
            text, i = collect_continuation(lines, i + 1, m.group(3))
            marker = "•" if m.group(2) in "-*+" else m.group(2)
            level = len(m.group(1).expandtabs(4)) // 2
            blocks.append(Block("bullet", text, level=level, marker=marker))
        else:
            text, i = collect_continuation(lines, i + 1, line)
            blocks.append(Block("para", text))
    return blocks


def document_title(blocks: list[Block], fallback: str) -> str:
    for block in blocks:
        if block.kind == "heading" and block.level == 1:
            return strip_inline(block.text)
    return fallback


# ------------------------------------------------------------------------ rendering


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline_markup(text: str) -> str:
    """Markdown inline text -> reportlab Paragraph markup (escaping + ``**bold**``)."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escape(text))


def strip_inline(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text)


def make_styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body", fontName=FONT_REGULAR, fontSize=10.5, leading=16, alignment=TA_LEFT, spaceAfter=6
    )

    def derive(name: str, **kw: object) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "body": base,
        "h1": derive(
            "h1",
            fontName=FONT_BOLD,
            fontSize=18,
            leading=26,
            alignment=TA_CENTER,
            spaceBefore=4,
            spaceAfter=14,
            keepWithNext=1,
        ),
        "h2": derive(
            "h2",
            fontName=FONT_BOLD,
            fontSize=14,
            leading=20,
            alignment=TA_LEFT,
            spaceBefore=12,
            spaceAfter=6,
            keepWithNext=1,
        ),
        "h3": derive(
            "h3",
            fontName=FONT_BOLD,
            fontSize=12,
            leading=17,
            alignment=TA_LEFT,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "quote": derive(
            "quote",
            fontSize=9.5,
            leading=14,
            leftIndent=0.8 * cm,
            rightIndent=0.5 * cm,
            textColor=colors.HexColor("#555555"),
            borderPadding=(2, 0, 2, 6),
        ),
        "cell": derive("cell", fontSize=9, leading=12.5, alignment=TA_LEFT, spaceAfter=0),
        "head": derive(
            "head", fontName=FONT_BOLD, fontSize=9, leading=12.5, alignment=TA_CENTER, spaceAfter=0
        ),
    }


def hanging_style(base: ParagraphStyle, name: str, indent: float, hang: float) -> ParagraphStyle:
    """Style whose first line starts at ``indent`` and wrapped lines at ``indent + hang``."""
    return ParagraphStyle(
        name, parent=base, leftIndent=indent + hang, firstLineIndent=-hang, spaceAfter=3
    )


def list_paragraph(block: Block, styles: dict[str, ParagraphStyle]) -> Paragraph:
    indent = 0.3 * cm + block.level * 0.6 * cm
    hang = 0.45 * cm if block.marker == "•" else 0.6 * cm
    style = ParagraphStyle(
        f"bullet{block.level}",
        parent=styles["body"],
        leftIndent=indent + hang,
        bulletIndent=indent,
        bulletFontName=FONT_REGULAR,
        spaceAfter=3,
    )
    return Paragraph(inline_markup(block.text), style, bulletText=block.marker)


def item_paragraph(block: Block, styles: dict[str, ParagraphStyle]) -> Paragraph:
    """□ / ○ line: marker kept in the text, wrapped lines aligned after the marker."""
    indent = block.level * 0.5 * cm
    hang = pdfmetrics.stringWidth(block.marker + " ", FONT_REGULAR, styles["body"].fontSize)
    style = hanging_style(styles["body"], f"item{block.level}", indent, hang)
    if block.level == 0:
        style.spaceBefore = 4
    return Paragraph(f"{block.marker} {inline_markup(block.text)}", style)


CELL_ALIGN = {"LEFT": TA_LEFT, "CENTER": TA_CENTER, "RIGHT": TA_RIGHT}


def text_width(text: str, font_size: float) -> float:
    return float(pdfmetrics.stringWidth(strip_inline(text), FONT_BOLD, font_size))


def column_widths(rows: list[list[str]], frame_width: float, font_size: float) -> list[float]:
    """Auto layout like HTML tables: each column gets at least its longest word, spare
    width is shared in proportion to how much more each column's longest cell needs;
    the result always fills the frame width exactly."""
    pad = 10.0  # left + right cell padding, plus a little slack
    columns = list(zip(*rows, strict=True))
    longest = [max(text_width(cell, font_size) for cell in col) + pad for col in columns]
    words = [
        max(text_width(w, font_size) for c in col for w in [*c.split(), ""]) + pad
        for col in columns
    ]
    minimum = [max(w, 1.2 * cm) for w in words]
    if sum(minimum) >= frame_width:  # too many wide words: scale, long words get split
        return [frame_width * w / sum(minimum) for w in minimum]
    if sum(longest) <= frame_width:  # everything fits on one line: stretch proportionally
        maximum = [max(m, w) for m, w in zip(minimum, longest, strict=True)]
        return [frame_width * w / sum(maximum) for w in maximum]
    extra = [max(w - m, 0.0) for w, m in zip(longest, minimum, strict=True)]
    spare = frame_width - sum(minimum)
    return [m + spare * e / sum(extra) for m, e in zip(minimum, extra, strict=True)]


def table_flowable(block: Block, styles: dict[str, ParagraphStyle], frame_width: float) -> Table:
    header, *body = block.rows
    data: list[list[Flowable]] = [[Paragraph(inline_markup(c), styles["head"]) for c in header]]
    cell_styles = [
        ParagraphStyle(f"cell-{a}", parent=styles["cell"], alignment=CELL_ALIGN[a])
        for a in block.aligns
    ]
    data += [
        [Paragraph(inline_markup(c), st) for c, st in zip(row, cell_styles, strict=True)]
        for row in body
    ]
    widths = column_widths(block.rows, frame_width, styles["cell"].fontSize)
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="CENTER")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT_REGULAR, 9),  # else Table selects Helvetica
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#666666")),
                ("LINEABOVE", (0, 0), (-1, 0), 1.2, colors.black),
                ("LINEBELOW", (0, -1), (-1, -1), 1.2, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E8EE")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def block_flowables(
    block: Block, styles: dict[str, ParagraphStyle], frame_width: float
) -> list[Flowable]:
    if block.kind == "heading":
        return [Paragraph(inline_markup(block.text), styles[f"h{block.level}"])]
    if block.kind == "bullet":
        return [list_paragraph(block, styles)]
    if block.kind == "item":
        return [item_paragraph(block, styles)]
    if block.kind == "quote":
        return [Paragraph(inline_markup(block.text), styles["quote"])]
    if block.kind == "table":
        return [Spacer(1, 4), table_flowable(block, styles, frame_width), Spacer(1, 8)]
    if block.kind == "rule":
        rule = HRFlowable(
            width="100%", thickness=0.6, color=colors.grey, spaceBefore=4, spaceAfter=8
        )
        return [rule]
    return [Paragraph(inline_markup(block.text), styles["body"])]


def draw_footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(FONT_REGULAR, 9)
    canvas.setFillColor(colors.HexColor("#444444"))
    canvas.drawCentredString(A4[0] / 2, MARGIN / 2, f"- {doc.page} -")
    canvas.restoreState()


def draw_first_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    # PDF page labels (/PageLabels): arabic numbers starting at 1, matching the footer.
    canvas.addPageLabel(0, "ARABIC", 1)
    draw_footer(canvas, doc)


def contains_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def render_pdf(md_path: Path, pdf_path: Path) -> None:
    source = md_path.read_text(encoding="utf-8")
    blocks = parse_markdown(source)
    doc = SimpleDocTemplate(
        str(pdf_path),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=document_title(blocks, md_path.stem),
        author=AUTHOR,
        creator="scripts/build_corpus_pdfs.py",
        producer="ReportLab",
        subject="",
        lang="ko-KR" if contains_hangul(source) else "en",
        displayDocTitle=1,
        invariant=1,
        initialFontName=FONT_REGULAR,
        pageCompression=1,
    )
    styles = make_styles()
    story: list[Flowable] = []
    for block in blocks:
        story.extend(block_flowables(block, styles, doc.width))
    if not story:
        story.append(Spacer(1, 1))
    doc.build(story, onFirstPage=draw_first_page, onLaterPages=draw_footer)


# ------------------------------------------------------------------------- checking


@dataclass
class CheckResult:
    name: str
    pages: int
    chars: int
    coverage: float
    problems: list[str]
    copied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        status = "OK  " if self.ok else "FAIL"
        detail = f" -- {'; '.join(self.problems)}" if self.problems else ""
        if self.copied:
            return f"{status} {self.name}: copied as Markdown ({self.chars} bytes){detail}"
        return (
            f"{status} {self.name}: {self.pages} pages, {self.chars} chars extracted, "
            f"coverage {self.coverage:.2f}%{detail}"
        )


LETTER_RE = re.compile(r"[\uac00-\ud7a3A-Za-z]")


def letters(text: str) -> str:
    """Hangul syllables and Latin letters only (whitespace and punctuation dropped)."""
    return "".join(LETTER_RE.findall(text))


def normalized_source(source: str) -> str:
    """Markdown text with syntax stripped and all whitespace removed."""
    lines = [ln for ln in source.splitlines() if not TABLE_SEP_RE.match(ln)]
    text = strip_inline("\n".join(lines))
    text = re.sub(r"(?m)^\s*(#{1,6}|>|[-*+]|\d{1,3}[.)])\s+", "", text)
    return re.sub(r"[\s|]+", "", text)


def in_order_coverage(expected: str, actual: str) -> float:
    """Percentage of ``expected`` characters found in ``actual`` in the same order."""
    if not expected:
        return 100.0
    return 100.0 * lcs_length(expected, actual) / len(expected)


def lcs_length(a: str, b: str) -> int:
    """Exact longest-common-subsequence length, bit-parallel (Hyyrö 2004), O(|a|·|b|/w)."""
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def missing_glyphs(source: str) -> list[str]:
    chars = {ch for ch in source if not ch.isspace() and ch.isprintable()}
    return sorted(ch for ch in chars if not font_has_char(ch))


def check_pdf(md_path: Path, pdf_path: Path) -> CheckResult:
    from pypdf import PdfReader

    source = md_path.read_text(encoding="utf-8")
    reader = PdfReader(str(pdf_path))
    page_texts = [page.extract_text() or "" for page in reader.pages]
    problems: list[str] = []
    for number, text in enumerate(page_texts, start=1):
        if "\ufffd" in text or "\x00" in text:
            problems.append(f"replacement/NUL characters on page {number}")
    if absent := missing_glyphs(source):
        problems.append(f"glyphs missing from {FONT_REGULAR}: {''.join(absent[:20])!r}")
    extracted = "".join(re.sub(r"\s+", "", t) for t in page_texts)
    coverage = in_order_coverage(letters(normalized_source(source)), letters(extracted))
    if coverage < MIN_COVERAGE:
        problems.append(f"coverage below {MIN_COVERAGE:.0f}%")
    labels = list(reader.page_labels)
    if labels != [str(n) for n in range(1, len(reader.pages) + 1)]:
        problems.append(f"unexpected page labels {labels[:5]}")
    return CheckResult(pdf_path.name, len(reader.pages), len(extracted), coverage, problems)


def check_copy(md_path: Path, out_path: Path) -> CheckResult:
    data = out_path.read_bytes()
    problems = [] if data == md_path.read_bytes() else ["copy differs from source"]
    return CheckResult(out_path.name, 0, len(data), 100.0, problems, copied=True)


# ----------------------------------------------------------------------------- main


def select_sources(src: Path, files: list[str]) -> list[Path]:
    if not files:
        return sorted(src.glob("*.md"))
    chosen: list[Path] = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            path = src / path.name
        if not path.is_file():
            sys.exit(f"error: no such Markdown file: {name}")
        chosen.append(path)
    return chosen


def build_one(md_path: Path, out_dir: Path, check: bool) -> CheckResult | None:
    if md_path.name in KEEP_AS_MARKDOWN:
        target = out_dir / md_path.name
        shutil.copyfile(md_path, target)
        print(f"copied {md_path} -> {target}")
        return check_copy(md_path, target) if check else None
    target = out_dir / f"{md_path.stem}.pdf"
    render_pdf(md_path, target)
    print(f"built  {md_path} -> {target}")
    return check_pdf(md_path, target) if check else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--src", type=Path, default=Path("corpus-src"), help="Markdown sources")
    parser.add_argument("--out", type=Path, default=Path("corpus"), help="output directory")
    parser.add_argument("--check", action="store_true", help="verify extracted text of each PDF")
    parser.add_argument("files", nargs="*", metavar="FILES", help="only these .md files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    register_fonts()
    sources = select_sources(args.src, args.files)
    if not sources:
        print(f"no Markdown files found in {args.src}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    results = [r for md in sources if (r := build_one(md, args.out, args.check)) is not None]
    for result in results:
        print(result.line())
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"check failed for {len(failed)} file(s): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
