"""Answers with verified citations: retrieval in, `Answer` out.

`Assistant.ask` runs: clean the question -> make a follow-up self-contained -> retrieve (plus the
passages that name a region the question is about) -> decide whether the documents support an
answer -> compose (extractive by default, or an LLM) -> verify every citation -> refuse when
nothing verifiable remains, or when the documents themselves say the thing is not specified.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from policyqa.answering import prompts, qtype
from policyqa.answering.condense import Turn, condense, format_history
from policyqa.answering.verify import (
    CheckedSentence,
    Citation,
    SupportChecker,
    Verification,
    verify,
)
from policyqa.core.models import Chunk, Passage
from policyqa.core.text import (
    Span,
    clean_question,
    collapse,
    is_korean,
    leaves_parenthesis_open,
    neutralise_markers,
    numbers_in,
    sentence_spans,
    with_topic_particle,
)
from policyqa.domain import regions
from policyqa.index.lexical import QUESTION_WORDS
from policyqa.ingest.load import detect_language
from policyqa.ingest.split import chunk_id, heading_style
from policyqa.retrieval.searcher import requested_language

MAX_QUESTION_CHARS = 2000

_NOT_SPECIFIED = re.compile(
    r"\bnot (?:been |yet )?(?:specified|given|listed|reported|disclosed|made public|published|"
    r"confirmed|described|stated|named|set|decided|known|clear)\b|\bunknown\b|\bunconfirmed\b|"
    r"\bremains? unclear\b|\bdo(?:es)? not (?:specify|say|give|list|state|name|confirm|mention|"
    r"disclose|show)\b|"
    r"\bgaps in the (?:public )?record\b|\bno (?:\w+ ){0,4}(?:is|are|was|were|has been|have been) "
    r"(?:given|reported|specified|named|listed)\b|"
    r"(?:명시|공개|확인|발표|보도|제시|확정|기재|언급|결정|알려|밝혀|특정|나와\s?있)"
    r"(?:되|하|되어\s?있|돼\s?있)?지\s?않|"
    r"미정|미확인|미공개|(?:알|확인할|판단할) 수 없|불분명|불확실",
    re.IGNORECASE,
)

Tokenize = Callable[[str], list[str]]


class AnswerError(ValueError):
    """The question cannot be asked as given (empty, too long); the message says why."""


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    answered: bool
    language: str
    citations: list[Citation] = field(default_factory=list)
    sentences: list[CheckedSentence] = field(default_factory=list)  # shown, each cited
    passages: list[Passage] = field(default_factory=list)
    unsupported: list[CheckedSentence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    answerer: str = "extractive"
    support: float = 0.0
    refusal: str = ""  # why not answered: "not-found", "not-specified", "unverified"

    latency_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "answered": self.answered,
            "citations": [c.to_json() for c in self.citations],
            "language": self.language,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "notes": self.notes,
            "regions": self.regions,
            "unsupported": [{"text": s.text, "reason": s.reason} for s in self.unsupported],
            "closest": [
                {
                    "doc": p.chunk.doc_id,
                    "page": p.chunk.page,
                    "page_label": p.chunk.page_label,
                    "title": p.chunk.title,
                    "text": p.chunk.text,
                }
                for p in self.passages[:3]
            ]
            if not self.answered
            else [],
            "answerer": self.answerer,
            "refusal": self.refusal,
            "support": round(self.support, 3),
            "latency_ms": round(self.latency_ms, 1),
        }


# -- scoring sentences against the question --------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    passage_index: int  # 0-based position in the passage list
    span: Span
    score: float
    coverage: float  # share of the question's terms in the sentence itself
    other_language: bool
    effective: float = 0.0  # the same, crediting the previous sentence at CONTEXT_CREDIT


@functools.lru_cache(maxsize=8)
def _distinctive_region_tokens(tokenize: Tokenize) -> dict[str, frozenset[str]]:
    """Per region group, the tokens of its names that no other group's names share ("Gangwon",
    not "Special"). Static data: computed once per tokenizer, not per question."""
    names = {
        g: set(tokenize(" ".join(regions.search_terms(g, "ko") + regions.search_terms(g, "en"))))
        for g in regions.GROUPS
    }
    return {
        group: frozenset(tokens - set().union(*(v for g, v in names.items() if g != group)))
        for group, tokens in names.items()
    }


class QuestionTerms:
    """The question's informative tokens with IDF weights, and their translations' tokens."""

    def __init__(
        self,
        question: str,
        tokenize: Tokenize,
        idf: Callable[[Sequence[str]], Mapping[str, float]],
        translations: Sequence[str | Sequence[str]] = (),
    ) -> None:
        """`translations`: the other language's terms for the question's words; a list inside
        holds alternatives for one word ("target", "goal"), of which one is enough."""
        self.tokenize = tokenize
        # A place stands for its region: "Changwon" is answered by a passage on the Southeast
        # pole, so a region counts as one term, met by any of its names in either language.
        mentions = regions.find_regions(question)
        for match in sorted(mentions, key=lambda m: -m.start):
            question = question[: match.start] + " " + question[match.start + len(match.mention) :]
        # "how big" asks for a figure: "big" is not what the question is about.
        question = qtype.without_asking_words(question)
        self.weights = dict(idf(_subject_terms(tokenize(question))))
        # English stems back to the question's words, for messages to the user
        self.surface: dict[str, str] = {}
        for word in re.findall(r"[A-Za-z][A-Za-z'\-]*", question):
            stems = tokenize(word)
            if len(stems) == 1 and stems[0] in self.weights:
                self.surface.setdefault(stems[0], word)
        self.region_terms: list[set[str]] = []
        if mentions:
            distinctive = _distinctive_region_tokens(tokenize)
            for group in dict.fromkeys(m.group for m in mentions):
                self.region_terms.append(set(distinctive[group]))
        self.region_weight = max(self.weights.values(), default=3.0)
        # Each group: its alternatives' tokens with IDF weights. Region names are left out:
        # the region counts once, through `region_terms`.
        place = set().union(*self.region_terms)
        self.translated: dict[str, float] = {}
        self.translated_groups: list[list[dict[str, float]]] = []
        for entry in translations:
            alternatives = []
            for term in [entry] if isinstance(entry, str) else entry:
                tokens = [
                    t
                    for t in _subject_terms(tokenize(term))
                    if t not in self.weights and t not in place and t not in self.translated
                ]
                if tokens:
                    alternatives.append(dict(idf(tokens)))
            if alternatives:
                self.translated_groups.append(alternatives)
                for weights in alternatives:
                    self.translated.update(weights)
        # What the question asks about besides its region, in either language.
        self.subject = (set(self.weights) | set(self.translated)) - place
        self.language = "ko" if is_korean(question) else "en"

    @property
    def empty(self) -> bool:
        return not self.weights and not self.region_terms

    def coverage(self, tokens: set[str], translated: bool = True, text: str = "") -> float:
        """IDF-weighted share of the question's terms (or of their translations) in `tokens`.

        With `text`, a Korean term also counts when it occurs in the text as written: Kiwi may
        split the same compound differently in different sentences (포괄/보조 vs 포괄보/조).
        """
        if text:
            tokens = tokens | {
                t for t in self.weights if len(t) >= 2 and is_korean(t) and t in text
            }
        met_regions = sum(1 for names in self.region_terms if names & tokens)
        region_total = self.region_weight * len(self.region_terms)
        region_met = self.region_weight * met_regions
        total = sum(self.weights.values()) + region_total
        if total <= 0:
            return 0.0
        own = (sum(w for t, w in self.weights.items() if t in tokens) + region_met) / total
        if not self.translated or not translated:
            return own
        other_total = region_total
        other = region_met
        for alternatives in self.translated_groups:
            # One alternative is enough: the group counts as its heaviest wording, met as far
            # as its best-met wording is.
            heaviest = max(sum(a.values()) for a in alternatives)
            met = max(
                sum(w for t, w in a.items() if t in tokens) / (sum(a.values()) or 1.0)
                for a in alternatives
            )
            other_total += heaviest
            other += heaviest * met
        if other_total <= 0:
            return own
        return max(own, other / other_total)

    def names_subject(self, text: str) -> bool:
        """Whether `text` holds one of the question's terms besides its region (or their
        translations); true for a question that has no other terms."""
        if not self.subject:
            return True
        return bool(self.subject & set(self.tokenize(text)))

    def missing(self, tokens: set[str], limit: int = 4) -> list[str]:
        """The rarest question terms that `tokens` lacks (for telling the user what is missing),
        as the question wrote them: "jobs", not the stem "job"."""
        gone = [(w, t) for t, w in self.weights.items() if t not in tokens]
        return [self.surface.get(t, t) for _, t in sorted(gone, reverse=True)[:limit]]


def score_candidates(
    passages: Sequence[Passage],
    terms: QuestionTerms,
    asked: Set[str] = frozenset(),
    question: str = "",
) -> list[Candidate]:
    """Every sentence of the passages, scored by the question terms it covers (or, at a
    discount, that it covers together with the sentence before it: "It cost 175 trillion won"
    answers a question whose subject the previous sentence names), by its passage's rank, and
    by whether it gives the kind of detail asked for."""
    if not passages:
        return []
    top = max(p.score for p in passages) or 1.0
    several = qtype.asks_for_several(question)
    out = []

    def score(unit: Candidate, tokens: set[str], previous: set[str]) -> Candidate | None:
        """The unit scored: None for a heading or a piece of table cells."""
        span, other = unit.span, unit.other_language
        if _looks_like_heading(span.text) or _looks_like_fragment(span.text):
            return None
        coverage = terms.coverage(tokens, other, span.text)
        if previous and coverage > 0:
            # Only a sentence that shares some of the question's terms continues its
            # predecessor's subject; otherwise any sentence after a good one would qualify.
            with_context = terms.coverage(tokens | previous, other, span.text)
            effective = max(coverage, CONTEXT_CREDIT * with_context)
        else:
            effective = coverage
        value = effective * (0.5 + 0.5 * (passages[unit.passage_index].score / top))
        if asked and qtype.gives_detail(asked, span.text, question):
            value *= DETAIL_BOOST
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
                span = _without_heading(span, chunk.text)
            if span is None:
                continue  # the document's title line says nothing the title does not
            tokens = set(terms.tokenize(span.text))
            before, previous = previous, tokens
            units.append((span, tokens, before))
            candidate = score(Candidate(index, span, 0.0, 0.0, other), tokens, before)
            if candidate is not None:
                sentences.append(candidate)
        out.extend(sentences)
        if not several:
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


_LIST_ITEM = re.compile(r"\s*(?:[-*•◦▪·]|\d{1,2}[.)]|[가-하][.)]|\([0-9a-z가-하]{1,2}\))\s")
LIST_ITEM_CHARS = 120
LIST_BLOCK_CHARS = 480


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
    return _LIST_ITEM.match(span.text) is not None and len(span.text) <= LIST_ITEM_CHARS


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


# A line that ends like a sentence is a numbered sentence, not a heading ("1. 예산을 늘린다.").
_ENDS_SENTENCE = re.compile(r"[.다요]\s*$")


# Numbered and Markdown headings; not "○ ..." or "제2조(정의) ..." lines, which hold content.
_SECTION_HEADINGS = ("md", "num", "num2", "roman", "ganada", "chapter", "part")


def _without_heading(span: Span, text: str) -> Span:
    """The sentence without a section heading that the PDF line-joining ran into it ("A
    different grouping: ... "Gangwon·Jeju" The finance ministry's ..."): a heading names the
    section, and read as part of the sentence it makes the sentence look about more than it is."""
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.start)
    if line_end < 0 or line_end >= span.end:
        return span  # the sentence does not run past its first line
    style = heading_style(text[line_start:line_end])
    if style is None or not style[0].startswith(_SECTION_HEADINGS):
        return span
    if _ENDS_SENTENCE.search(text[line_start:line_end]):
        return span  # a numbered sentence, not a heading
    rest = span.text[line_end + 1 - span.start :]
    stripped = rest.lstrip()
    if len(stripped) < 12:
        return span
    return Span(stripped, span.end - len(stripped))


_EDGE = 40  # characters of a chunk's edge looked for in its neighbour (chunks overlap)
_MAX_COMPLETION = 400  # longest piece of a sentence taken from a neighbour


def complete_sentences(chunk: Chunk, previous: Chunk | None, following: Chunk | None) -> Chunk:
    """`chunk` with the sentence it starts in the middle of begun from `previous`, and the one
    it ends in the middle of finished from `following` (where they overlap it); the same
    chunk when neither applies. Outline offsets move with the text."""
    prefix = suffix = ""
    text = chunk.text
    if previous is not None and len(text) >= _EDGE:
        at = previous.text.rfind(text[:_EDGE])
        if at > 0:
            joined = previous.text[:at] + text
            for span in sentence_spans(joined):
                if span.start < at < span.end:
                    prefix = joined[span.start : at]
                    break
    if following is not None and len(text) >= _EDGE:
        at = following.text.find(text[-_EDGE:])
        if at >= 0:
            joined = text + following.text[at + _EDGE :]
            for span in sentence_spans(joined):
                if span.start < len(text) < span.end:
                    suffix = joined[len(text) : span.end]
                    break
    if len(prefix) > _MAX_COMPLETION:
        prefix = ""
    if len(suffix) > _MAX_COMPLETION:
        suffix = ""
    if not prefix and not suffix:
        return chunk
    outline = chunk.outline
    if outline and prefix:
        marks = json.loads(outline)
        outline = json.dumps(
            [[m[0] + len(prefix) if m[0] else 0, m[1]] for m in marks], ensure_ascii=False
        )
    return dataclasses.replace(chunk, text=prefix + text + suffix, outline=outline)


# A sentence's share of the question terms counted with the previous sentence's, discounted.
CONTEXT_CREDIT = 0.8
# A sentence that gives the kind of detail asked for ("how much?" -> a figure).
DETAIL_BOOST = 1.25
OTHER_LANGUAGE_FACTOR = 0.35
# Cosine (multilingual USE) above which a Korean and an English sentence say the same thing: the
# bundled corpus's translation pairs measured 0.62-0.75; related but different sentences 0.56 or
# less. The pool: same-language sentences compared, best-scored first.
SAME_MEANING = 0.6
SAME_MEANING_POOL = 24
# A "not specified" sentence answers the question only if it is about what was asked: it must
# contain at least this share of the question's terms.
NOT_SPECIFIED_COVERAGE = 0.5


def _subject_terms(tokens: Sequence[str]) -> list[str]:
    """What a question is about: no question-form words, no Korean verbs or adjectives (Kiwi
    lemmas end in 다); those say how it is asked, and rare ones would look like missing facts."""
    return [t for t in dict.fromkeys(tokens) if t not in QUESTION_WORDS and not t.endswith("다")]


def _looks_like_fragment(text: str) -> bool:
    """Pieces of two table cells that PDF extraction interleaved: short, with a parenthesis
    opened and not closed ("restructuring of RISE 10 universities (by")."""
    return len(text) < FRAGMENT_CHARS and leaves_parenthesis_open(text)


FRAGMENT_CHARS = 100


def _looks_like_heading(text: str) -> bool:
    return (
        len(text) < 40
        and not re.search(r"[.다요음함됨임]\s*$", text)
        and not re.match(r"\s*[-•○◦▪*]\s", text)
        and not numbers_in(text)
    )


def select_sentences(
    candidates: Sequence[Candidate], tokenize: Tokenize, max_sentences: int, max_chars: int = 700
) -> list[Candidate]:
    """Best sentence, then others close to it, skipping near-duplicates; in reading order."""
    if not candidates or candidates[0].score <= 0:
        return []
    best = candidates[0].score
    chosen: list[Candidate] = []
    chosen_tokens: list[set[str]] = []
    length = 0
    for cand in candidates:
        if len(chosen) >= max_sentences or cand.score < 0.6 * best:
            break
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


# "Is it confirmed?" is answered by "it is not confirmed": a stated gap is then the answer.
_ASKS_STATUS = re.compile(
    r"확정|확인된|사실인|사실이|공식|정해졌|정해진|결정됐|결정된|"
    r"\b(?:confirmed|final|finali[sz]ed|official|decided|settled|certain|definite)\b",
    re.IGNORECASE,
)


_CLAUSE_BREAK = re.compile(r"[,;:|()（）]|지만|\bbut\b|\bwhile\b|\bthough\b", re.IGNORECASE)


_SOURCES_SECTION = re.compile(r"(?:^|> )(?:sources?|references?|출처|참고\s?(?:문헌|자료))$", re.I)


_HEADING_LINE = re.compile(
    r"^\s*(?:#{1,6}\s+|(?:\d{1,2}|[IVX]+|[가-하])[.)]\s+|\([a-z0-9가-하]\)\s+|[□■]\s*)(?P<title>.{2,70})$"
)


def span_section(chunk: Chunk, span: Span) -> str:
    """The heading a sentence sits under: the last heading line before it inside the chunk,
    else the chunk's own section path."""
    heading = ""
    for line in chunk.text[: span.start].splitlines():
        match = _HEADING_LINE.match(line)
        if match and not _ENDS_SENTENCE.search(line):
            heading = match.group("title").strip()
        elif _SOURCES_SECTION.search(line.strip()):
            heading = line.strip()  # an unnumbered "Sources" heading, as PDFs give it
    return heading or chunk.section


def in_gaps_section(section: str) -> bool:
    """A section listing what the documents do not give ("5. Gaps in the public record")."""
    last = section.split(" > ")[-1] if section else ""
    return bool(last) and _NOT_SPECIFIED.search(last) is not None


def is_not_specified(text: str, terms: QuestionTerms | None = None) -> bool:
    """Whether `text` says that what the question asks is not given ("명시되지 않음", "not
    specified"). With `terms`, the clause holding that phrase must name something the question
    asks about, so "X becomes Y, though whether it passes is unconfirmed" still answers
    "what does X become?". Long flattened table rows, full of such cells, never count.
    """
    if len(text) > 260 or _NOT_SPECIFIED.search(text) is None:
        return False
    if terms is None:
        return True
    for found in _NOT_SPECIFIED.finditer(text):  # any of its clauses that says so
        before = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, found.start())]
        after = _CLAUSE_BREAK.search(text, found.end())
        clause = text[(before[-1] if before else 0) : (after.start() if after else len(text))]
        clause_terms = set(terms.tokenize(clause))
        if (
            any(t in clause_terms for t in terms.weights)
            or any(t in clause_terms for t in terms.translated)
            or any(names & clause_terms for names in terms.region_terms)
        ):
            return True
    return False


def _says_not_given(cand: Candidate, passages: Sequence[Passage], terms: QuestionTerms) -> bool:
    """A statement that something the question is about is not given, in any region."""
    section = span_section(passages[cand.passage_index].chunk, cand.span)
    return in_gaps_section(section) or is_not_specified(collapse(cand.span.text), terms)


def _gives_detail(
    cand: Candidate, passages: Sequence[Passage], asked: set[str], question: str
) -> bool:
    """Whether the sentence gives the kind of detail asked for, and, when the question is
    about a region, gives it for that region: the sentence itself must name the region, since
    a regional sheet also repeats nationwide figures ("block grants rise to KRW 10.6 trillion"
    does not say how much goes to Gangwon)."""
    if not qtype.gives_detail(asked, cand.span.text, question):
        return False
    wanted = set(regions.groups_in(question))
    if not wanted:
        return True
    return bool(wanted & set(regions.groups_in(cand.span.text)))


def _detail_given(
    chosen: Sequence[Candidate],
    passages: Sequence[Passage],
    asked: set[str],
    question: str,
    terms: QuestionTerms,
) -> bool:
    """Whether a chosen sentence about the question gives the kind of detail asked for; a
    figure in a sentence on something else ("2026년 2월에는 ...") does not count, nor does one
    that shares only the region ("the Jeju ferry terminal costs ..." for "how much of the block
    grants goes to Jeju?")."""
    best = max((c.coverage for c in chosen), default=0.0)
    return any(
        _gives_detail(c, passages, asked, question) and terms.names_subject(c.span.text)
        for c in chosen
        if c.coverage >= DETAIL_RELEVANCE * best
    )


# Share of the best sentence's question coverage a detail-giving sentence needs.
DETAIL_RELEVANCE = 0.45


def _filter_regions(filters: Mapping[str, Any] | None) -> list[str]:
    wanted = (filters or {}).get("region")
    values = wanted if isinstance(wanted, (list, tuple, set)) else [wanted] if wanted else []
    return [str(v) for v in values if str(v) in regions.GROUPS]


# -- composers ---------------------------------------------------------------------------------


class Composer(Protocol):
    name: str

    def compose(
        self, question: str, passages: Sequence[Passage], language: str, chosen: Sequence[Candidate]
    ) -> Iterator[str]:
        """Yield the answer text in pieces, sentences ending with [n] passage markers."""
        ...


class ExtractiveComposer:
    """No model: the answer is the selected sentences themselves, each cited."""

    name = "extractive"

    def compose(
        self, question: str, passages: Sequence[Passage], language: str, chosen: Sequence[Candidate]
    ) -> Iterator[str]:
        for i, cand in enumerate(chosen):
            text = neutralise_markers(collapse(cand.span.text))
            yield ("" if i == 0 else " ") + f"{text} [{cand.passage_index + 1}]"


class LLMComposer:
    """A LangChain chat model writes the answer from numbered passages (prompts/answer.md)."""

    def __init__(self, chat_model: Any, name: str = "llm", max_sentences: int = 4) -> None:
        self.chat_model = chat_model
        self.name = name
        self.max_sentences = max_sentences

    def messages(self, question: str, passages: Sequence[Passage], language: str) -> list[Any]:
        from langchain_core.messages import HumanMessage, SystemMessage

        values = {
            "language_name": "in Korean" if language == "ko" else "in English",
            "max_sentences": self.max_sentences,
            "no_answer": prompts.message("no-answer", language),
            "passages": format_passages(passages),
            "question": question,
        }
        return [
            SystemMessage(prompts.render("answer", "system", **values)),
            HumanMessage(prompts.render("answer", "user", **values)),
        ]

    def compose(
        self, question: str, passages: Sequence[Passage], language: str, chosen: Sequence[Candidate]
    ) -> Iterator[str]:
        for chunk in self.chat_model.stream(self.messages(question, passages, language)):
            text = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            if text:
                yield text

    def condense(self, question: str, history: Sequence[Turn], language: str) -> str:
        from langchain_core.messages import HumanMessage, SystemMessage

        values = {
            "language_name": "Korean" if language == "ko" else "English",
            "history": format_history(history),
            "question": question,
        }
        reply = self.chat_model.invoke(
            [
                SystemMessage(prompts.render("condense", "system", **values)),
                HumanMessage(prompts.render("condense", "user", **values)),
            ]
        )
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        line = text.strip().splitlines()[0].strip() if text.strip() else ""
        return line or question


def format_passages(passages: Sequence[Passage]) -> str:
    blocks = []
    for n, passage in enumerate(passages, start=1):
        c = passage.chunk
        head = f"[{n}] {c.title}, p. {c.page_label}" + (f", {c.section}" if c.section else "")
        # Fenced so that text inside a document reads as quoted data; its own "[n]" cannot pose
        # as a citation marker.
        blocks.append(f"{head}\n<<<\n{neutralise_markers(c.text)}\n>>>")
    return "\n\n".join(blocks)


# -- the assistant -----------------------------------------------------------------------------


@dataclass
class AnswerEvent:
    """Streaming: `delta` text as it is written, then one event with the verified `answer`."""

    delta: str = ""
    answer: Answer | None = None


class Assistant:
    def __init__(
        self,
        searcher: Any,
        composer: Composer | None = None,
        checker: SupportChecker | None = None,
        k: int = 6,
        min_support: float = 0.45,
        max_sentences: int = 3,
    ) -> None:
        self.searcher = searcher
        self.composer: Composer = composer or ExtractiveComposer()
        self.checker = checker or SupportChecker(searcher.tokenizer.tokenize)
        self.k = k
        self.min_support = min_support
        self.max_sentences = max_sentences

    # public API
    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Mapping[str, Any] | None = None,
        max_sentences: int | None = None,
        language: str | None = None,
    ) -> Answer:
        answer: Answer | None = None
        for event in self.stream(question, history, filters, max_sentences, language):
            if event.answer is not None:
                answer = event.answer
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Mapping[str, Any] | None = None,
        max_sentences: int | None = None,
        language: str | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer events; `language` ("ko"/"en") overrides the question's own for the answer."""
        started = time.perf_counter()
        asked = clean_question(question)
        if not asked:
            raise AnswerError("the question is empty")
        if len(asked) > MAX_QUESTION_CHARS:
            raise AnswerError(
                f"the question is too long ({len(asked)} characters; the limit is "
                f"{MAX_QUESTION_CHARS}). Ask about one thing at a time."
            )
        if language not in ("ko", "en"):
            language = "ko" if detect_language(asked) != "en" else "en"
        # History is user input too: cleaned, and each turn held to the question limit.
        history = [
            {
                "role": str(t.get("role", "user")),
                "content": clean_question(str(t.get("content", "")))[:MAX_QUESTION_CHARS],
            }
            for t in history
        ]
        standalone = self._condense(asked, history, language)
        for group in _filter_regions(filters):
            if group not in regions.groups_in(standalone):
                # The region chosen in a filter is what the question is about.
                standalone = f"{standalone} ({regions.describe(group, language)})"
        passages = self._retrieve(standalone, filters)
        state = self.searcher.lexical()
        # Translations of what the question asks about, not of how it asks ("how much does it
        # cost" needs no "비용" in a Korean sentence that gives the figure).
        translations = self.searcher.translation_groups(
            state, qtype.without_asking_words(standalone)
        )
        terms = QuestionTerms(
            standalone, self.searcher.tokenizer.tokenize, state.index.idf, translations
        )
        terms.language = language
        mentioned = regions.groups_in(standalone)
        answer = Answer(
            asked, standalone, "", False, language, passages=passages, regions=mentioned
        )
        answer.answerer = self.composer.name
        answer.notes.extend(self._place_notes(standalone, language))

        evidence = set()
        for p in passages[:3]:
            # The index analysed these texts already; tokenize only what it does not hold.
            cached = self.searcher.cache.get(p.chunk.content_hash)
            evidence.update(
                cached.tokens if cached else self.searcher.tokenizer.tokenize(p.chunk.context_text)
            )
        evidence_text = " ".join(p.chunk.context_text for p in passages[:3])
        answer.support = terms.coverage(evidence, True, evidence_text) if not terms.empty else 0.0
        if not passages or terms.empty or answer.support < self.min_support:
            answer.refusal = "not-found"
            answer.text = self._not_found(asked, language, terms, evidence)
            yield from self._finish(answer, started)
            return

        details = qtype.asked_details(standalone)
        candidates = score_candidates(passages, terms, details, standalone)
        chosen = select_sentences(
            candidates, self.searcher.tokenizer.tokenize, max_sentences or self.max_sentences
        )
        gap = self._stated_gap(chosen, passages, terms, standalone, details, candidates)
        if gap is not None:
            yield from self._not_specified(answer, gap, passages, started)
            return
        if (
            details
            and self.composer.name == "extractive"
            and not _detail_given(chosen, passages, details, standalone, terms)
        ):
            # The passages are about the subject but none gives the figure, date or place
            # asked for: quoting the nearby facts would look like an answer and is not one.
            answer.refusal = "no-detail"
            answer.text = self._no_detail(details, language)
            yield from self._finish(answer, started)
            return
        chosen = self._in_question_language(chosen, candidates, standalone, language)
        draft = ""
        for piece in self.composer.compose(standalone, passages, language, chosen):
            draft += piece
            if self.composer.name != "extractive":
                yield AnswerEvent(delta=piece)
        if prompts.message("no-answer", language) in draft and "[" not in draft:
            answer.refusal = "not-found"
            answer.text = self._not_found(asked, language, terms, evidence)
            yield from self._finish(answer, started)
            return
        verification = verify(draft, passages, self.checker)
        self._apply(answer, verification)
        if not answer.answered:
            answer.refusal = "unverified"
            answer.text = self._not_found(asked, language, terms, evidence)
        else:
            answer.notes.extend(self._language_notes(answer, language))
            answer.notes.extend(self._region_notes(answer, mentioned, language))
        if self.composer.name == "extractive":
            yield AnswerEvent(delta=answer.text)
        yield from self._finish(answer, started)

    # steps
    def _condense(self, question: str, history: Sequence[Turn], language: str) -> str:
        if not history:
            return question
        condense_with = getattr(self.composer, "condense", None)
        if condense_with is not None:
            return str(condense_with(question, history, language))
        return condense(question, history)

    def _retrieve(self, question: str, filters: Mapping[str, Any] | None) -> list[Passage]:
        passages = list(self.searcher.search(question, self.k, dict(filters or {}) or None))
        seen = {p.chunk.id for p in passages}
        for group in regions.groups_in(question)[:2]:
            scoped = dict(filters or {})
            scoped["names_region"] = group
            for passage in self.searcher.search(question, 2, scoped):
                if passage.chunk.id not in seen:
                    seen.add(passage.chunk.id)
                    passages.append(passage)
        return self._with_whole_sentences(passages)

    def _with_whole_sentences(self, passages: Sequence[Passage]) -> list[Passage]:
        """The passages with the sentences they cut at their edges completed from the
        neighbouring chunks of the same page (chunks overlap by a few words, so a chunk often
        starts or ends mid-sentence): a quote is then a whole sentence, still on the cited page."""
        state = self.searcher.lexical()

        def neighbour(chunk: Chunk, step: int) -> Chunk | None:
            index = state.position.get(chunk_id(chunk.doc_id, chunk.page, chunk.ordinal + step))
            return state.chunks[index] if index is not None else None

        out = []
        for passage in passages:
            chunk = passage.chunk
            completed = complete_sentences(chunk, neighbour(chunk, -1), neighbour(chunk, 1))
            out.append(
                passage if completed is chunk else dataclasses.replace(passage, chunk=completed)
            )
        return out

    def _apply(self, answer: Answer, verification: Verification) -> None:
        answer.citations = verification.citations
        answer.sentences = verification.kept
        answer.unsupported = verification.removed
        answer.answered = bool(verification.kept)
        answer.text = verification.text()

    def _in_question_language(
        self, chosen: list[Candidate], candidates: Sequence[Candidate], question: str, language: str
    ) -> list[Candidate]:
        """Each chosen sentence in the other language that a same-language sentence of the
        passages says too (a bilingual corpus states most things twice) gives way to it, or is
        dropped when that sentence is already in the answer. Meaning is compared with the
        multilingual embedder; without one, or when the question asks for the other
        language's wording, the sentences stay as chosen."""
        others = [c for c in chosen if c.other_language]
        if not others or requested_language(question) not in (None, language):
            return chosen
        encoder = next(
            (e for spec, e in self.searcher.embedders if spec.covers("ko") and spec.covers("en")),
            None,
        )
        pool = [c for c in candidates if not c.other_language and c.coverage > 0]
        pool = pool[:SAME_MEANING_POOL]
        if encoder is None or not pool:
            return chosen
        vectors = np.asarray(encoder.embed_documents([c.span.text for c in others + pool]))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        similarity = vectors[: len(others)] @ vectors[len(others) :].T

        def key(c: Candidate) -> tuple[int, int]:
            return (c.passage_index, c.span.start)

        taken = {key(c) for c in chosen if not c.other_language}
        result: list[Candidate] = []
        for cand in chosen:
            if not cand.other_language:
                result.append(cand)
                continue
            row = similarity[others.index(cand)]
            best = int(row.argmax())
            if row[best] < SAME_MEANING:
                result.append(cand)
            elif key(pool[best]) not in taken:
                taken.add(key(pool[best]))
                result.append(pool[best])
            # else: the answer says it already in the question's language
        return in_reading_order(result)

    def _stated_gap(
        self,
        chosen: Sequence[Candidate],
        passages: Sequence[Passage],
        terms: QuestionTerms,
        question: str,
        asked: set[str],
        candidates: Sequence[Candidate] = (),
    ) -> Candidate | None:
        """The sentence to refuse with when the documents say that what was asked is not given:
        the leading sentence, or, when a detail (a figure, a date, ...) is asked for, a gap
        statement in any passage that is at least as much about the question as every chosen
        sentence giving such a detail."""
        if not chosen or _ASKS_STATUS.search(question) or requested_language(question):
            # "Is it confirmed?" is answered by "it is not confirmed"; "what is X called in
            # English?" by any sentence that uses the term, gap statement or not.
            return None
        # A "not given" statement that gives the detail asked for is no gap: "do not say how
        # many of the 144 tasks belong here" still says there are 144.
        # Only a figure or a date counts: "대상과 조건은 명시되지 않음" names the kind of
        # detail asked for without giving it.
        valued = asked & {qtype.AMOUNT, qtype.DATE}

        def says_not_given(c: Candidate) -> bool:
            return _says_not_given(c, passages, terms) and not (
                valued and qtype.gives_detail(valued, c.span.text, question)
            )

        stated = [says_not_given(c) for c in chosen]
        if all(stated):
            return chosen[0]  # nothing but "not given" statements, whatever they name
        gaps = [
            c
            for c, says in zip(chosen, stated, strict=True)
            if says and self._about_the_question(c, question)
        ]
        if asked:
            # A gap list further down ("the size of the account and when it takes effect")
            # outweighs chosen sentences that hold figures on something else.
            gaps += [
                c
                for c in candidates
                if c not in chosen
                and self._about_the_question(c, question)
                and terms.names_subject(c.span.text)  # not only the region
                and says_not_given(c)
            ]
            # A gap in another kind of detail does not answer this question.
            gaps = [
                c for c in gaps if not (qtype.gap_kinds(c.span.text) or asked).isdisjoint(asked)
            ]
        if not gaps:
            return None
        best_gap = max(gaps, key=lambda c: c.effective)
        giving = (
            [c.effective for c in chosen if _gives_detail(c, passages, asked, question)]
            if asked
            else []
        )
        first = chosen[0]  # the passage of the best sentence comes first in reading order
        if gaps[0] is first and not any(g > first.effective for g in giving):
            # (unless a sentence that gives the detail asked for is more about the question:
            # "the plan does not say when the line opens" is no answer to "how much?")
            return first
        if asked:
            if best_gap.effective >= max(giving, default=0.0):
                return best_gap
        elif qtype.is_yes_no(question):
            # "Is Sejong in that grouping?" with "whether Sejong is in it cannot be confirmed":
            # the gap is the answer when no other sentence is more about the question.
            others = [c.effective for c in chosen if c not in gaps]
            if best_gap.effective >= max(others, default=0.0):
                return best_gap
        return None

    @staticmethod
    def _about_the_question(cand: Candidate, question: str) -> bool:
        """A gap statement answers the question only if it covers enough of its terms and
        names no region the question does not ask about."""
        if max(cand.coverage, cand.effective) < NOT_SPECIFIED_COVERAGE:
            return False
        named = set(regions.groups_in(collapse(cand.span.text)))
        return not named - set(regions.groups_in(question))

    def _not_specified(
        self, answer: Answer, first: Candidate, passages: Sequence[Passage], started: float
    ) -> Iterator[AnswerEvent]:
        """The documents say the thing asked is not given: a refusal that quotes them."""
        draft = f"{collapse(first.span.text)} [{first.passage_index + 1}]"
        verification = verify(draft, passages, self.checker)
        answer.citations = verification.citations
        answer.sentences = verification.kept
        answer.answered = False
        answer.refusal = "not-specified"
        lead = prompts.message("not-specified", answer.language)
        answer.text = f"{lead} {verification.text()}".strip()
        yield from self._finish(answer, started)

    def _not_found(
        self, question: str, language: str, terms: QuestionTerms, evidence: set[str]
    ) -> str:
        state = self.searcher.lexical()
        documents = len({c.doc_id for c in state.chunks})
        text = prompts.message("not-found", language, documents=documents, question=question)
        # Only what no document contains is "not mentioned"; a term the closest passages lack
        # may still be elsewhere in the documents.
        missing = [t for t in terms.missing(evidence, limit=12) if not state.index.contains(t)][:4]
        if missing and not terms.empty:
            text += " " + prompts.message("missing-terms", language, terms=", ".join(missing))
        return text

    @staticmethod
    def _no_detail(asked: set[str], language: str) -> str:
        kinds = [prompts.message(f"detail-{kind}", language) for kind in sorted(asked)]
        detail = ", ".join(kinds)
        return prompts.message(
            "no-detail", language, detail=detail, detail_topic=with_topic_particle(detail)
        )

    def _finish(self, answer: Answer, started: float) -> Iterator[AnswerEvent]:
        answer.latency_ms = (time.perf_counter() - started) * 1000
        yield AnswerEvent(answer=answer)

    # notes
    def _language_notes(self, answer: Answer, language: str) -> list[str]:
        if answer.citations and all(
            c.language not in (language, "mixed", "") for c in answer.citations
        ):
            return [prompts.message("other-language", language)]
        return []

    def _region_notes(self, answer: Answer, mentioned: Sequence[str], language: str) -> list[str]:
        notes = []
        cited_text = " ".join(
            f"{p.chunk.title} {p.chunk.text}"
            for p in answer.passages
            if any(c.chunk_id == p.chunk.id for c in answer.citations)
        )
        named = set(regions.groups_in(cited_text))
        for group in mentioned:
            if group not in named:
                notes.append(
                    prompts.message(
                        "region-none", language, region=regions.describe(group, language)
                    )
                )
        return notes

    def _place_notes(self, question: str, language: str) -> list[str]:
        notes = []
        for match in regions.find_regions(question):
            if match.place is None and (
                match.province is None or regions.GROUPS[match.group].kind == "special"
            ):
                continue  # a region, or a special province, is not "in" anything else
            place = match.mention
            region = regions.describe(match.group, language)
            note = prompts.message(
                "place",
                language,
                place=place,
                place_topic=with_topic_particle(place),
                region=region,
            )
            if note not in notes:
                notes.append(note)
        return notes[:2]
