"""Plain text helpers shared by answering, verification and evaluation: sentence spans,
numbers, normalisation for matching. No models."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from policyqa.core.language import is_korean

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
_LINE_START = re.compile(
    r"^\s*(?:[-*•·○□▪■◦|#>]|\d{1,2}[.)]\s|[가-하][.)]\s|\([0-9a-z가-하]{1,2}\)|[IVXⅠ-Ⅻ]+\.)"
)
_CELL_CHARS = 32
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
        heading = _LINE_START.match(line) is not None and len(line.strip()) < 40
        # A short line after a short line is a table cell as PDF extraction gives them, one
        # per line; joined, a whole table would read as one long "sentence". (A single short
        # line is more often the first line of a short paragraph wrapped once.)
        prev_line = line_at(i - 1)
        cell = _is_cell(line) and _is_cell(prev_line) and _LINE_START.match(prev_line) is None
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
                or _LINE_START.match(after_value) is not None
                or _is_label(after_value)
            )
        )
        label = (
            not value_of_label
            and _is_label(line)
            and _LINE_START.match(next_line) is None
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
                or _LINE_START.match(next_line) is not None
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
        and _LINE_START.match(line) is None
        and _LINE_END.search(line) is None
    )


def _is_cell(line: str) -> bool:
    """A short line: under _CELL_CHARS columns, a Hangul syllable counting as two."""
    width = display_width(line.strip())
    return 0 < width < _CELL_CHARS


def display_width(text: str) -> int:
    """Columns the text takes, a Hangul syllable counting as two."""
    return len(text) + len(_HANGUL.findall(text))


# -- what a line is: heading, table row, contents entry, label --------------------------------

_HEADING_STYLES: list[tuple[str, re.Pattern[str]]] = [
    ("chapter", re.compile(r"^제\s*\d+\s*[장편]|^부\s*칙\s*(?:[<(（].*)?$")),
    ("part", re.compile(r"^제\s*\d+\s*절")),
    ("article", re.compile(r"^제\s*\d+\s*조(?:의\s*\d+)?\s*[(（]")),
    ("roman", re.compile(r"^(?:[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+|[IVX]{1,5})\.?\s+\S")),
    ("num2", re.compile(r"^\d{1,2}\.\d{1,2}\.?\s+\S")),
    ("num", re.compile(r"^\d{1,2}\.\s+\S")),
    ("upper", re.compile(r"^[A-HJ-UWYZ]\.\s+[A-Z]")),  # "A. Introduction"; I, V, X are roman
    ("ganada", re.compile(r"^[가나다라마바사아자차카타파하]\.\s+\S")),
    ("paren", re.compile(r"^[(（]\d{1,2}[)）]\s*\S")),
    ("alpha", re.compile(r"^[(（][a-z][)）]\s+\S")),
    ("box", re.compile(r"^[□■]\s*\S")),
    ("circle", re.compile(r"^[○◦●]\s*\S")),
]
# The numbering of a heading, before its words.
_HEADING_MARK = re.compile(
    r"^(?:[□■○◦●]|[(（]?(?:\d{1,2}(?:\.\d{1,2})?|[a-zA-Z가-하]|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+|[IVX]{1,5})[.)）]?)\s*"
)
# An unnumbered back-matter heading, as PDFs give "## Sources": a section of its own, so a
# source list that runs on into the next chunk is still known as one.
NAMED_HEADING = re.compile(
    r"^(?:sources?|references?|bibliography|출처|참고\s?(?:문헌|자료))\s*:?$", re.IGNORECASE
)
_ARTICLE_LABEL = re.compile(r"제\s*\d+\s*조(?:의\s*\d+)?\s*[(（][^)）]{0,40}[)）]")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A heading names a section in a few words: official documents' numbered headings run up to
# about 25 Hangul syllables or 55 Latin characters; a longer numbered line is a paragraph.
_HEADING_WIDTH = 60
_LETTER = re.compile(r"[A-Za-z\uac00-\ud7a3]")
_PARENTHESISED = re.compile(r"[(（\[][^()（）\[\]]*[)）\]]")
# A sentence that ends and another that begins: "... 전체회의. 일부 언론은", "independence.  It".
_INNER_SENTENCE_END = re.compile(r"(?:(?<=[^\d\s.])[.!?。]|다\.)\s+\S")
# The end of a sentence: a full stop (not after a lone number), or a Korean predicate ending.
_SENTENCE_FINAL = re.compile(r"(?:(?<=[^\d\s])[.!。]|[다요]\.?|[음함됨임]\.)[\"'”’)]*$")
_CLOSED = re.compile(r"[.!?。:;)）」』”\"'’|]$")
# English a heading never ends on: an article, preposition or conjunction ("... policy of the").
_OPEN_ENDING = re.compile(
    r"\b(?:the|a|an|of|to|in|on|at|by|for|from|with|and|or|but|as|that|than|into|onto)$", re.I
)
# A line that cannot end a sentence: a comma or a conjunction last (Korean sentences in
# official style end on nouns, so only these say for sure that the next line goes on).
_CONTINUED = re.compile(r"(?:[,·、]|\b(?:및|또는|혹은|그리고|and|or|of|the|to))$", re.I)
# A subject and its auxiliary: a clause ("We will therefore introduce ..."), unless a question
# word makes it a heading ("How we will measure success").
_CLAUSE = re.compile(
    r"(?<!how )(?<!what )(?<!why )(?<!where )(?<!when )(?<!who )\b(?:I|we|you|they|he|she|it)\s+"
    r"(?:will|would|can|could|shall|should|may|might|must|have|has|had|am|are|is|was|were|do|did)\b",
    re.I,
)
_LOWER_START = re.compile(r"^[a-z]")
# Dot leaders before a page number: a table-of-contents entry ("I. Conclusion ....... 95").
_LEADERS = re.compile(r"(?:\.{4,}|…{2,}|·{4,}|_{4,}|(?:\. ){3,}|(?:· ){3,})\s*[\divxlc]*\s*$", re.I)
# A figure cell: "1,477,009", "△26.0", "(63.6)", "[341,802]", "100%", "14.6%p", "-".
_FIGURE = re.compile(r"^[\[(（]?[△▲▽▼+\-−]?\s*\d[\d,]*(?:\.\d+)?\s*(?:%p?|배)?[\])）]?$|^[-–—]$")
# A column heading that is a year: "2024", "2024년", "’21년(실적)", "2024(안)", "FY2025".
_YEAR_HEADING = re.compile(
    r"^(?:FY\s?)?(?:(?:19|20)\d{2}|[‘’'`]\d{2})\s*(?:년도?)?\s*(?:[(（][^)）]{0,20}[)）])?$", re.I
)


# A table's statement of its unit: "(단위: 백만원, %)", "(Unit: KRW million)", "(in millions
# of won)".
_UNIT_NOTE = re.compile(
    r"[(（\[]\s*(?:단위|units?)\s*[:：][^()（）\[\]]{1,40}[)）\]]|\((?:amounts? )?in "
    r"(?:[^)]{0,12}\s)?(?:thousands?|millions?|billions?|trillions?)\b[^)]{0,30}\)",
    re.IGNORECASE,
)


def unit_note(text: str) -> str:
    """The unit statement in `text` as printed, or ""."""
    found = _UNIT_NOTE.search(text)
    return found.group(0) if found else ""


def has_letters(text: str) -> bool:
    """Whether `text` has words (Hangul or Latin letters), not only figures and marks."""
    return _LETTER.search(text) is not None


def is_value_cell(text: str) -> bool:
    """Whether a table cell holds a figure (or a dash for none) rather than words."""
    return _FIGURE.match(text.strip()) is not None


def is_year_heading(text: str) -> bool:
    """Whether a table cell is a year label, which heads a column rather than giving a figure."""
    return _YEAR_HEADING.match(text.strip()) is not None


def is_contents_entry(line: str) -> bool:
    """A table-of-contents line: words, dot leaders and a page number."""
    return _LEADERS.search(line.strip()) is not None


def is_letter_spaced(line: str) -> bool:
    """A label set with a space between its letters ("사   업   명", "목 차"): a form's field
    name, not a title or a heading."""
    tokens = line.split()
    return len(tokens) >= 2 and all(len(t) == 1 and _LETTER.match(t) for t in tokens)


def is_figure_row(text: str) -> bool:
    """Whether a line reads as a table row flattened by extraction: two figures side by side,
    or figures in a third of its words ("국세감면액 (A) 570,248 635,776"; not "session of 30
    September 2025")."""
    figures = [is_value_cell(t) and t not in "-–—" for t in text.split()]
    if sum(figures) < 2:
        return False
    adjacent = any(a and b for a, b in itertools.pairwise(figures))
    return adjacent or 3 * sum(figures) >= len(figures)


def reads_as_sentence(text: str) -> bool:
    """Whether a line states something rather than naming it: two sentences in it, or a
    sentence ending, or a length no heading has. Parenthesised asides do not count
    ("□ 사업 지원 형태 (최소한 한 개는 반드시 선택하시오. 해당사항에 O 표시)" is a heading)."""
    core = _PARENTHESISED.sub("", text).strip()
    if _INNER_SENTENCE_END.search(core):
        return True
    if _SENTENCE_FINAL.search(core) and len(core.split()) >= 3:
        return True
    if core.endswith(":") and len(core.split()) >= 6:  # "60 years ago, the world was ...:"
        return True
    if _OPEN_ENDING.search(core) or _CLAUSE.search(core):
        return True
    return display_width(core) > _HEADING_WIDTH


def heading_style(
    line: str, next_line: str = "", previous_line: str = ""
) -> tuple[str, str] | None:
    """(style, title) when the line opens a section, else None.

    A numbered or bulleted line is a heading only when it names something: not a row of
    figures ("71.7 73.0 75.8", "3. 상속·증여세 10,838 1.9 20,049"), not a contents entry, not a
    paragraph that starts with a number ("1. Every year, the resources ... are allocated" runs
    on into `next_line`), and not the rest of a wrapped sentence (`previous_line` is a full
    line that ends mid-sentence: "... 「국가재정법」 제9조(재정정보의 공표) 및" / "제34조(...)")."""
    stripped = line.strip()
    if not stripped:
        return None
    md = _MD_HEADING.match(stripped)
    if md:
        return f"md{len(md.group(1))}", md.group(2).strip()
    if len(stripped.split()) > 40 or is_contents_entry(stripped):
        return None
    if NAMED_HEADING.match(stripped):
        return "named", stripped.rstrip(":").strip()
    before = previous_line.strip()
    if display_width(before) >= _HEADING_WIDTH and _CONTINUED.search(before):
        return None  # the line goes on with the sentence the previous line began
    for style, pattern in _HEADING_STYLES:
        if pattern.match(stripped):
            if style == "article":
                # "제2조(정의) 이 법에서 ..." is titled "제2조(정의)": the article's text follows.
                label = _ARTICLE_LABEL.match(stripped)
                return style, label.group(0) if label else stripped
            if style in ("chapter", "part") or _names_a_section(stripped, next_line):
                return style, stripped
            labelled = _labelled(stripped)
            if labelled:
                return style, labelled
            return None
    return None


# "□ 추진 배경: 지방소멸을 막기 위해 ...": a field name, a colon, the field's text.
_LABEL = re.compile(r"^([^:：]{1,30}?)\s*[:：]\s*\S")
_LABEL_WIDTH = 24


def _labelled(line: str) -> str:
    """The section a labelled item opens, titled by its label ("□ 추진 배경"), as an article
    is titled by its label: the sentence after the colon is the section's text, not its
    name. "" when the line is not a short label followed by a colon."""
    mark = _HEADING_MARK.match(line)
    start = mark.end() if mark else 0
    found = _LABEL.match(line[start:])
    if found is None:
        return ""
    label = found.group(1).strip()
    if (
        display_width(label) > _LABEL_WIDTH
        or not _LETTER.search(label)
        or is_figure_row(label)
        or reads_as_sentence(label)
    ):
        return ""
    return (line[:start] + label).strip()


def _names_a_section(line: str, next_line: str) -> bool:
    mark = _HEADING_MARK.match(line)
    title = line[mark.end() :] if mark else line
    if not _LETTER.search(title) or is_figure_row(title):
        return False  # a row of a table
    if reads_as_sentence(title):
        return False
    following = next_line.strip()
    # A paragraph's first line runs on into the next: in English the next line goes on in
    # lower case; in Korean, where case says nothing, a long line is taken to be wrapped.
    wraps = (
        bool(following)
        and _CLOSED.search(title) is None
        and _LINE_START.match(following) is None
        and (
            _LOWER_START.match(following) is not None
            or (is_korean(title) and display_width(title) >= _HEADING_WIDTH * 2 // 3)
        )
    )
    return not wraps


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
