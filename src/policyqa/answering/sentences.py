"""Sentence choice: every sentence of the retrieved passages scored against the question, the
best few selected, in reading order."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from policyqa.answering import qtype
from policyqa.answering.analysis import QuestionAnalysis
from policyqa.answering.gaps import in_gaps_section
from policyqa.answering.periods import years_in
from policyqa.answering.terms import QuestionTerms, subject_terms
from policyqa.core.models import Chunk, Passage
from policyqa.core.structure import reads_as_sentence
from policyqa.core.text import (
    Span,
    display_width,
    leaves_parenthesis_open,
    numbers_in,
    sentence_spans,
)
from policyqa.core.tuning import (
    CONTEXT_CREDIT,
    DETAIL_BOOST,
    FRAGMENT_CHARS,
    HEADING_WIDTH,
    LIST_BLOCK_CHARS,
    LIST_ITEM_CHARS,
    OTHER_LANGUAGE_FACTOR,
    PERIOD_BOOST,
    ROW_SUBJECT_SHARE,
    SENTENCE_RELEVANCE,
    UNIT_CONTEXT_CHARS,
)
from policyqa.ingest.split import heading_style, section_at

Tokenize = Callable[[str], list[str]]


# A labelled field as sheets write them: "- 사업기간 : ...", "ㅇ 사업시행주체 : ..."
_FIELD = re.compile(r"^\s*(?:[-*•○◦▪·□ㅇ]\s*)?([^:：|()]{2,20}?)\s*[:：]\s*\S")
_LIST_ITEM = re.compile(r"\s*(?:[-*•◦▪·]|\d{1,2}[.)]|[가-하][.)]|\([0-9a-z가-하]{1,2}\))\s")
# A line that ends like a sentence is a numbered sentence, not a heading ("1. 예산을 늘린다.").
_ENDS_SENTENCE = re.compile(r"[.다요]\s*$")
# Numbered and Markdown headings; not "○ ..." or "제2조(정의) ..." lines, which hold content.
_SECTION_HEADINGS = ("md", "num", "num2", "roman", "ganada", "chapter", "part")
_SOURCES_SECTION = re.compile(r"(?:^|> )(?:sources?|references?|출처|참고\s?(?:문헌|자료))$", re.I)
_HEADING_LINE = re.compile(
    r"^\s*(?:#{1,6}\s+|(?:\d{1,2}|[IVX]+|[가-하])[.)]\s+|\([a-z0-9가-하]\)\s+|[□■]\s*)(?P<title>.{2,70})$"
)


@dataclass(frozen=True)
class Candidate:
    passage_index: int  # 0-based position in the passage list
    span: Span
    score: float
    coverage: float  # share of the question's terms in the sentence itself
    other_language: bool
    effective: float = 0.0  # the same, crediting the previous sentence at CONTEXT_CREDIT


def span_section(chunk: Chunk, span: Span) -> str:
    """The heading a sentence sits under: the last heading line before it inside the chunk,
    else the section the chunk's outline gives for its position (a chunk packed from several
    short sections is filed under its last one, which the lines before it are not in)."""
    heading = ""
    for line in chunk.text[: span.start].splitlines():
        match = _HEADING_LINE.match(line)
        if match and not _ENDS_SENTENCE.search(line):
            heading = match.group("title").strip()
        elif _SOURCES_SECTION.search(line.strip()):
            heading = line.strip()  # an unnumbered "Sources" heading, as PDFs give it
    return heading or section_at(chunk, span.start)


def measure_context(chunk: Chunk, span: Span) -> str:
    """The sentence with what comes just before it in its passage, where a table states its
    unit, and its section heading."""
    before = chunk.text[max(0, span.start - UNIT_CONTEXT_CHARS) : span.start]
    return f"{chunk.section}\n{before}{span.text}"


def gives_measure(analysis: QuestionAnalysis, chunk: Chunk, span: Span) -> bool:
    """Whether the sentence (with its table's unit) gives a figure of the measure asked:
    a share for "몇 %", a sum of money for "예산은 얼마"."""
    return analysis.measure is None or qtype.gives_measure(
        analysis.measure, measure_context(chunk, span)
    )


def score_candidates(passages: Sequence[Passage], analysis: QuestionAnalysis) -> list[Candidate]:
    """Every sentence of the passages, scored by the question terms it covers (or, at a
    discount, that it covers together with the sentence before it: "It cost 175 trillion won"
    answers a question whose subject the previous sentence names), by its passage's rank, and
    by whether it gives the kind of detail asked for."""
    if not passages:
        return []
    terms = analysis.terms
    top = max(p.score for p in passages) or 1.0
    out = []

    titles = [set(terms.tokenize(p.chunk.title)) for p in passages]
    # A sentence in the other language is weighed against the whole question, unless that
    # language is the one asked for ("what do the Korean documents call ...?"): its wording
    # is then what the question wants, not weaker evidence.
    whole = analysis.requested_language is None

    def score(unit: Candidate, tokens: set[str], previous: set[str]) -> Candidate | None:
        """The unit scored: None for a heading or a piece of table cells."""
        span, other = unit.span, unit.other_language
        if looks_like_heading(span.text) or _looks_like_fragment(span.text):
            return None
        coverage = terms.coverage(tokens, other, span.text, whole)
        effective = titled = coverage
        if coverage > 0:
            # Only a sentence that shares some of the question's terms continues its
            # predecessor's subject; otherwise any sentence after a good one would qualify.
            if previous:
                with_context = terms.coverage(tokens | previous, other, span.text, whole)
                effective = max(coverage, CONTEXT_CREDIT * with_context)
            # The document's title names what all its sentences are about ("- 사업시행주체 :
            # 보건복지부, 지자체" on the 생계급여 sheet is about 생계급여): it ranks them, but
            # does not make a sentence more about the question when weighed against a stated
            # gap (`effective`), since a gap list on a sheet about X would then answer any
            # question on X.
            # So does the heading it sits under ("4. 사업목적·내용" for "사업목적은?").
            heading = set(terms.tokenize(span_section(passages[unit.passage_index].chunk, span)))
            with_title = terms.coverage(
                tokens | previous | titles[unit.passage_index] | heading, other, span.text, whole
            )
            titled = max(effective, CONTEXT_CREDIT * with_title)
        value = titled * (0.5 + 0.5 * (passages[unit.passage_index].score / top))
        chunk = passages[unit.passage_index].chunk
        if (
            analysis.details
            and analysis.gives_detail(span.text)
            and gives_measure(analysis, chunk, span)
        ) or _field_asked(span.text, terms):
            value *= DETAIL_BOOST
        named = years_in(span.text) if analysis.years else set()
        if named:
            # the row of the year asked comes first; a row of other years only after it
            value *= PERIOD_BOOST if named & analysis.years else 1 / PERIOD_BOOST
        if other:
            # The question's language is preferred when both say the same; translated
            # terms are weaker evidence than the question's own words.
            value *= OTHER_LANGUAGE_FACTOR
        return dataclasses.replace(unit, score=value, coverage=coverage, effective=effective)

    for index, passage in enumerate(passages):
        chunk = passage.chunk
        other = chunk.language not in (terms.language, "mixed")
        if _SOURCES_SECTION.search(chunk.section):
            continue  # a list of sources is not an answer
        previous: set[str] = set()
        units: list[tuple[Span, set[str], set[str]]] = []  # span, its tokens, the one before's
        sentences: list[Candidate] = []  # this passage's
        for sentence in sentence_spans(chunk.text):
            if _SOURCES_SECTION.search(span_section(chunk, sentence)):
                continue  # nor is a list of sources that starts inside the chunk
            span = _without_title(sentence, chunk.title)
            if span is not None:
                span = without_heading(span, chunk.text)
            if span is None:
                continue  # the document's title line says nothing the title does not
            tokens = set(terms.tokenize(span.text))
            before, previous = previous, tokens
            units.append((span, tokens, before))
            candidate = score(Candidate(index, span, 0.0, 0.0, other), tokens, before)
            if candidate is not None:
                sentences.append(candidate)
        out.extend(sentences)
        if not analysis.several:
            continue
        for span, tokens, before in list_blocks(chunk.text, units):
            if in_gaps_section(span_section(chunk, span)):
                continue  # a gap is quoted by itself: the one the question is about
            block = score(Candidate(index, span, 0.0, 0.0, other), tokens, before)
            best = max(
                (c.coverage for c in sentences if span.start <= c.span.start < span.end),
                default=0.0,
            )
            # A list answers a question for several items ("how was it split?") as a whole
            # when its items together say more than any one of them.
            if block is not None and block.coverage > best:
                out.append(block)
    out.sort(key=lambda c: (-c.score, c.passage_index, c.span.start))
    return out


def _field_asked(text: str, terms: QuestionTerms) -> bool:
    """Whether the sentence is a labelled field ("- 사업기간 : ’22년~‘24년") whose label is
    what the question asks about (most of the label's IDF weight is in the question's terms)
    and whose value is a value (a period, names, a figure), not a statement. Such a line
    carries the requested detail; sentences around it are background."""
    match = _FIELD.match(text)
    if match is None or reads_as_sentence(text[match.end() - 1 :]):
        return False  # no field, or one whose value is a statement, not a value
    label = subject_terms(terms.tokenize(match.group(1)))
    if not label:
        return False
    weights = terms.idf(label)
    total = sum(weights.values())
    met = sum(w for t, w in weights.items() if t in terms.weights)
    return total > 0 and met / total >= ROW_SUBJECT_SHARE


def list_blocks(
    text: str, units: Sequence[tuple[Span, set[str], set[str]]]
) -> Iterator[tuple[Span, set[str], set[str]]]:
    """Runs of short list items as one unit each ("people: KRW 51 trillion; space: KRW 66
    trillion; industry: KRW 56 trillion"): one item answers a part of "how was it split?", the
    run answers it. Yields the run as an exact substring of `text`, its tokens, and as its
    context the tokens of the sentence that introduces the list and of the one before that
    ("The 4th plan ... was approved in 2019. It had three strategies, each with a budget:")."""
    start = 0
    while start < len(units):
        end = start
        while end < len(units) and _is_list_item(units[end][0]):
            if end > start and text[units[end - 1][0].end : units[end][0].start].strip():
                break
            end += 1
        if end - start >= 2:
            first, stop = units[start][0].start, units[end - 1][0].end
            if stop - first <= LIST_BLOCK_CHARS:
                tokens = set().union(*(u[1] for u in units[start:end]))
                context = units[start][2] | (units[start - 1][2] if start > 0 else set())
                yield Span(text[first:stop], first), tokens, context
        start = max(end, start + 1)


def _is_list_item(span: Span) -> bool:
    return is_list_item(span.text) and len(span.text) <= LIST_ITEM_CHARS


def is_list_item(text: str) -> bool:
    """Whether the text opens with a list mark ("-", "•", "1.", "가.", "(a)")."""
    return _LIST_ITEM.match(text) is not None


def _without_title(span: Span, title: str) -> Span | None:
    """The sentence without the document's title line that a PDF ran into it ("Regional Sheet:
    Gangwon ... Province This is an illustrative compilation ..."); None when it is only the
    title. The rest stays an exact substring, so its quote is still verbatim."""
    words = title.split()
    if not words:
        return span
    found = re.match(r"\s*" + r"\s+".join(map(re.escape, words)) + r"\s*", span.text)
    if found is None:
        return span
    rest = span.text[found.end() :]
    if len(rest.strip()) < 12:
        return None
    return Span(rest, span.start + found.end())


def without_heading(span: Span, text: str) -> Span:
    """The sentence without a section heading that the PDF line-joining ran into it ("A
    different grouping: ... "Gangwon·Jeju" The finance ministry's ..."): a heading names the
    section, and read as part of the sentence it makes the sentence look about more than it is."""
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.start)
    if line_end < 0 or line_end >= span.end:
        return span  # the sentence does not run past its first line
    line = text[line_start:line_end]
    if display_width(line.strip()) > HEADING_WIDTH:
        return span  # wider than any heading: a numbered paragraph's first line
    style = heading_style(line)
    if style is None or not style[0].startswith(_SECTION_HEADINGS):
        return span
    if _ENDS_SENTENCE.search(text[line_start:line_end]):
        return span  # a numbered sentence, not a heading
    rest = span.text[line_end + 1 - span.start :]
    stripped = rest.lstrip()
    if len(stripped) < 12:
        return span
    return Span(stripped, span.end - len(stripped))


def _looks_like_fragment(text: str) -> bool:
    """Pieces of two table cells that PDF extraction interleaved: short, with a parenthesis
    opened and not closed ("restructuring of RISE 10 universities (by")."""
    return len(text) < FRAGMENT_CHARS and leaves_parenthesis_open(text)


def looks_like_heading(text: str) -> bool:
    return (
        len(text) < 40
        and not re.search(r"[.다요음함됨임]\s*$", text)
        and not re.match(r"\s*[-•○◦▪*]\s", text)
        and not numbers_in(text)
    )


def select_sentences(
    candidates: Sequence[Candidate],
    tokenize: Tokenize,
    max_sentences: int,
    max_chars: int = 700,
    passages: Sequence[Passage] = (),
) -> list[Candidate]:
    """Best sentence, then others close to it, skipping near-duplicates; in reading order. A
    sentence from none of the chosen sentences' documents must cover at least
    SENTENCE_RELEVANCE of the question coverage of one of them (checked when `passages` are
    given): a high-ranked passage of an unrelated document ("we have developed a stronger pool
    of startups") otherwise rides along with the sentence that answers, most often when that
    one is in the other language and so ranks lower."""
    if not candidates or candidates[0].score <= 0:
        return []
    best = candidates[0].score
    chosen: list[Candidate] = []
    chosen_tokens: list[set[str]] = []
    length = 0
    for cand in candidates:
        if len(chosen) >= max_sentences or cand.score < 0.6 * best:
            break
        if (
            passages
            and chosen
            and not any(
                passages[c.passage_index].chunk.doc_id == passages[cand.passage_index].chunk.doc_id
                or cand.coverage >= SENTENCE_RELEVANCE * c.coverage
                for c in chosen
            )
        ):
            continue
        tokens = set(tokenize(cand.span.text))
        if any(_jaccard(tokens, seen) >= 0.5 for seen in chosen_tokens):
            continue
        if any(
            c.passage_index == cand.passage_index
            and c.span.start < cand.span.end
            and cand.span.start < c.span.end
            for c in chosen
        ):
            continue  # the same text, or a list item of a chosen list, or the list of an item
        if chosen and length + len(cand.span.text) > max_chars:
            continue
        chosen.append(cand)
        chosen_tokens.append(tokens)
        length += len(cand.span.text)
    return in_reading_order(chosen)


def in_reading_order(chosen: Sequence[Candidate]) -> list[Candidate]:
    """Sentences grouped by passage, the passages in the order their first sentence comes in
    `chosen` (best first), each passage's sentences in document order."""
    first_seen = {c.passage_index: i for i, c in reversed(list(enumerate(chosen)))}
    return sorted(chosen, key=lambda c: (first_seen[c.passage_index], c.span.start))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
