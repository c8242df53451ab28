"""PDF page layout with pypdfium2: text lines in reading order, ruled tables as rows that carry
their column headers and unit, and each line's font size (for the title rule in `load`).

pypdf stays the loader (validation, decryption, page labels, metadata, page count); this module
only reads where the characters and ruling lines are. PDFium is not thread-safe, so every call
into it holds `_PDFIUM_LOCK`, and handles are closed explicitly (no finalizer runs in another
thread).
"""

from __future__ import annotations

import bisect
import ctypes
import itertools
import logging
import queue
import statistics
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from policyqa.core.text import has_letters, is_value_cell, is_year_heading, unit_note

log = logging.getLogger(__name__)

_PDFIUM_LOCK = threading.Lock()

# Characters nearer than this (in ems) on one line belong to one run; a wider gap separates
# table cells or columns (word spaces are 0.25-0.5 em, justified text up to about 1 em).
_RUN_GAP_EMS = 2.0
# Ruling lines: coordinates closer than this (pt) are one line; shorter segments are dots.
_SNAP = 3.0
_MIN_RULE = 2.0
# Lines wider than this share of the page cross any column gutter (titles, full-width tables).
_SPANNING = 0.6


@dataclass(frozen=True)
class Line:
    """One output line: text, its largest font size (pt) and its box (page space, y up)."""

    text: str
    size: float
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class PageLayout:
    lines: tuple[Line, ...]
    width: float
    height: float

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


# -- characters and runs -----------------------------------------------------------------------


@dataclass
class _Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    index: int  # position in the content stream


class _Run:
    """Characters next to each other on one baseline, in stream order, and their box."""

    def __init__(self) -> None:
        self.chars: list[_Char] = []
        self.spaces: list[bool] = []  # a space before chars[i]
        self.x0 = self.y0 = float("inf")
        self.x1 = self.y1 = self.size = float("-inf")

    def add(self, char: _Char, space: bool) -> None:
        self.chars.append(char)
        self.spaces.append(space and len(self.chars) > 1)
        self.x0, self.x1 = min(self.x0, char.x0), max(self.x1, char.x1)
        self.y0, self.y1 = min(self.y0, char.y0), max(self.y1, char.y1)
        self.size = max(self.size, char.size)

    @property
    def index(self) -> int:
        return self.chars[0].index

    def text(self) -> str:
        out: list[str] = []
        for char, space in zip(self.chars, self.spaces, strict=True):
            if space:
                out.append(" ")
            out.append(char.text)
        return " ".join("".join(out).split())


def _normal_char(code: int) -> str:
    """The character as text: control characters (some fonts map the space glyph to BEL) and
    spaces of every width become a space; private-use glyphs (icons, arrows) are dropped;
    ligatures and full- or half-width forms take their plain form (NFKC, only for those: NFKC
    of Hangul compatibility jamo or circled numbers would change their meaning)."""
    char = chr(code)
    category = unicodedata.category(char)
    if category in ("Cc", "Zs", "Zl", "Zp") or char in "\u200b\ufeff":
        return " "
    if category in ("Co", "Cs", "Cn"):
        return ""
    if 0xFB00 <= code <= 0xFB06 or (0xFF01 <= code <= 0xFF9F) or (0xFFE0 <= code <= 0xFFEE):
        return unicodedata.normalize("NFKC", char)
    return char


def _read_chars(raw: object, textpage: object) -> list[_Char | None]:
    """Every character in stream order; None for a space or a line break pdfium inserted."""
    r = raw
    count = r.FPDFText_CountChars(textpage)  # type: ignore[attr-defined]
    box = r.FS_RECTF()  # type: ignore[attr-defined]
    matrix = r.FS_MATRIX()  # type: ignore[attr-defined]
    out: list[_Char | None] = []
    pending_high = 0
    for index in range(max(0, count)):
        code = r.FPDFText_GetUnicode(textpage, index)  # type: ignore[attr-defined]
        if 0xD800 <= code <= 0xDBFF:
            pending_high = code
            continue
        if 0xDC00 <= code <= 0xDFFF and pending_high:
            code = 0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00)
        pending_high = 0
        text = _normal_char(code)
        if not text.strip():
            out.append(None)
            continue
        if not r.FPDFText_GetLooseCharBox(textpage, index, box):  # type: ignore[attr-defined]
            out.append(None)
            continue
        size = r.FPDFText_GetFontSize(textpage, index)  # type: ignore[attr-defined]
        if r.FPDFText_GetMatrix(textpage, index, matrix):  # type: ignore[attr-defined]
            size *= abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
        height = box.top - box.bottom
        if height <= 0 or box.right < box.left:
            out.append(None)
            continue
        out.append(_Char(text, box.left, box.bottom, box.right, box.top, size or height, index))
    return out


def _runs(chars: Sequence[_Char | None]) -> list[_Run]:
    """Characters grouped into runs: a new run starts where the next character is not on the
    current baseline, lies back to the left, or follows a gap wider than `_RUN_GAP_EMS`."""
    runs: list[_Run] = []
    run: _Run | None = None
    space = False
    band = (0.0, 0.0)
    for char in chars:
        if char is None:
            space = True
            continue
        if run is not None:
            last = run.chars[-1]
            height = min(char.y1 - char.y0, band[1] - band[0])
            overlap = min(char.y1, band[1]) - max(char.y0, band[0])
            em = max(char.size, last.size, 1.0)
            gap = char.x0 - last.x1
            duplicate = (  # "ll" is two glyphs an advance apart; a bold overprint is not
                char.text == last.text
                and abs(char.x0 - last.x0) < 0.1 * em
                and abs(char.y0 - last.y0) < 0.1 * em
            )
            if duplicate:  # drawn twice for a bold effect
                continue
            # Some fonts report every glyph box a full em wide (digits in Hancom PDFs), so
            # boxes overlap: going back is judged by the glyph's origin (its left edge).
            if (
                overlap >= 0.5 * height
                and char.x0 >= last.x0 - 0.1 * em
                and gap <= _RUN_GAP_EMS * em
            ):
                run.add(char, space or gap > 0.5 * em)
                if char.size >= 0.7 * run.size:  # superscripts do not widen the baseline band
                    band = (min(band[0], char.y0), max(band[1], char.y1))
                space = False
                continue
        run = _Run()
        run.add(char, False)
        runs.append(run)
        band = (char.y0, char.y1)
        space = False
    return runs


# -- ruling lines and tables -----------------------------------------------------------------


@dataclass(frozen=True)
class _Edge:
    at: float  # y of a horizontal edge, x of a vertical one
    start: float
    end: float


def _path_segments(raw: object, obj: object) -> Iterator[tuple[float, float, float, float]]:
    """Straight segments of a path object in page space; nothing for a path with curves
    (glyph outlines, chart lines), which are never table rules."""
    r = raw
    count = r.FPDFPath_CountSegments(obj)  # type: ignore[attr-defined]
    if count < 2 or count > 5000:
        return
    matrix = r.FS_MATRIX()  # type: ignore[attr-defined]
    if not r.FPDFPageObj_GetMatrix(obj, matrix):  # type: ignore[attr-defined]
        return
    x = ctypes.c_float()
    y = ctypes.c_float()
    points: list[tuple[int, float, float, bool]] = []
    for i in range(count):
        segment = r.FPDFPath_GetPathSegment(obj, i)  # type: ignore[attr-defined]
        kind = r.FPDFPathSegment_GetType(segment)  # type: ignore[attr-defined]
        if kind == r.FPDF_SEGMENT_BEZIERTO:  # type: ignore[attr-defined]
            return
        if not r.FPDFPathSegment_GetPoint(segment, x, y):  # type: ignore[attr-defined]
            return
        px = matrix.a * x.value + matrix.c * y.value + matrix.e
        py = matrix.b * x.value + matrix.d * y.value + matrix.f
        closes = bool(r.FPDFPathSegment_GetClose(segment))  # type: ignore[attr-defined]
        points.append((kind, px, py, closes))
    start: tuple[float, float] | None = None
    previous: tuple[float, float] | None = None
    for kind, px, py, closes in points:
        if kind == r.FPDF_SEGMENT_MOVETO or previous is None:  # type: ignore[attr-defined]
            start = previous = (px, py)
            continue
        yield previous[0], previous[1], px, py
        previous = (px, py)
        if closes and start is not None:
            yield px, py, start[0], start[1]
            previous = start


def _ruling_edges(raw: object, page: object) -> tuple[list[_Edge], list[_Edge]]:
    """Horizontal and vertical ruling segments drawn on the page (stroked or filled paths;
    a filled rectangle gives its four sides, as a shaded cell is bounded by them)."""
    r = raw
    horizontal: list[_Edge] = []
    vertical: list[_Edge] = []
    fill = ctypes.c_int()
    stroke = ctypes.c_int()
    for i in range(r.FPDFPage_CountObjects(page)):  # type: ignore[attr-defined]
        obj = r.FPDFPage_GetObject(page, i)  # type: ignore[attr-defined]
        if r.FPDFPageObj_GetType(obj) != r.FPDF_PAGEOBJ_PATH:  # type: ignore[attr-defined]
            continue
        if not r.FPDFPath_GetDrawMode(obj, fill, stroke):  # type: ignore[attr-defined]
            continue
        if not fill.value and not stroke.value:
            continue  # a clipping path
        for x0, y0, x1, y1 in _path_segments(raw, obj):
            if abs(y1 - y0) < 1.0 and abs(x1 - x0) >= _MIN_RULE:
                horizontal.append(_Edge((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
            elif abs(x1 - x0) < 1.0 and abs(y1 - y0) >= _MIN_RULE:
                vertical.append(_Edge((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    horizontal, vertical = _merged(horizontal), _merged(vertical)
    return horizontal, _merged(vertical + _open_sides(horizontal, vertical))


def _open_sides(horizontal: list[_Edge], vertical: list[_Edge]) -> list[_Edge]:
    """The left and right sides of tables drawn without them (an open-sided table, common in
    reports): where three or more rules start (or end) at the same x, a vertical side joins
    those of them that column rules connect. Between two tables on one margin no column rule
    crosses, so the side stops there; and no side makes a table without column rules."""
    sides: list[_Edge] = []
    for attribute in ("start", "end"):
        groups: dict[int, list[_Edge]] = {}
        for edge in horizontal:
            groups.setdefault(round(getattr(edge, attribute) / _SNAP), []).append(edge)
        for group in groups.values():
            group.sort(key=lambda e: e.at)
            run = [group[0]]
            for lower, upper in itertools.pairwise(group):
                if not _crossed(lower, upper, vertical):
                    sides.extend(_side(run, attribute))
                    run = []
                run.append(upper)
            sides.extend(_side(run, attribute))
    return sides


def _crossed(lower: _Edge, upper: _Edge, vertical: list[_Edge]) -> bool:
    """Whether a column rule runs from one of two rules to the other, between their ends."""
    left = max(lower.start, upper.start) + _SNAP
    right = min(lower.end, upper.end) - _SNAP
    return any(
        left < v.at < right and v.start <= lower.at + _SNAP and v.end >= upper.at - _SNAP
        for v in vertical
    )


def _side(rules: list[_Edge], attribute: str) -> list[_Edge]:
    if len(rules) < 3:
        return []
    x = statistics.fmean(getattr(e, attribute) for e in rules)
    return [_Edge(x, rules[0].at, rules[-1].at)]


def _merged(edges: list[_Edge]) -> list[_Edge]:
    """Edges at nearly the same position snapped together, overlapping or touching ones
    joined (a rule drawn as several pieces, or twice)."""
    out: list[_Edge] = []
    edges = sorted(edges, key=lambda e: e.at)
    groups: list[list[_Edge]] = []
    for edge in edges:
        if groups and edge.at - groups[-1][0].at <= _SNAP:
            groups[-1].append(edge)
        else:
            groups.append([edge])
    for group in groups:
        at = statistics.fmean(e.at for e in group)
        spans = sorted((e.start, e.end) for e in group)
        start, end = spans[0]
        for s, e in spans[1:]:
            if s <= end + _SNAP:
                end = max(end, e)
            else:
                out.append(_Edge(at, start, end))
                start, end = s, e
        out.append(_Edge(at, start, end))
    return out


@dataclass
class _Cell:
    x0: float
    y0: float
    x1: float
    y1: float
    rows: tuple[int, int] = (0, 0)  # grid rows covered, top to bottom, end exclusive
    cols: tuple[int, int] = (0, 0)
    runs: list[_Run] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The cell's text, one string per visual line, top to bottom."""
        return [text for text, _, _ in _cell_lines(self.runs)]


@dataclass
class _Table:
    cells: list[_Cell]
    xs: list[float]
    ys: list[float]  # top to bottom (descending)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.xs[0], self.ys[-1], self.xs[-1], self.ys[0]

    def cell_at(self, x: float, y: float) -> _Cell | None:
        col = bisect.bisect_right(self.xs, x) - 1
        row = bisect.bisect_right([-v for v in self.ys], -y) - 1
        if not (0 <= col < len(self.xs) - 1 and 0 <= row < len(self.ys) - 1):
            return None
        for cell in self.cells:
            if cell.rows[0] <= row < cell.rows[1] and cell.cols[0] <= col < cell.cols[1]:
                return cell
        return None


def _covers(edges: list[_Edge], at: float, a: float, b: float) -> bool:
    """Whether one of `edges` at position `at` runs from a to b."""
    lo, hi = min(a, b), max(a, b)
    return any(
        abs(e.at - at) <= _SNAP and e.start <= lo + _SNAP and e.end >= hi - _SNAP for e in edges
    )


def _tables(horizontal: list[_Edge], vertical: list[_Edge]) -> list[_Table]:
    """Tables from ruling lines: the smallest rectangles whose four sides are drawn (the cells),
    grouped by shared corners; only grids of two rows and two columns or more."""
    if len(horizontal) < 2 or len(vertical) < 2 or len(horizontal) * len(vertical) > 40000:
        return []
    points: set[tuple[float, float]] = set()
    for v in vertical:
        for h in horizontal:
            if (
                v.start - _SNAP <= h.at <= v.end + _SNAP
                and h.start - _SNAP <= v.at <= h.end + _SNAP
            ):
                points.add((round(v.at, 1), round(h.at, 1)))
    by_x: dict[float, list[float]] = {}
    by_y: dict[float, list[float]] = {}
    for x, y in points:
        by_x.setdefault(x, []).append(y)
        by_y.setdefault(y, []).append(x)
    for ys in by_x.values():
        ys.sort(reverse=True)
    for xs in by_y.values():
        xs.sort()
    cells: list[_Cell] = []
    for x, y in points:  # (x, y) as a top-left corner
        below = [b for b in by_x[x] if b < y]
        right = [r for r in by_y[y] if r > x]
        found = False
        for b in below:
            if not _covers(vertical, x, y, b):
                break
            for r in right:
                if not _covers(horizontal, y, x, r):
                    break
                if (r, b) in points and _covers(vertical, r, y, b) and _covers(horizontal, b, x, r):
                    cells.append(_Cell(x, b, r, y))
                    found = True
                    break
            if found:
                break
    return _group_cells(cells)


def _group_cells(cells: list[_Cell]) -> list[_Table]:
    parent = list(range(len(cells)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    corners: dict[tuple[float, float], int] = {}
    for i, cell in enumerate(cells):
        for corner in (
            (cell.x0, cell.y0),
            (cell.x0, cell.y1),
            (cell.x1, cell.y0),
            (cell.x1, cell.y1),
        ):
            if corner in corners:
                parent[root(i)] = root(corners[corner])
            else:
                corners[corner] = i
    groups: dict[int, list[_Cell]] = {}
    for i, cell in enumerate(cells):
        groups.setdefault(root(i), []).append(cell)
    tables = []
    for group in groups.values():
        xs = sorted({c.x0 for c in group} | {c.x1 for c in group})
        ys = sorted({c.y0 for c in group} | {c.y1 for c in group}, reverse=True)
        if len(xs) < 3 or len(ys) < 3:
            continue
        for cell in group:
            cell.cols = (xs.index(cell.x0), xs.index(cell.x1))
            cell.rows = (ys.index(cell.y1), ys.index(cell.y0))
        tables.append(_Table(group, xs, ys))
    return tables


def _cell_lines(runs: list[_Run]) -> list[tuple[str, float, float]]:
    """(text, left, right) per visual line of a cell: runs on one baseline, left to right."""
    lines: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: -r.y1):
        middle = (run.y0 + run.y1) / 2
        if lines and lines[-1][0].y0 <= middle <= lines[-1][0].y1:
            lines[-1].append(run)
        else:
            lines.append([run])
    out = []
    for line in lines:
        line.sort(key=lambda r: r.x0)
        out.append((" ".join(r.text() for r in line), line[0].x0, max(r.x1 for r in line)))
    return out


def _cell_text(cell: _Cell) -> str:
    """A cell's lines as one string. A Hangul word broken where a left-aligned line reached
    the cell's right edge is joined back without a space ("중소벤처기" + "업부"); other line
    breaks (centred headers: "2023년 예산" / "본예산(A)") become spaces."""
    parts: list[str] = []
    previous: tuple[float, float] | None = None
    size = max((r.size for r in cell.runs), default=10.0)
    for text, left, right in _cell_lines(cell.runs):
        if not text:
            continue
        wrapped = (
            previous is not None
            and abs(left - previous[0]) < 0.3 * size
            and cell.x1 - previous[1] < 1.0 * size
        )
        if wrapped and _is_hangul(parts[-1][-1]) and _is_hangul(text[0]):
            parts[-1] += text
        else:
            parts.append(text)
        previous = (left, right)
    return " ".join(parts)


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


# -- table rendering ---------------------------------------------------------------------------


def _header_rows(table: _Table, texts: dict[int, str]) -> int:
    """How many top rows are column headers. In a table of figures: the rows above the first
    row that holds one (none when the first row does). In a table of words: the rows its
    first row's cells span. Years and year labels ("2024", "’21년(실적)") head columns; they
    are not figures."""
    last = len(table.ys) - 2  # at least one body row
    for row in range(last + 1):
        for cell in table.cells:
            text = texts[id(cell)]
            if (
                cell.rows[0] == row
                and cell.cols[0] > 0
                and is_value_cell(text)
                and not is_year_heading(text)
            ):
                return min(row, last)
    first = [c for c in table.cells if c.rows[0] == 0]
    return min(max(c.rows[1] for c in first), last)


def render_table(table: _Table, unit: str) -> list[tuple[str, float]]:
    """A ruled grid as lines. A row that is one cell across the grid is a caption ("3. 예산
    총괄표 (단위: 백만원, %)") and parts the grid into tables (forms put a page's tables in one
    grid); each table gives its header line, then each body row as one line, every value with
    its column's header labels and the unit: `| 청년일자리창출지원 | 2024년 확정(B): 657,680 |
    ... | (단위: 백만원, %) |`."""
    lines: list[tuple[str, float]] = []
    n_cols = len(table.xs) - 1
    start = 0
    part_unit = unit
    size = (
        statistics.median(r.size for c in table.cells for r in c.runs)
        if any(c.runs for c in table.cells)
        else 0.0
    )
    for row in range(len(table.ys)):
        across = [c for c in table.cells if c.rows[0] == row]
        caption = len(across) == 1 and across[0].cols == (0, n_cols)
        if row < len(table.ys) - 1 and not caption:
            continue
        if row > start:
            lines.extend((t, size) for t in _render_part(_part(table, start, row), part_unit))
        if caption:
            text = "\n".join(t for t in across[0].lines() if t)
            if text:
                caption_size = max(r.size for r in across[0].runs)
                lines.extend((t, caption_size) for t in text.split("\n"))
                part_unit = unit_note(text) or unit
            start = across[0].rows[1]
    return lines


def _part(table: _Table, top: int, bottom: int) -> _Table:
    """Rows top..bottom of a grid as a table of its own, columns counted by its own rules."""
    cells = [c for c in table.cells if top <= c.rows[0] and c.rows[1] <= bottom]
    xs = sorted({c.x0 for c in cells} | {c.x1 for c in cells})
    for cell in cells:
        cell.rows = (cell.rows[0] - top, cell.rows[1] - top)
        cell.cols = (xs.index(cell.x0), xs.index(cell.x1))
    return _Table(cells, xs, table.ys[top : bottom + 1])


def _render_part(table: _Table, unit: str) -> list[str]:
    n_rows = len(table.ys) - 1
    n_cols = len(table.xs) - 1
    if n_rows < 1 or n_cols < 1:
        return []
    _split_unruled_rows(table)
    texts = {id(c): _cell_text(c) for c in table.cells}

    def cell_at(row: int, col: int) -> _Cell | None:
        for cell in table.cells:
            if cell.rows[0] <= row < cell.rows[1] and cell.cols[0] <= col < cell.cols[1]:
                return cell
        return None

    def joined(cells: Sequence[_Cell | None]) -> str:
        out: list[str] = []
        seen: set[int] = set()
        for cell in cells:
            if cell is None or id(cell) in seen:
                continue
            seen.add(id(cell))
            text = texts[id(cell)]
            if text and (not out or out[-1] != text):
                out.append(text)
        return " ".join(out)

    if n_rows == 1 or n_cols == 1:  # a list or a strip of boxes, not a table
        rows = [joined([cell_at(r, c) for c in range(n_cols)]) for r in range(n_rows)]
        if n_rows == 1:
            cells = [joined([cell_at(0, c)]) for c in range(n_cols)]
            return (
                ["| " + " | ".join(t for t in dict.fromkeys(cells) if t) + " |"]
                if any(cells)
                else []
            )
        return [r for r in rows if r]
    header = _header_rows(table, texts)
    corner = cell_at(0, 0)
    label_cols = corner.cols[1] if header and corner is not None else 1
    # The first column names each row when its cells hold words; when they hold ticks or
    # figures ("○" under "직접"), it is one more column of values.
    if header and not any(
        has_letters(texts[id(c)]) for c in table.cells if c.cols[0] == 0 and c.rows[0] >= header
    ):
        label_cols = 0
    heads = [[cell_at(r, c) for r in range(header)] for c in range(n_cols)]

    def heading(span: range) -> str:
        """The header labels a value's columns share ("2021" over "실적" and "비중")."""
        common = [
            heads[span[0]][r] for r in range(header) if len({id(heads[c][r]) for c in span}) == 1
        ]
        if common or len(span) == 1:
            return joined(common)
        return "/".join(dict.fromkeys(joined(heads[c]) for c in span if joined(heads[c])))

    lines: list[str] = []
    if header:  # once as it stands, so that nothing a header row says is lost
        names = [joined(heads[c]) for c in range(n_cols)]
        lines.append("| " + " | ".join(n for n in dict.fromkeys(names) if n) + " |")
    tail = f" | {unit} |" if unit else " |"
    for row in range(header, n_rows):
        label = joined([cell_at(row, c) for c in range(label_cols)])
        values: list[tuple[str, list[str]]] = []
        for col in range(label_cols, n_cols):
            cell = cell_at(row, col)
            if cell is None or col != max(cell.cols[0], label_cols):
                continue  # no cell, or one already given at its first column
            lines_of = [t for t in cell.lines() if t]
            if lines_of:
                values.append((heading(range(col, cell.cols[1])), lines_of))
        if not values and not label:
            continue
        for record in _records(label, cell_at(row, 0) if label_cols else None, values):
            lines.append("| " + " | ".join(record) + tail)
    return lines


def _split_unruled_rows(table: _Table) -> None:
    """Cells over several rows whose rules were drawn only across the other columns (an
    indented list of row labels: "A. 직접감면", "1. 비과세", "2-1. ...") are split into one cell
    per row, when each of their lines sits on the baseline of a row's other cells. A label
    centred over the rows it spans ("개인") has one line, or lines off those baselines, and
    stays one cell that names every row it spans."""
    bands = [(table.ys[k + 1], table.ys[k]) for k in range(len(table.ys) - 1)]
    for cell in list(table.cells):
        if cell.rows[1] - cell.rows[0] < 2:
            continue
        lines: list[list[_Run]] = []
        for run in sorted(cell.runs, key=lambda r: -r.y1):
            middle = (run.y0 + run.y1) / 2
            if lines and lines[-1][0].y0 <= middle <= lines[-1][0].y1:
                lines[-1].append(run)
            else:
                lines.append([run])
        if len(lines) < 2:
            continue
        others = [
            run
            for other in table.cells
            if other is not cell
            and (other.cols[1] <= cell.cols[0] or other.cols[0] >= cell.cols[1])
            for run in other.runs
        ]
        rows: dict[int, list[_Run]] = {}
        aligned = True
        for line in lines:
            middle = (line[0].y0 + line[0].y1) / 2
            row = next((k for k, (lo, hi) in enumerate(bands) if lo <= middle <= hi), None)
            if row is None or not cell.rows[0] <= row < cell.rows[1]:
                aligned = False
                break
            if row not in rows and not any(
                abs((o.y0 + o.y1) / 2 - middle) < 0.3 * line[0].size for o in others
            ):
                aligned = False
                break
            rows.setdefault(row, []).extend(line)
        if not aligned or len(rows) < 2:
            continue
        table.cells.remove(cell)
        for row in range(cell.rows[0], cell.rows[1]):
            lo, hi = bands[row]
            table.cells.append(
                _Cell(cell.x0, lo, cell.x1, hi, (row, row + 1), cell.cols, rows.get(row, []))
            )


def _records(
    label: str, label_cell: _Cell | None, values: list[tuple[str, list[str]]]
) -> list[list[str]]:
    """One record per row; a row whose cells stack several figures line by line (a total and
    its parts: "○기능별 분류(합계) / ․공공지원민간임대 / ..." beside "1,653,931 / 1,400,480 / ...")
    gives one record per line, when every value cell has as many lines as the label."""
    label_lines = [t for t in label_cell.lines() if t] if label_cell is not None else []
    stacked = len(label_lines) >= 2 and all(
        len(lines) == len(label_lines) and all(is_value_cell(t) for t in lines)
        for _, lines in values
    )
    if stacked and values:
        return [
            [label_lines[i]] + [_labelled_value(name, lines[i]) for name, lines in values]
            for i in range(len(label_lines))
        ]
    record = [label] if label else []
    record.extend(_labelled_value(name, " ".join(lines)) for name, lines in values)
    return [record]


def _labelled_value(header: str, value: str) -> str:
    """A value with its column's header where the value needs it to mean anything: figures,
    dashes and ticks ("2024년 확정(B): 657,680", "직접: ○"). A value in words carries its own
    meaning ("18 January 2024", "주택도시기금법 제9조"); the table's header line, given once
    above its rows, names its column."""
    needs = not has_letters(value) or len(value) == 1  # a tick may be a letter: "O", "V"
    return f"{header}: {value}" if header and needs else value


# -- reading order -----------------------------------------------------------------------------


@dataclass
class _Item:
    """A line of text or a rendered table, placed in reading order as one piece."""

    lines: list[Line]
    index: int
    x0: float
    y0: float
    x1: float
    y1: float


def _gutter(items: list[_Item], width: float) -> float | None:
    """The x of a column gutter: a vertical band in the middle of the page that no narrow item
    crosses, with prose-wide lines on both sides; None on a one-column page."""
    narrow = [i for i in items if i.x1 - i.x0 < _SPANNING * width]
    if len(narrow) < 6:
        return None
    resolution = 2.0
    cells = int(width / resolution) + 1
    covered = [0] * cells
    for item in narrow:
        for k in range(
            max(0, int(item.x0 / resolution)), min(cells, int(item.x1 / resolution) + 1)
        ):
            covered[k] += 1
    best: tuple[int, int] | None = None
    start = None
    for k in range(int(0.3 * cells), int(0.7 * cells) + 1):
        if covered[k] == 0 and start is None:
            start = k
        if (covered[k] != 0 or k == int(0.7 * cells)) and start is not None:
            if best is None or k - start > best[1] - best[0]:
                best = (start, k)
            start = None
    if best is None or (best[1] - best[0]) * resolution < 8:
        return None
    gutter = (best[0] + best[1]) / 2 * resolution

    def prose(side: list[_Item]) -> bool:
        """Lines of running text: a column a quarter of the page wide or more, where a
        quarter of the lines or more fill it (the rest end paragraphs, or are headings and
        notes). A borderless table's label column (short labels beside descriptions) is
        neither, and its rows stay rows."""
        if len(side) < 5:
            return False
        extent = max(i.x1 for i in side) - min(i.x0 for i in side)
        if extent < 0.25 * width:  # a column of labels or figures, not of text
            return False
        full = sum(1 for i in side if i.x1 - i.x0 >= 0.7 * extent)
        return full >= 2 and 4 * full >= len(side)

    if not (
        prose([i for i in narrow if i.x1 <= gutter])
        and prose([i for i in narrow if i.x0 >= gutter])
    ):
        return None
    return gutter


def _reading_order(items: list[_Item], width: float) -> list[_Item]:
    """Stream order, unless it interleaves two columns. Between items that span the gutter,
    a column-ordered stream switches side at most once; where it switches more, the left
    column's items are read before the right column's (each side keeps its stream order)."""
    items = sorted(items, key=lambda i: i.index)
    gutter = _gutter(items, width)
    if gutter is None:
        return items
    out: list[_Item] = []
    region: list[_Item] = []

    def flush() -> None:
        sides = ["L" if i.x1 <= gutter else "R" for i in region]
        switches = sum(1 for a, b in itertools.pairwise(sides) if a != b)
        if switches > 1:
            out.extend([i for i in region if i.x1 <= gutter])
            out.extend([i for i in region if i.x1 > gutter])
        else:
            out.extend(region)
        region.clear()

    for item in items:
        if item.x0 < gutter < item.x1:
            flush()
            out.append(item)
        else:
            region.append(item)
    flush()
    return out


# -- one page ----------------------------------------------------------------------------------


def _line_of(run: _Run) -> Line:
    return Line(run.text(), run.size, run.x0, run.y0, run.x1, run.y1)


def _unit_near(table: _Table, runs: list[_Run]) -> str:
    """The unit a table states just above it ("(단위: 백만원, %)"), or "" when none is given."""
    x0, _, x1, top = table.box
    best: tuple[float, str] | None = None
    for run in runs:
        if run.x1 < x0 or run.x0 > x1 or run.y0 < top - _SNAP:
            continue
        distance = run.y0 - top
        if distance > 4 * run.size + 10:
            continue
        found = unit_note(run.text())
        if found and (best is None or distance < best[0]):
            best = (distance, found)
    return best[1] if best else ""


def page_layout(raw: object, page: object, textpage: object) -> PageLayout:
    r = raw
    width = float(r.FPDF_GetPageWidthF(page))  # type: ignore[attr-defined]
    height = float(r.FPDF_GetPageHeightF(page))  # type: ignore[attr-defined]
    runs = _runs(_read_chars(raw, textpage))
    tables = _tables(*_ruling_edges(raw, page))
    free: list[_Run] = []
    in_table: dict[int, list[_Run]] = {}
    for run in runs:
        middle_y = (run.y0 + run.y1) / 2
        for number, table in enumerate(tables):
            cell = table.cell_at(_anchor(run.chars[0])[0], middle_y)
            if cell is not None:
                _split_into_cells(run, table, cell)
                in_table.setdefault(number, []).append(run)
                break
        else:
            free.append(run)
    items = [_Item([_line_of(run)], run.index, run.x0, run.y0, run.x1, run.y1) for run in free]
    for number, table_runs in in_table.items():
        table = tables[number]
        filled = [c for c in table.cells if c.runs]
        if len(filled) < 2:  # a framed box, not a table: its text is ordinary lines
            items.extend(
                _Item([_line_of(run)], run.index, run.x0, run.y0, run.x1, run.y1)
                for run in table_runs
            )
            continue
        x0, y0, x1, y1 = table.box
        rendered = [
            Line(t, size, x0, y0, x1, y1)
            for t, size in render_table(table, _unit_near(table, free))
        ]
        items.append(_Item(rendered, min(run.index for run in table_runs), x0, y0, x1, y1))
    lines = [line for item in _reading_order(items, width) for line in item.lines if line.text]
    return PageLayout(tuple(lines), width, height)


def _anchor(char: _Char) -> tuple[float, float]:
    """The point that places a character in a cell: its centre, but no further than a quarter
    em from the origin for a narrow script, since some fonts report a digit's box a full em
    wide, reaching into the next cell (Hangul and CJK glyphs are a full em wide)."""
    half = (char.x1 - char.x0) / 2
    if not _is_wide(char.text):
        half = min(half, 0.25 * char.size)
    return char.x0 + half, (char.y0 + char.y1) / 2


def _is_wide(text: str) -> bool:
    return unicodedata.east_asian_width(text[:1]) in ("W", "F")


def _split_into_cells(run: _Run, table: _Table, cell: _Cell) -> None:
    """Give the run's characters to the cells they sit in (a run can cross a thin rule)."""
    current = cell
    piece = _Run()
    for char, space in zip(run.chars, run.spaces, strict=True):
        at = table.cell_at(*_anchor(char)) or current
        if at is not current and piece.chars:
            current.runs.append(piece)
            piece = _Run()
        current = at
        piece.add(char, space)
    if piece.chars:
        current.runs.append(piece)


# -- documents ---------------------------------------------------------------------------------


def _raw() -> object:
    import pypdfium2  # noqa: F401  (initialises the library)
    import pypdfium2.raw as raw

    return raw


def read_layouts(
    path: Path, page_count: int, page_seconds: float, name: str = ""
) -> list[PageLayout | None] | None:
    """Each page's layout, or None where PDFium cannot read the page; None for the whole
    document when PDFium cannot open it, sees another page count than pypdf (page numbers must
    stay pypdf's), or is busy with a page it never finished (a hung call holds the lock)."""
    try:
        raw = _raw()
    except Exception as exc:  # pypdfium2 missing or its library fails to load
        log.warning("pypdfium2 unavailable (%s); reading PDF text with pypdf only", exc)
        return None
    if not _PDFIUM_LOCK.acquire(timeout=page_seconds):
        log.warning("%s: PDFium is busy with a page that never finished; using pypdf", name)
        return None
    results: queue.Queue[tuple[int, PageLayout | None] | None] = queue.Queue()

    def work() -> None:
        try:
            _read_document(raw, path, page_count, results.put)
        finally:
            results.put(None)
            _PDFIUM_LOCK.release()

    worker = threading.Thread(target=work, name="pdfium-layout", daemon=True)
    worker.start()
    layouts: list[PageLayout | None] = [None] * page_count
    opened = False
    while True:
        try:
            result = results.get(timeout=page_seconds)
        except queue.Empty:
            log.warning(
                "%s: a page took longer than %.0f s to lay out; using pypdf", name, page_seconds
            )
            return layouts if opened else None
        if result is None:
            return layouts if opened else None
        number, layout = result
        if number < 0:  # the document opened with the expected page count
            opened = True
            continue
        layouts[number] = layout


def _read_document(
    raw: object,
    path: Path,
    page_count: int,
    emit: Callable[[tuple[int, PageLayout | None]], None],
) -> None:
    r = raw
    doc = r.FPDF_LoadDocument(str(path).encode("utf-8"), None)  # type: ignore[attr-defined]
    if not doc:
        return
    try:
        if r.FPDF_GetPageCount(doc) != page_count:  # type: ignore[attr-defined]
            return
        emit((-1, None))
        for number in range(page_count):
            page = r.FPDF_LoadPage(doc, number)  # type: ignore[attr-defined]
            if not page:
                emit((number, None))
                continue
            textpage = None
            try:
                if r.FPDFPage_GetRotation(page) != 0:  # type: ignore[attr-defined]
                    emit((number, None))  # turned pages: pypdf's text, not this geometry
                    continue
                textpage = r.FPDFText_LoadPage(page)  # type: ignore[attr-defined]
                emit((number, page_layout(raw, page, textpage) if textpage else None))
            except Exception as exc:  # one page must not lose the others
                log.warning("%s: page %d layout failed (%s)", path.name, number + 1, exc)
                emit((number, None))
            finally:
                if textpage:
                    r.FPDFText_ClosePage(textpage)  # type: ignore[attr-defined]
                r.FPDF_ClosePage(page)  # type: ignore[attr-defined]
    finally:
        r.FPDF_CloseDocument(doc)  # type: ignore[attr-defined]
