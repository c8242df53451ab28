"""Characters of a PDF page read with pypdfium2, and runs: characters next to each other on one
baseline, the unit that the table and reading-order rules of `pdflayout` arrange."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from policyqa.core.tuning import RUN_GAP_EMS


@dataclass
class Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    index: int  # position in the content stream


class Run:
    """Characters next to each other on one baseline, in stream order, and their box."""

    def __init__(self) -> None:
        self.chars: list[Char] = []
        self.spaces: list[bool] = []  # a space before chars[i]
        self.x0 = self.y0 = float("inf")
        self.x1 = self.y1 = self.size = float("-inf")

    def add(self, char: Char, space: bool) -> None:
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


def read_chars(raw: object, textpage: object) -> list[Char | None]:
    """Every character in stream order; None for a space or a line break pdfium inserted."""
    r = raw
    count = r.FPDFText_CountChars(textpage)  # type: ignore[attr-defined]
    box = r.FS_RECTF()  # type: ignore[attr-defined]
    matrix = r.FS_MATRIX()  # type: ignore[attr-defined]
    out: list[Char | None] = []
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
        out.append(Char(text, box.left, box.bottom, box.right, box.top, size or height, index))
    return out


def page_runs(chars: Sequence[Char | None]) -> list[Run]:
    """Characters grouped into runs: a new run starts where the next character is not on the
    current baseline, lies back to the left, or follows a gap wider than `RUN_GAP_EMS`."""
    runs: list[Run] = []
    run: Run | None = None
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
                and gap <= RUN_GAP_EMS * em
            ):
                run.add(char, space or gap > 0.5 * em)
                if char.size >= 0.7 * run.size:  # superscripts do not widen the baseline band
                    band = (min(band[0], char.y0), max(band[1], char.y1))
                space = False
                continue
        run = Run()
        run.add(char, False)
        runs.append(run)
        band = (char.y0, char.y1)
        space = False
    return runs
