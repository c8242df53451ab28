"""Plain text helpers shared by answering, verification and evaluation: sentence spans,
numbers, normalisation for matching. No models. What a line is (heading, table row, contents
entry) is in `core.structure`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from policyqa.core.tuning import CELL_CHARS

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u2028\u2029]")
# Invisible characters that join or break nothing a reader sees: inside a word ("포괄\u200b보조")
# they split it for the tokenizer, so they are dropped, not turned into spaces.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
# Full-width ASCII (Ｂｌｏｃｋ ｇｒａｎｔｓ, ２０２６) as typed with a CJK input method.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """Full-width ASCII letters, digits and signs as ASCII; one character for one, so offsets
    into the text stay valid."""
    return text.translate(_FULL_WIDTH)


def drop_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


@dataclass(frozen=True)
class Span:
    """A sentence (or table row / list item) of a passage: exact text and where it starts."""

    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_LINE_END = re.compile(r"(?:[.!?。:;]|[다요음함됨임]\.?|\))[\s\"'”’)]*$")
# A list item, table row or numbered heading begins the line.
LINE_START = re.compile(
    r"^\s*(?:[-*•·○□▪■◦|#>]|\d{1,2}[.)]\s|[가-하][.)]\s|\([0-9a-z가-하]{1,2}\)|[IVXⅠ-Ⅻ]+\.)"
)
_DIGIT = re.compile(r"\d")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?。])\s+(?=\S)")


def _units(text: str) -> list[tuple[int, int]]:
    """(start, end) of paragraphs: PDF lines wrapped mid-sentence are joined back; a line is
    its own unit when it ends a sentence, is a list item / table row, or the next one starts one."""
    lines = []
    position = 0
    for line in text.split("\n"):
        lines.append((position, position + len(line)))
        position += len(line) + 1
    units: list[tuple[int, int]] = []
    start = None
    value_of_label = closed_record = False

    def line_at(i: int) -> str:
        return text[lines[i][0] : lines[i][1]] if 0 <= i < len(lines) else ""

    for i, (a, b) in enumerate(lines):
        line = text[a:b]
        if not line.strip():
            if start is not None:
                units.append((start, lines[i - 1][1]))
                start = None
            value_of_label = closed_record = False
            continue
        if start is None:
            start = a
        next_line = line_at(i + 1)
        heading = LINE_START.match(line) is not None and len(line.strip()) < 40
        # A short line after a short line is a table cell as PDF extraction gives them, one
        # per line; joined, a whole table would read as one long "sentence". (A single short
        # line is more often the first line of a short paragraph wrapped once.)
        prev_line = line_at(i - 1)
        cell = _is_cell(line) and _is_cell(prev_line) and LINE_START.match(prev_line) is None
        # A label cell and the value cell after it are one record ("Launch as special
        # province" / "18 January 2024"; "의결" / "2025년 9월 30일 지방시대위원회 전체회의"): apart,
        # the value answers nothing, and run together, a table reads as one long sentence. The
        # value is a short cell with a figure, or, inside a table, a longer line that the next
        # label, a heading or a blank line follows.
        after_value = line_at(i + 2)
        short_value = _is_cell(next_line) and _DIGIT.search(next_line) is not None
        long_value = (
            bool(next_line.strip())
            and not _is_cell(next_line)
            and (_is_cell(prev_line) or closed_record)
            and (
                not after_value.strip()
                or LINE_START.match(after_value) is not None
                or _is_label(after_value)
            )
        )
        label = (
            not value_of_label
            and _is_label(line)
            and LINE_START.match(next_line) is None
            and (short_value or long_value)
        )
        # "... (경제권:" wraps inside a parenthesis: its colon ends no sentence.
        open_paren = leaves_parenthesis_open(text[start:b])
        ends = value_of_label or (
            not label
            and (
                heading
                or cell
                or (_LINE_END.search(line) is not None and not open_paren)
                or line.lstrip().startswith("|")
                or not next_line.strip()
                or LINE_START.match(next_line) is not None
            )
        )
        if ends:
            units.append((start, b))
            start = None
        closed_record, value_of_label = value_of_label, label
    if start is not None:
        units.append((start, lines[-1][1]))
    return units


def _is_label(line: str) -> bool:
    """A short cell that names a field: no figure, no sentence end, no list marker."""
    return (
        _is_cell(line)
        and not _DIGIT.search(line)
        and LINE_START.match(line) is None
        and _LINE_END.search(line) is None
    )


def _is_cell(line: str) -> bool:
    """A short line: under CELL_CHARS columns, a Hangul syllable counting as two."""
    width = display_width(line.strip())
    return 0 < width < CELL_CHARS


def display_width(text: str) -> int:
    """Columns the text takes, a Hangul syllable counting as two."""
    return len(text) + len(_HANGUL.findall(text))


def sentence_spans(text: str, min_chars: int = 12) -> list[Span]:
    """Sentences and line items of `text`, each the exact substring (so quotes stay verbatim).

    Wrapped lines are joined into sentences; list items and table rows stay units of their
    own. Fragments shorter than `min_chars` (headings, page furniture) are dropped.
    """
    spans: list[Span] = []
    for a, b in _units(text):
        unit = text[a:b]
        position = 0
        # A table row is one record: "| 2019 | plan approved. Total 175 trillion |" split at
        # its full stop would part the figures from what they are figures of.
        pieces = [unit] if unit.lstrip().startswith("|") else _SENTENCE_BREAK.split(unit)
        for piece in pieces:
            start = unit.find(piece, position)
            if start < 0:
                continue
            position = start + len(piece)
            stripped = piece.strip()
            if len(stripped) < min_chars:
                continue
            spans.append(Span(stripped, a + start + piece.find(stripped)))
    return spans


def collapse(text: str) -> str:
    """Whitespace runs (PDF line wraps included) as single spaces."""
    return " ".join(text.split())


def clean_question(text: str) -> str:
    """Control and invisible characters out, full-width ASCII folded, whitespace collapsed,
    Unicode NFC."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from bad JSON
    text = unicodedata.normalize("NFC", fold_width(drop_invisible(text)))
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# An English month name or its abbreviation ("Jul", "July", "Sept.").
MONTH_NAME = rf"(?:{'|'.join(_MONTHS)})[a-z]*\.?"
_DATE_FORMS = (
    # 2023-07-10, 2023.7.10., 2023. 7. 10.
    (re.compile(r"(?<!\d)(\d{4})\s*[-.]\s*(\d{1,2})\s*[-.]\s*(\d{1,2})(?!\d)"), (1, 2, 3)),
    # 2023년 7월 10일
    (re.compile(r"(?<!\d)(\d{4})년\s*(\d{1,2})월\s*(\d{1,2})일"), (1, 2, 3)),
    # 10 July 2023
    (re.compile(rf"(?<!\d)(\d{{1,2}})\s+({MONTH_NAME})\s+(\d{{4}})(?!\d)", re.I), (3, 2, 1)),
    # July 10, 2023
    (re.compile(rf"\b({MONTH_NAME})\s+(\d{{1,2}}),?\s+(\d{{4}})(?!\d)", re.I), (3, 1, 2)),
)


def canonical_dates(text: str) -> str:
    """Full calendar dates rewritten as ISO dates, so that '10 July 2023', 'July 10, 2023',
    '2023년 7월 10일' and '2023-07-10' compare equal. Other text is left as it is."""

    def rewrite(order: tuple[int, int, int]) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            year, month, day = (match.group(i) for i in order)
            if not month.isdigit():
                month = str(_MONTHS.index(month[:3].lower()) + 1)
            if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
                return match.group(0)
            return f"{year}-{int(month):02d}-{int(day):02d}"

        return replace

    for pattern, order in _DATE_FORMS:
        text = pattern.sub(rewrite(order), text)
    return text


def leaves_parenthesis_open(text: str) -> bool:
    """Whether `text` opens more parentheses than it closes (ASCII or full-width)."""
    return text.count("(") + text.count("（") > text.count(")") + text.count("）")


def with_topic_particle(word: str) -> str:
    """The word with the Korean topic particle its last syllable takes: 춘천은, 목포는. After a
    non-Hangul ending the particle is left open: 'Jeju은(는)'."""
    last = word.rstrip()[-1:] if word.strip() else ""
    if not _HANGUL.match(last):
        return f"{word}은(는)"
    has_final_consonant = (ord(last) - 0xAC00) % 28 != 0
    return f"{word}{'은' if has_final_consonant else '는'}"


def normalise_for_match(text: str) -> str:
    """Lower-case, NFC, no spaces or thousands separators: for key-fact and quote checks."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"[\s·\-–—]+", "", text)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers_in(text: str) -> list[str]:
    """Numbers as written, thousands separators removed: '1,400' -> '1400', '10.6' -> '10.6'.

    Marker numbers like [3] are not numbers of the sentence.
    """
    text = re.sub(r"\[\d+(?:\s*[,\-]\s*\d+)*\]", " ", text)
    out = []
    for match in _NUMBER.finditer(text):
        value = re.sub(r",(?=\d{3}\b)", "", match.group(0)).rstrip(".,")
        if value:
            out.append(value)
    return out


def number_supported(value: str, passage: str) -> bool:
    """Whether a number from a sentence appears as a number in the passage."""
    found = {v for n in numbers_in(passage) for v in _number_variants(n)}
    return bool(_number_variants(value) & found)


def _number_variants(value: str) -> set[str]:
    variants = {value}
    if "." in value:
        variants.add(value.rstrip("0").rstrip("."))
    if value.isdigit():
        variants.add(str(int(value)))
    return variants


_DOCUMENT_MARKER = re.compile(r"\[(\d+(?:\s*[,，]\s*\d+)*)\]")


def neutralise_markers(text: str) -> str:
    """'[3]' written inside a document becomes '(3)', so it cannot pass for a citation marker.
    Same length, so positions in the neutral text are positions in the original."""
    return _DOCUMENT_MARKER.sub(lambda m: f"({m.group(1)})", text)
