"""PDF page layout with pypdfium2: text lines in reading order, ruled tables as rows that carry
their column headers and unit, and each line's font size (for the title rule in `load`).

pypdf stays the loader (validation, decryption, page labels, metadata, page count); this module
only reads where the characters and ruling lines are. Characters and runs (`pdfchars`), ruled
grids (`pdfrules`) and tables as text (`pdftables`) are put in reading order here. PDFium is not
thread-safe, so every call into it holds `_PDFIUM_LOCK`, and handles are closed explicitly (no
finalizer runs in another thread).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policyqa.core.structure import unit_note
from policyqa.core.tuning import RULE_SNAP, SPANNING_SHARE
from policyqa.ingest.pdfchars import Char, Run, page_runs, read_chars
from policyqa.ingest.pdfrules import Cell, Table, find_tables, ruling_edges
from policyqa.ingest.pdftables import render_table

log = logging.getLogger(__name__)

_PDFIUM_LOCK = threading.Lock()


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
    narrow = [i for i in items if i.x1 - i.x0 < SPANNING_SHARE * width]
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


def _line_of(run: Run) -> Line:
    return Line(run.text(), run.size, run.x0, run.y0, run.x1, run.y1)


def _unit_near(table: Table, runs: list[Run]) -> str:
    """The unit a table states just above it ("(단위: 백만원, %)"), or "" when none is given."""
    x0, _, x1, top = table.box
    best: tuple[float, str] | None = None
    for run in runs:
        if run.x1 < x0 or run.x0 > x1 or run.y0 < top - RULE_SNAP:
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
    runs = page_runs(read_chars(raw, textpage))
    tables = find_tables(*ruling_edges(raw, page))
    free: list[Run] = []
    in_table: dict[int, list[Run]] = {}
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


def _anchor(char: Char) -> tuple[float, float]:
    """The point that places a character in a cell: its centre, but no further than a quarter
    em from the origin for a narrow script, since some fonts report a digit's box a full em
    wide, reaching into the next cell (Hangul and CJK glyphs are a full em wide)."""
    half = (char.x1 - char.x0) / 2
    if not _is_wide(char.text):
        half = min(half, 0.25 * char.size)
    return char.x0 + half, (char.y0 + char.y1) / 2


def _is_wide(text: str) -> bool:
    return unicodedata.east_asian_width(text[:1]) in ("W", "F")


def _split_into_cells(run: Run, table: Table, cell: Cell) -> None:
    """Give the run's characters to the cells they sit in (a run can cross a thin rule)."""
    current = cell
    piece = Run()
    for char, space in zip(run.chars, run.spaces, strict=True):
        at = table.cell_at(*_anchor(char)) or current
        if at is not current and piece.chars:
            current.runs.append(piece)
            piece = Run()
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
