"""Answer scoring as plain functions over plain records: key facts, quotes, citations on gold
pages, control characters, and reading a question file of either shape into one record.

Key facts are looked for in the answer text alone (citation markers taken out), under
`normalise_answer`; facts that only the notes under the answer hold (the gazetteer's "Jeonju
is in Jeonbuk ...") are counted apart. A quote counts as on its page when, normalised by
`normalise_page`, it occurs in the page's text as the PDF library extracts it: the caller
passes that text, never the index's chunks, and no verifier of the product takes part. A table
row is quoted as its cells ("| 전세임대 | 2024년 확정(B): 4,546,931 |", a figure joined to its
column's header); the PDF library reads a table cell by cell in an order of its own, so such a
quote counts when every cell, and each side of a header join, occurs on the page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policyqa.core.language import detect_language

PageKey = tuple[str, int]

# -- key facts ----------------------------------------------------------------------------------

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# A month's name or its usual abbreviation as a whole word ("Sept.", not "decided").
MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![a-z])"
)
_ENGLISH_DATES = (
    # 10 July 2023
    (re.compile(rf"(?<!\d)(\d{{1,2}})\s+({MONTH_NAME})\s+(\d{{4}})(?!\d)", re.I), (3, 2, 1)),
    # July 10, 2023
    (re.compile(rf"\b({MONTH_NAME})\s+(\d{{1,2}}),?\s+(\d{{4}})(?!\d)", re.I), (3, 1, 2)),
)
_ENGLISH_MONTH = re.compile(rf"\b({MONTH_NAME})\s+(\d{{4}})(?!\d)", re.I)  # July 2023
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")  # 2023-07-10

# The steps of real-docs-dev's norm_answer(), in its order.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_QUOTE_MARKS = re.compile(r"[’‘`′']")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_SHORT_YEAR = re.compile(r"'(\d{2})(?!\d)")  # '18 -> 2018, '93 -> 1993
_KO_DAY = re.compile(r"(\d{4})년(\d{1,2})월(\d{1,2})일")
_KO_MONTH = re.compile(r"(\d{4})년(\d{1,2})월")
_DOT_MONTH = re.compile(r"(\d{4})\.(\d{1,2})월")
_LEADING_ZERO_MONTH = re.compile(r"(\d{4})\.0(\d)")

_MARKER = re.compile(r"\[\d+(?:\s*[,，]\s*\d+)*\]")


def _month_number(name: str) -> int:
    return _MONTHS.index(name[:3].lower()) + 1


def _english_dates(text: str) -> str:
    """English and ISO calendar dates written as yyyy.m.d (a month and year as yyyy.m), the
    form the Korean dates take below: '10 July 2023' = '2023-07-10' = '2023년 7월 10일'."""

    def full(order: tuple[int, int, int]) -> Callable[[re.Match[str]], str]:
        def rewrite(match: re.Match[str]) -> str:
            year, month, day = (match.group(i) for i in order)
            if not 1 <= int(day) <= 31:
                return match.group(0)
            return f"{year}.{_month_number(month)}.{int(day)}"

        return rewrite

    for pattern, order in _ENGLISH_DATES:
        text = pattern.sub(full(order), text)
    text = _ENGLISH_MONTH.sub(lambda m: f"{m.group(2)}.{_month_number(m.group(1))}", text)

    def iso(match: re.Match[str]) -> str:
        year, month, day = match.groups()
        if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
            return match.group(0)
        return f"{year}.{int(month)}.{int(day)}"

    return _ISO_DATE.sub(iso, text)


def normalise_answer(text: str) -> str:
    """Text as key facts are compared: real-docs-dev's norm_answer() (no whitespace, control
    characters or thousands separators; case and quote marks folded; '18 -> 2018; Korean
    dates as yyyy.m.d), after NFC and with English and ISO dates in the same form."""
    text = _english_dates(unicodedata.normalize("NFC", text))
    text = _SPACE_OR_CONTROL.sub("", text).casefold()
    text = _QUOTE_MARKS.sub("'", text)
    text = _THOUSANDS.sub("", text)
    text = _SHORT_YEAR.sub(lambda m: ("19" if int(m.group(1)) >= 50 else "20") + m.group(1), text)
    text = _KO_DAY.sub(r"\1.\2.\3", text)
    text = _KO_MONTH.sub(r"\1.\2", text)
    text = _DOT_MONTH.sub(r"\1.\2", text)
    return _LEADING_ZERO_MONTH.sub(r"\1.\2", text)


def strip_markers(text: str) -> str:
    """The answer without its citation markers: '[2]' is no figure of the answer."""
    return _MARKER.sub(" ", text)


def facts_found(text: str, facts: Sequence[Sequence[str]]) -> list[bool]:
    """Per key fact (its accepted wordings), whether one wording occurs in `text`."""
    haystack = normalise_answer(text)
    return [any(normalise_answer(w) in haystack for w in wordings) for wordings in facts]


# -- quotes and control characters --------------------------------------------------------------


def normalise_page(text: str) -> str:
    """Text as quotes are found on pages: NFKC, no whitespace, control or format characters
    (a line break, a BEL between words or a soft hyphen is no difference between them)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in {"Cc", "Cf"}
    )


def quote_parts(quote: str) -> list[str]:
    """What must occur on the page for the quote to be there, normalised: the quote itself, or
    for a table row each cell and each side of a "header: value" join."""
    text = quote.strip()
    if not (text.startswith("|") and text.endswith("|") and len(text) > 1):
        needle = normalise_page(text)
        return [needle] if needle else []
    parts = (part for cell in text.strip("|").split("|") for part in cell.split(": "))
    return [needle for needle in map(normalise_page, parts) if needle]


def quote_on_page(quote: str, page_text: str | None) -> bool:
    """Whether the quote occurs on the page (False for a missing page or an empty quote)."""
    parts = quote_parts(quote)
    if not parts or page_text is None:
        return False
    page = normalise_page(page_text)
    return all(part in page for part in parts)


def control_chars(text: str) -> list[str]:
    """Control characters (Unicode Cc) other than newline and tab, in order of occurrence."""
    return [ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t"]


# -- what the user is shown, and its score ------------------------------------------------------


@dataclass(frozen=True)
class ShownCitation:
    n: int
    doc: str
    page: int  # physical, 1-based
    page_label: str
    quote: str


@dataclass(frozen=True)
class Shown:
    """An answer as the user sees it: text with [n] markers, notes under it, sources."""

    answered: bool
    text: str
    notes: tuple[str, ...] = ()
    citations: tuple[ShownCitation, ...] = ()


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    language: str
    answerable: bool
    pages: tuple[PageKey, ...]  # gold (doc, physical page)
    docs: tuple[str, ...]  # gold documents (an unanswerable question may name one too)
    key_facts: tuple[tuple[str, ...], ...]  # each fact as its accepted wordings
    history: tuple[Mapping[str, str], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)  # the file's slice/origin/persona
    reference_answer: str = ""


@dataclass
class AnswerScore:
    facts_in_answer: list[bool]
    facts_in_notes_only: list[bool]
    quotes_on_page: list[bool]  # per citation
    gold_pages_cited: list[bool]  # per citation: its (doc, page) is a gold page
    gold_page_cited: bool | None  # answered answerable question with gold pages only
    control_chars: list[str]


PageText = Callable[[str, int], "str | None"]


def score_answer(question: GoldQuestion, shown: Shown, page_text: PageText) -> AnswerScore:
    """Key facts in the answer text and only in its notes (a refusal shows none), each quote
    on its page as extracted, a citation on a gold page, control characters anywhere shown."""
    facts = question.key_facts
    if shown.answered and facts:
        in_answer = facts_found(strip_markers(shown.text), facts)
        in_notes = facts_found("\n".join(shown.notes), facts)
    else:
        in_answer = in_notes = [False] * len(facts)
    gold = set(question.pages)
    on_gold = [(c.doc, c.page) in gold for c in shown.citations]
    shown_text = "\n".join([shown.text, *shown.notes, *(c.quote for c in shown.citations)])
    return AnswerScore(
        facts_in_answer=in_answer,
        facts_in_notes_only=[n and not a for a, n in zip(in_answer, in_notes, strict=True)],
        quotes_on_page=[quote_on_page(c.quote, page_text(c.doc, c.page)) for c in shown.citations],
        gold_pages_cited=on_gold,
        gold_page_cited=any(on_gold) if question.answerable and shown.answered and gold else None,
        control_chars=control_chars(shown_text),
    )


# -- question files -----------------------------------------------------------------------------

LABEL_FIELDS = ("slice", "origin", "persona")


def read_question(row: Mapping[str, Any], number: int) -> GoldQuestion:
    """One question of either shape: the curated set's (`sources: [{doc, page}]`, key facts
    that may list wordings, `history`) or real-docs-dev's (`doc`, `pages`, `key_facts`,
    `reference_answer`). Language: the row's, else detected from the question."""
    qid = str(row.get("id", f"line {number}"))
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{qid}: no question text")
    pages: list[PageKey] = []
    docs: list[str] = []
    if "sources" in row:
        for source in row.get("sources") or []:
            pages.append((str(source["doc"]), int(source["page"])))
    if row.get("doc"):
        docs.append(str(row["doc"]))
        pages += [(str(row["doc"]), int(p)) for p in row.get("pages") or []]
    elif row.get("pages"):
        raise ValueError(f"{qid}: pages without a doc")
    docs += [doc for doc, _ in pages]
    facts = tuple(
        tuple(str(w) for w in fact) if isinstance(fact, list) else (str(fact),)
        for fact in row.get("key_facts") or []
    )
    language = str(row.get("language") or "")
    if not language:
        detected = detect_language(question)
        language = "en" if detected == "en" else "ko"
    labels = {name: str(row[name]) for name in LABEL_FIELDS if row.get(name) not in (None, "")}
    return GoldQuestion(
        id=qid,
        question=question,
        language=language,
        answerable=bool(row.get("answerable", True)),
        pages=tuple(sorted(set(pages))),
        docs=tuple(dict.fromkeys(docs)),
        key_facts=facts,
        history=tuple(row.get("history") or ()),
        labels=labels,
        reference_answer=str(row.get("reference_answer") or ""),
    )


def language_slice(question: GoldQuestion, doc_languages: Mapping[str, str]) -> str:
    """'en→ko': an English question answered by Korean documents ('ko+en' when its gold
    documents are in both, '?' when none is known); 'unanswerable' for the rest."""
    if not question.answerable:
        return "unanswerable"
    languages = sorted({doc_languages.get(doc, "?") for doc in question.docs}) or ["?"]
    return f"{question.language}→{'+'.join(languages)}"


def slice_labels(question: GoldQuestion, doc_languages: Mapping[str, str]) -> dict[str, str]:
    """The groups a question is reported in: question × document language (or unanswerable),
    question language, and the file's own slice / origin / persona where it has them."""
    return {
        "languages": language_slice(question, doc_languages),
        "language": question.language,
        **question.labels,
    }
