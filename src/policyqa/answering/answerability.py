"""Whether the chosen sentences answer what was asked: the detail asked for is given, or the
documents say it is not."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from policyqa.answering import qtype
from policyqa.answering.analysis import QuestionAnalysis
from policyqa.answering.gaps import in_gaps_section, is_not_specified
from policyqa.answering.periods import period_gap, years_in
from policyqa.answering.sentences import Candidate, gives_measure, span_section
from policyqa.answering.terms import subject_terms
from policyqa.core.models import Passage
from policyqa.core.text import collapse
from policyqa.core.tuning import DETAIL_RELEVANCE, NOT_SPECIFIED_COVERAGE, ROW_SUBJECT_SHARE

# The first cell of a table row as ingest writes rows ("| 생계급여 | 2024년 확정: 7,541,072 |"):
# words without a "header: value" colon.
_ROW_LABEL = re.compile(r"^\s*\|\s*([^|:]{2,60}?)\s*\|")
_WORD = re.compile(r"[A-Za-z가-힣]")


def says_not_given(
    cand: Candidate, passages: Sequence[Passage], analysis: QuestionAnalysis
) -> bool:
    """A statement that something the question is about is not given, in any area."""
    section = span_section(passages[cand.passage_index].chunk, cand.span)
    return in_gaps_section(section) or is_not_specified(collapse(cand.span.text), analysis.terms)


def shown_support(chosen: Sequence[Candidate], analysis: QuestionAnalysis) -> float:
    """How much of the question the sentences to be shown hold together: the share of its terms
    they contain, across languages of its translated terms. Judged on what the answer shows,
    not on words scattered over the passages they come from."""
    terms = analysis.terms
    tokens: set[str] = set()
    for cand in chosen:
        tokens.update(terms.tokenize(cand.span.text))
    text = " ".join(c.span.text for c in chosen)
    return terms.coverage(tokens, True, text, whole=False)


def gives_detail_here(cand: Candidate, analysis: QuestionAnalysis) -> bool:
    """Whether the sentence gives the kind of detail asked for, and, when the question is
    about an area, gives it for that area: the sentence itself must name the area, since
    a regional sheet also repeats nationwide figures ("block grants rise to KRW 10.6 trillion"
    does not say how much goes to Gangwon)."""
    if not analysis.gives_detail(cand.span.text):
        return False
    if not analysis.areas:
        return True
    return bool(set(analysis.areas) & set(analysis.domain.areas_in(cand.span.text)))


def detail_given(
    chosen: Sequence[Candidate], analysis: QuestionAnalysis, passages: Sequence[Passage] = ()
) -> bool:
    """Whether a chosen sentence about the question gives the kind of detail asked for; a
    figure in a sentence on something else ("2026년 2월에는 ...") does not count, nor does one
    that shares only the area ("the Jeju ferry terminal costs ..." for "how much of the block
    grants goes to Jeju?"). With the passages, a share or a sum of money asked must be given
    as one: "3개 연도" does not say how much a forecast is, "85㎡" is no interest rate."""
    best = max((c.coverage for c in chosen), default=0.0)
    return any(
        gives_detail_here(c, analysis)
        and analysis.terms.names_subject(c.span.text)
        and (not passages or gives_measure(analysis, passages[c.passage_index].chunk, c.span))
        for c in chosen
        if c.coverage >= DETAIL_RELEVANCE * best
    )


def detail_elsewhere(
    chosen: Sequence[Candidate],
    candidates: Sequence[Candidate],
    analysis: QuestionAnalysis,
    passages: Sequence[Passage],
) -> Candidate | None:
    """When no chosen sentence gives the kind of detail asked, the best-ranked other sentence
    that does, about the question at least as much as every chosen one (ranked lower for
    being in the other language, or for sharing fewer words with the title): the sentence
    that carries the requested detail wins over background sentences. None if there is none."""
    floor = max((c.coverage for c in chosen), default=0.0)
    for cand in candidates:
        if cand in chosen or cand.coverage < floor:
            continue
        if detail_given([cand], analysis, passages):
            return cand
    return None


def about_the_question(cand: Candidate, analysis: QuestionAnalysis) -> bool:
    """A gap statement answers the question only if it covers enough of its terms and names
    no area the question does not ask about."""
    if max(cand.coverage, cand.effective) < NOT_SPECIFIED_COVERAGE:
        return False
    named = set(analysis.domain.areas_in(collapse(cand.span.text)))
    return not named - set(analysis.areas)


def stated_gap(
    chosen: Sequence[Candidate],
    passages: Sequence[Passage],
    analysis: QuestionAnalysis,
    candidates: Sequence[Candidate] = (),
) -> Candidate | None:
    """The sentence to refuse with when the documents say that what was asked is not given:
    the leading sentence, or, when a detail (a figure, a date, ...) is asked for, a gap
    statement in any passage that is at least as much about the question as every chosen
    sentence giving such a detail."""
    if not chosen or analysis.asks_status or analysis.requested_language:
        # "Is it confirmed?" is answered by "it is not confirmed"; "what is X called in
        # English?" by any sentence that uses the term, gap statement or not.
        return None
    asked = analysis.details
    # A "not given" statement that gives the detail asked for is no gap: "do not say how
    # many of the 144 tasks belong here" still says there are 144.
    # Only a figure or a date counts: "대상과 조건은 명시되지 않음" names the kind of
    # detail asked for without giving it.
    valued = asked & {qtype.AMOUNT, qtype.DATE}

    def not_given(c: Candidate) -> bool:
        return says_not_given(c, passages, analysis) and not (
            valued and analysis.gives_detail(c.span.text, valued)
        )

    stated = [not_given(c) for c in chosen]
    if all(stated):
        return chosen[0]  # nothing but "not given" statements, whatever they name
    gaps = [
        c
        for c, says in zip(chosen, stated, strict=True)
        if says and about_the_question(c, analysis)
    ]
    if asked:
        # A gap list further down ("the size of the account and when it takes effect")
        # outweighs chosen sentences that hold figures on something else.
        gaps += [
            c
            for c in candidates
            if c not in chosen
            and about_the_question(c, analysis)
            and analysis.terms.names_subject(c.span.text)  # not only the area
            and not_given(c)
        ]
        # A gap in another kind of detail does not answer this question.
        gaps = [c for c in gaps if not (qtype.gap_kinds(c.span.text) or asked).isdisjoint(asked)]
    if not gaps:
        return None
    best_gap = max(gaps, key=lambda c: c.effective)
    giving = [c.effective for c in chosen if gives_detail_here(c, analysis)] if asked else []
    first = chosen[0]  # the passage of the best sentence comes first in reading order
    if gaps[0] is first and not any(g > first.effective for g in giving):
        # (unless a sentence that gives the detail asked for is more about the question:
        # "the plan does not say when the line opens" is no answer to "how much?")
        return first
    if asked:
        if best_gap.effective >= max(giving, default=0.0):
            return best_gap
    elif analysis.yes_no:
        # "Is Sejong in that grouping?" with "whether Sejong is in it cannot be confirmed":
        # the gap is the answer when no other sentence is more about the question.
        others = [c.effective for c in chosen if c not in gaps]
        if best_gap.effective >= max(others, default=0.0):
            return best_gap
    return None


def period_mismatch(
    cand: Candidate, passages: Sequence[Passage], analysis: QuestionAnalysis
) -> set[int] | None:
    """The years a sentence is about instead of those the question names: the years it names
    itself, or, when it names none, those of what comes before it in its passage (a table's
    header row, the section, the document title). None when it matches or names no year."""
    if not analysis.years:
        return None
    own = years_in(cand.span.text)
    if own:
        return None if own & analysis.years else own
    chunk = passages[cand.passage_index].chunk
    context = f"{chunk.title}\n{chunk.section}\n{chunk.text[: cand.span.start]}"
    return period_gap(set(analysis.years), context)


def other_period(
    chosen: Sequence[Candidate], passages: Sequence[Passage], analysis: QuestionAnalysis
) -> set[int] | None:
    """The years the answer would be about when the question names others ("the 2025 budget"
    answered by the 2024 row): the best chosen sentence is about other years, and no chosen
    sentence about an asked one gives the kind of detail asked. None otherwise."""
    if not chosen or not analysis.years:
        return None
    gaps = [period_mismatch(c, passages, analysis) for c in chosen]
    best = max(range(len(chosen)), key=lambda i: chosen[i].score)
    best_gap = gaps[best]
    if best_gap is None:
        return None
    for cand, gap in zip(chosen, gaps, strict=True):
        gives = not analysis.details or analysis.gives_detail(cand.span.text)
        if gap is None and gives and _names_asked_year(cand, passages, analysis):
            return None
    return best_gap


def _names_asked_year(
    cand: Candidate, passages: Sequence[Passage], analysis: QuestionAnalysis
) -> bool:
    chunk = passages[cand.passage_index].chunk
    context = f"{chunk.title}\n{chunk.section}\n{chunk.text[: cand.span.end]}"
    return bool(years_in(context) & analysis.years)


def period_unnamed(
    chosen: Sequence[Candidate],
    passages: Sequence[Passage],
    analysis: QuestionAnalysis,
    document_names: Callable[[str, frozenset[int]], bool],
) -> bool:
    """Whether the question names a year that no chosen sentence's context (title, section,
    what comes before it) names and that no document the sentences come from names anywhere
    (`document_names(doc_id, years)`): a document that never mentions 2022 says nothing of
    what happened in 2022, however well its sentences match the rest of the question."""
    if not chosen or not analysis.years:
        return False
    for cand in chosen:
        chunk = passages[cand.passage_index].chunk
        context = f"{chunk.title}\n{chunk.section}\n{chunk.text[: cand.span.end]}"
        if years_in(context) & analysis.years:
            return False
    documents = dict.fromkeys(passages[c.passage_index].chunk.doc_id for c in chosen)
    return not any(document_names(doc, analysis.years) for doc in documents)


def row_label(text: str) -> str | None:
    """The label cell of a table row, None when the text is no row or its first cell holds
    no words (a figure, a tick, or a "header: value" cell)."""
    match = _ROW_LABEL.match(text)
    if match is None or not _WORD.search(match.group(1)):
        return None
    return match.group(1)


def row_about_other_subject(
    cand: Candidate,
    passages: Sequence[Passage],
    analysis: QuestionAnalysis,
    idf: Callable[[Sequence[str]], Mapping[str, float]],
) -> bool:
    """Whether the sentence is a table row whose label names its document's subject (the
    label's words are in the title: a programme's own row, not a "코드" or "구분" row) and that
    subject is not what the question asks about: most of the label's IDF weight is not in the
    question. "| 창업사업화지원 | 2024년 확정(B): 377,656 |" does not answer a question on
    아이돌봄 지원사업, though both are 지원사업 with a 2024 budget. Rows in another language
    than the question's are left to the other checks: counting shared words across languages
    says nothing."""
    label = row_label(cand.span.text)
    if label is None or cand.other_language:
        return False
    terms = analysis.terms
    weights = idf(subject_terms(terms.tokenize(label)))
    total = sum(weights.values())
    if total <= 0:
        return False
    title = set(terms.tokenize(passages[cand.passage_index].chunk.title))
    if sum(w for t, w in weights.items() if t in title) / total < ROW_SUBJECT_SHARE:
        return False  # the label names a row kind, not the document's subject
    asked = set(terms.weights) | set(terms.tokenize(analysis.standalone))
    met = sum(w for t, w in weights.items() if t in asked or t in analysis.standalone)
    return met / total < ROW_SUBJECT_SHARE
