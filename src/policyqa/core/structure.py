"""What a line of a document is: a heading (and its style), a table row or figure, a contents
entry, a labelled item, a unit note. The one home of these rules for loading, splitting and
answering."""

from __future__ import annotations

import itertools
import re

from policyqa.core.language import is_korean
from policyqa.core.text import LINE_START, display_width
from policyqa.core.tuning import HEADING_WIDTH, LABEL_WIDTH

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
# A section's name does not start with a currency or percent sign, a dash, an amount or the
# next item's number: "(a) (b) (c)", "(3) $0.49 $0.82", "0.3 (0.9 ) (0.5 ) Tax basis",
# "13.0 % 9.4 %", "(d) (1) — — Kentucky" are a table's labels and cells.
_SIGN_START = re.compile(r"^[(（]?\s*(?:[$%€£¥₩—–\-]|\d[\d,]*\.\d|\d{1,3}(?:,\d{3})+)")
_NEXT_MARK = re.compile(r"^[(（][^)）\s]{1,4}[)）]")
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
    return display_width(core) > HEADING_WIDTH


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
    if display_width(before) >= HEADING_WIDTH and _CONTINUED.search(before):
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
        display_width(label) > LABEL_WIDTH
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
    if _SIGN_START.match(title) or _NEXT_MARK.match(title) or _LOWER_START.match(title):
        return False  # table labels and cells, or an item of a sentence ("(7) any of ...")
    if reads_as_sentence(title):
        return False
    following = next_line.strip()
    # A paragraph's first line runs on into the next: in English the next line goes on in
    # lower case; in Korean, where case says nothing, a long line is taken to be wrapped.
    wraps = (
        bool(following)
        and _CLOSED.search(title) is None
        and LINE_START.match(following) is None
        and (
            _LOWER_START.match(following) is not None
            or (is_korean(title) and display_width(title) >= HEADING_WIDTH * 2 // 3)
        )
    )
    return not wraps
