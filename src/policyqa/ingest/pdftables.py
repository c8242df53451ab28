"""Ruled tables as text: header rows, captions that part a grid, and each body row as one line
whose values carry their column headers and the table's unit."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from policyqa.core.structure import has_letters, is_value_cell, is_year_heading, unit_note
from policyqa.ingest.pdfchars import Run
from policyqa.ingest.pdfrules import Cell, Table, cell_text


def _header_rows(table: Table, texts: dict[int, str]) -> int:
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


def render_table(table: Table, unit: str) -> list[tuple[str, float]]:
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


def _part(table: Table, top: int, bottom: int) -> Table:
    """Rows top..bottom of a grid as a table of its own, columns counted by its own rules."""
    cells = [c for c in table.cells if top <= c.rows[0] and c.rows[1] <= bottom]
    xs = sorted({c.x0 for c in cells} | {c.x1 for c in cells})
    for cell in cells:
        cell.rows = (cell.rows[0] - top, cell.rows[1] - top)
        cell.cols = (xs.index(cell.x0), xs.index(cell.x1))
    return Table(cells, xs, table.ys[top : bottom + 1])


def _render_part(table: Table, unit: str) -> list[str]:
    n_rows = len(table.ys) - 1
    n_cols = len(table.xs) - 1
    if n_rows < 1 or n_cols < 1:
        return []
    _split_unruled_rows(table)
    texts = {id(c): cell_text(c) for c in table.cells}

    def cell_at(row: int, col: int) -> Cell | None:
        for cell in table.cells:
            if cell.rows[0] <= row < cell.rows[1] and cell.cols[0] <= col < cell.cols[1]:
                return cell
        return None

    def joined(cells: Sequence[Cell | None]) -> str:
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


def _split_unruled_rows(table: Table) -> None:
    """Cells over several rows whose rules were drawn only across the other columns (an
    indented list of row labels: "A. 직접감면", "1. 비과세", "2-1. ...") are split into one cell
    per row, when each of their lines sits on the baseline of a row's other cells. A label
    centred over the rows it spans ("개인") has one line, or lines off those baselines, and
    stays one cell that names every row it spans."""
    bands = [(table.ys[k + 1], table.ys[k]) for k in range(len(table.ys) - 1)]
    for cell in list(table.cells):
        if cell.rows[1] - cell.rows[0] < 2:
            continue
        lines: list[list[Run]] = []
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
        rows: dict[int, list[Run]] = {}
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
                Cell(cell.x0, lo, cell.x1, hi, (row, row + 1), cell.cols, rows.get(row, []))
            )


def _records(
    label: str, label_cell: Cell | None, values: list[tuple[str, list[str]]]
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
