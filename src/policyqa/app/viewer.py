"""The citation viewer: a cited PDF page as an image with the quoted passage marked, or a
Markdown/text source with the quote marked in its context.

Pages are rendered with PDFium (pypdfium2) and cached as PNG under POLICYQA_HOME/pages, within a
size bound; where the quote is on the page comes from the text layer (pdfplumber's characters),
matched without whitespace so that line breaks and spacing differences do not matter. Boxes are
fractions of the page, so the browser scales them with the image.
"""

from __future__ import annotations

import hashlib
import os
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policyqa.core.memo import BoundedCache
from policyqa.core.tuning import MIN_QUOTE_MATCH, PAGE_WIDTH_PX

# PDFium is not thread-safe: every call holds this lock (the app answers several users at once).
_PDFIUM = threading.Lock()


@dataclass(frozen=True)
class Box:
    """A highlighted rectangle, as fractions (0-1) of the page's width and height."""

    left: float
    top: float
    width: float
    height: float


def _normal(text: str) -> str:
    """Compatibility-folded and lower-cased, one character per input character where possible."""
    return unicodedata.normalize("NFKC", text).lower()


def _fold(text: str) -> tuple[str, list[int]]:
    """`text` without whitespace, NFKC-folded; with, for each kept character, its index in
    `text`. Dashes, quotes and bullets are folded too: PDF text layers and extracted text
    disagree about them more than about letters."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in _normal(ch):
            if c.isspace() or unicodedata.category(c) in ("Cc", "Cf"):
                continue
            out.append(_SAME.get(c, c))
            where.append(i)
    return "".join(out), where


_SAME = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u00b7": ".",
    "\u2022": ".",
}


def find_span(haystack: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` is in `haystack` (character offsets), ignoring whitespace, width and case.
    A quote that is not there whole is placed by its longest matching start and end (extracted
    text and the text layer can differ in a character or two). None when it cannot be placed."""
    folded, where = _fold(haystack)
    needle, _ = _fold(quote)
    if len(needle) < 1 or not folded:
        return None
    at = folded.find(needle)
    if at >= 0:
        return where[at], where[at + len(needle) - 1] + 1
    if len(needle) < 2 * MIN_QUOTE_MATCH:
        return None
    head = _longest_found(folded, needle, from_start=True)
    tail = _longest_found(folded, needle, from_start=False)
    if head is None or tail is None:
        return None
    start, end = head[0], tail[0] + tail[1]
    # Start and end must bracket about the quote's length, in order.
    if end <= start or end - start > 2 * len(needle):
        return None
    return where[start], where[end - 1] + 1


def _longest_found(folded: str, needle: str, from_start: bool) -> tuple[int, int] | None:
    """(position, length) of the longest start (or end) of `needle` found in `folded`."""
    low, high, best = MIN_QUOTE_MATCH, len(needle), None
    while low <= high:  # found-ness is monotone in the length of a prefix (suffix)
        size = (low + high) // 2
        piece = needle[:size] if from_start else needle[-size:]
        at = folded.find(piece)
        if at >= 0:
            best, low = (at, size), size + 1
        else:
            high = size - 1
    return best


def quote_boxes(pdf: Path, page: int, quote: str) -> list[Box]:
    """The rectangles (one per line) that the quote covers on page `page` (1-based) of `pdf`,
    from its text layer; [] when the quote is not found there."""
    import pdfplumber

    with pdfplumber.open(str(pdf)) as document:
        if not 1 <= page <= len(document.pages):
            return []
        sheet = document.pages[page - 1]
        chars = [c for c in sheet.chars if str(c.get("text", "")).strip()]
        width, height = float(sheet.width), float(sheet.height)
        x_origin, y_origin = float(sheet.bbox[0]), float(sheet.bbox[1])
    text = "".join(str(c["text"]) for c in chars)
    span = find_span(text, quote)
    if span is None or width <= 0 or height <= 0:
        return []
    lines: list[list[dict[str, object]]] = []
    for char in chars[span[0] : span[1]]:
        if lines and abs(float(lines[-1][-1]["top"]) - float(char["top"])) < 0.5 * float(  # type: ignore[arg-type]
            char["size"]  # type: ignore[arg-type]
        ):
            lines[-1].append(char)
        else:
            lines.append([char])
    boxes = []
    for line in lines:
        x0 = min(float(c["x0"]) for c in line) - x_origin  # type: ignore[arg-type]
        x1 = max(float(c["x1"]) for c in line) - x_origin  # type: ignore[arg-type]
        top = min(float(c["top"]) for c in line) - y_origin  # type: ignore[arg-type]
        bottom = max(float(c["bottom"]) for c in line) - y_origin  # type: ignore[arg-type]
        boxes.append(Box(x0 / width, top / height, (x1 - x0) / width, (bottom - top) / height))
    return _merged(boxes)


def _merged(boxes: Sequence[Box]) -> list[Box]:
    """Pieces of one line (a PDF may draw a line in several runs) as one box per line."""
    out: list[Box] = []
    for box in boxes:
        last = out[-1] if out else None
        if last and abs(last.top - box.top) < 0.5 * max(last.height, box.height):
            left = min(last.left, box.left)
            right = max(last.left + last.width, box.left + box.width)
            top = min(last.top, box.top)
            bottom = max(last.top + last.height, box.top + box.height)
            out[-1] = Box(left, top, right - left, bottom - top)
        else:
            out.append(box)
    return out


def render_png(pdf: Path, page: int, width_px: int = PAGE_WIDTH_PX) -> bytes:
    """Page `page` (1-based) of `pdf` as a PNG `width_px` wide."""
    import io

    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            if not 1 <= page <= len(document):
                raise ValueError(f"no page {page}")
            sheet = document[page - 1]
            scale = width_px / max(1.0, float(sheet.get_width()))
            image = sheet.render(scale=scale).to_pil()
            sheet.close()
        finally:
            document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


class PageImages:
    """Rendered pages cached on disk (`folder`), at most `max_mb` in all: the least recently
    written go first. Keyed by the file's content hash, so a changed file is rendered again."""

    def __init__(self, folder: Path, max_mb: float) -> None:
        self.folder = folder
        self.max_bytes = int(max_mb * 1_000_000)
        self._lock = threading.Lock()
        self._boxes: BoundedCache[tuple[str, int, str], list[Box]] = BoundedCache(512)

    def png(self, pdf: Path, file_hash: str, page: int) -> bytes:
        key = hashlib.sha256(f"{file_hash}:{page}:{PAGE_WIDTH_PX}".encode()).hexdigest()[:32]
        path = self.folder / f"{key}.png"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = render_png(pdf, page)
        if self.max_bytes <= 0 or len(data) > self.max_bytes:
            return data
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
        self._prune()
        return data

    def boxes(self, pdf: Path, file_hash: str, page: int, quote: str) -> list[Box]:
        key = (file_hash, page, quote)
        found = self._boxes.get(key)
        if found is None:
            found = quote_boxes(pdf, page, quote)
            self._boxes.put(key, found)
        return found

    def _prune(self) -> None:
        with self._lock:
            files = []
            for entry in self.folder.glob("*.png"):
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue
                files.append((stat.st_mtime, stat.st_size, entry))
            total = sum(size for _, size, _ in files)
            for _, size, entry in sorted(files):
                if total <= self.max_bytes:
                    break
                entry.unlink(missing_ok=True)
                total -= size


# -- what the viewer shows (HTML; every piece of document text escaped) ---------------------


def passage_in_context(text: str, quote: str, around: int = 500) -> tuple[str, str, str] | None:
    """(before, quote as written, after) from `text` around the quote, the context cut at
    paragraph or line breaks within `around` characters; None when the quote is not there."""
    span = find_span(text, quote)
    if span is None:
        return None
    start, end = span
    lo = max(0, start - around)
    brk = max(text.rfind("\n\n", lo, start), text.rfind("\n#", lo, start))
    lo = brk + 1 if brk >= 0 else lo
    hi = min(len(text), end + around)
    brk = text.find("\n\n", end, hi)
    hi = brk if brk >= 0 else hi
    before, after = text[lo:start], text[end:hi]
    if lo > 0:
        before = "…" + before.lstrip()
    if hi < len(text):
        after = after.rstrip() + "…"
    return before, text[start:end], after
