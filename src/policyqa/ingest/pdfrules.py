"""Ruled tables of a PDF page: the ruling lines drawn on it, the grid they close and its cells,
and each cell's text."""

from __future__ import annotations

import bisect
import ctypes
import itertools
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field

from policyqa.core.tuning import MIN_RULE, RULE_SNAP
from policyqa.ingest.pdfchars import Run


@dataclass(frozen=True)
class Edge:
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


def ruling_edges(raw: object, page: object) -> tuple[list[Edge], list[Edge]]:
    """Horizontal and vertical ruling segments drawn on the page (stroked or filled paths;
    a filled rectangle gives its four sides, as a shaded cell is bounded by them)."""
    r = raw
    horizontal: list[Edge] = []
    vertical: list[Edge] = []
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
            if abs(y1 - y0) < 1.0 and abs(x1 - x0) >= MIN_RULE:
                horizontal.append(Edge((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
            elif abs(x1 - x0) < 1.0 and abs(y1 - y0) >= MIN_RULE:
                vertical.append(Edge((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    horizontal, vertical = _merged(horizontal), _merged(vertical)
    return horizontal, _merged(vertical + _open_sides(horizontal, vertical))


def _open_sides(horizontal: list[Edge], vertical: list[Edge]) -> list[Edge]:
    """The left and right sides of tables drawn without them (an open-sided table, common in
    reports): where three or more rules start (or end) at the same x, a vertical side joins
    those of them that column rules connect. Between two tables on one margin no column rule
    crosses, so the side stops there; and no side makes a table without column rules."""
    sides: list[Edge] = []
    for attribute in ("start", "end"):
        groups: dict[int, list[Edge]] = {}
        for edge in horizontal:
            groups.setdefault(round(getattr(edge, attribute) / RULE_SNAP), []).append(edge)
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


def _crossed(lower: Edge, upper: Edge, vertical: list[Edge]) -> bool:
    """Whether a column rule runs from one of two rules to the other, between their ends."""
    left = max(lower.start, upper.start) + RULE_SNAP
    right = min(lower.end, upper.end) - RULE_SNAP
    return any(
        left < v.at < right and v.start <= lower.at + RULE_SNAP and v.end >= upper.at - RULE_SNAP
        for v in vertical
    )


def _side(rules: list[Edge], attribute: str) -> list[Edge]:
    if len(rules) < 3:
        return []
    x = statistics.fmean(getattr(e, attribute) for e in rules)
    return [Edge(x, rules[0].at, rules[-1].at)]


def _merged(edges: list[Edge]) -> list[Edge]:
    """Edges at nearly the same position snapped together, overlapping or touching ones
    joined (a rule drawn as several pieces, or twice)."""
    out: list[Edge] = []
    edges = sorted(edges, key=lambda e: e.at)
    groups: list[list[Edge]] = []
    for edge in edges:
        if groups and edge.at - groups[-1][0].at <= RULE_SNAP:
            groups[-1].append(edge)
        else:
            groups.append([edge])
    for group in groups:
        at = statistics.fmean(e.at for e in group)
        spans = sorted((e.start, e.end) for e in group)
        start, end = spans[0]
        for s, e in spans[1:]:
            if s <= end + RULE_SNAP:
                end = max(end, e)
            else:
                out.append(Edge(at, start, end))
                start, end = s, e
        out.append(Edge(at, start, end))
    return out


@dataclass
class Cell:
    x0: float
    y0: float
    x1: float
    y1: float
    rows: tuple[int, int] = (0, 0)  # grid rows covered, top to bottom, end exclusive
    cols: tuple[int, int] = (0, 0)
    runs: list[Run] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The cell's text, one string per visual line, top to bottom."""
        return [text for text, _, _ in _cell_lines(self.runs)]


@dataclass
class Table:
    cells: list[Cell]
    xs: list[float]
    ys: list[float]  # top to bottom (descending)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.xs[0], self.ys[-1], self.xs[-1], self.ys[0]

    def cell_at(self, x: float, y: float) -> Cell | None:
        col = bisect.bisect_right(self.xs, x) - 1
        row = bisect.bisect_right([-v for v in self.ys], -y) - 1
        if not (0 <= col < len(self.xs) - 1 and 0 <= row < len(self.ys) - 1):
            return None
        for cell in self.cells:
            if cell.rows[0] <= row < cell.rows[1] and cell.cols[0] <= col < cell.cols[1]:
                return cell
        return None


def _covers(edges: list[Edge], at: float, a: float, b: float) -> bool:
    """Whether one of `edges` at position `at` runs from a to b."""
    lo, hi = min(a, b), max(a, b)
    return any(
        abs(e.at - at) <= RULE_SNAP and e.start <= lo + RULE_SNAP and e.end >= hi - RULE_SNAP
        for e in edges
    )


def find_tables(horizontal: list[Edge], vertical: list[Edge]) -> list[Table]:
    """Tables from ruling lines: the smallest rectangles whose four sides are drawn (the cells),
    grouped by shared corners; only grids of two rows and two columns or more."""
    if len(horizontal) < 2 or len(vertical) < 2 or len(horizontal) * len(vertical) > 40000:
        return []
    points: set[tuple[float, float]] = set()
    for v in vertical:
        for h in horizontal:
            if (
                v.start - RULE_SNAP <= h.at <= v.end + RULE_SNAP
                and h.start - RULE_SNAP <= v.at <= h.end + RULE_SNAP
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
    cells: list[Cell] = []
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
                    cells.append(Cell(x, b, r, y))
                    found = True
                    break
            if found:
                break
    return _group_cells(cells)


def _group_cells(cells: list[Cell]) -> list[Table]:
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
    groups: dict[int, list[Cell]] = {}
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
        tables.append(Table(group, xs, ys))
    return tables


def _cell_lines(runs: list[Run]) -> list[tuple[str, float, float]]:
    """(text, left, right) per visual line of a cell: runs on one baseline, left to right."""
    lines: list[list[Run]] = []
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


def cell_text(cell: Cell) -> str:
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
