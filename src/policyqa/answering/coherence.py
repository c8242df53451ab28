"""Quotes that read right on their own. A sentence that opens by pointing back ("That grouping
...", "They apply ...", "이는 ...", "이 사업은 ...") means nothing without the sentence it points
to: it is shown after that sentence, or not at all. A question for several kinds of detail
("how much, and when?") gets the sentences right after a chosen one that give the kind no
chosen sentence gives; one that ends with a colon ("... meets the following criteria:") is
shown with the items it introduces, and one that the next sentence goes on from ("다만, ...",
"이 경우 ...") with that sentence. An item of a list the documents head "not
specified" is no statement of fact: it is not quoted as one."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from policyqa.answering.analysis import QuestionAnalysis
from policyqa.answering.gaps import in_gaps_section, is_not_specified
from policyqa.answering.sentences import (
    Candidate,
    is_list_item,
    looks_like_heading,
    span_section,
    without_heading,
)
from policyqa.core.models import Passage
from policyqa.core.text import Span, sentence_spans
from policyqa.core.tuning import (
    ANTECEDENT_MIN_CHARS,
    FOLLOWING_DETAIL_SENTENCES,
    LIST_BLOCK_CHARS,
)

# Demonstratives and pronouns that open a sentence (after a list marker): English ones
# capitalised as a sentence opens, Korean ones as words of their own ("이 사업은", not "이용").
_POINTS_BACK = re.compile(
    r"^\s*(?:[-*•◦▪·○]\s*)?(?:"
    r"(?:That|This|These|Those|Such|They|Their|Them|It|Its)\b(?!\s*[:(])|"
    r"(?:이는|이를|이에|이와|이로써|이로|이러한|이런|이와\s?같은|이같은|그는|그러한|그런|"
    r"그러나|그래서|따라서|또한|다만)(?![가-힣])|"
    r"(?:이|그)\s(?=[가-힣])"
    r")"
)


def points_back(text: str) -> bool:
    """Whether the sentence opens by pointing at something said before it."""
    return _POINTS_BACK.match(text) is not None


def previous_sentence(text: str, span: Span) -> Span | None:
    """The sentence just before `span` in its passage text, if it is a sentence (not a
    heading, not a fragment)."""
    before = [s for s in sentence_spans(text) if s.end <= span.start]
    if not before:
        return None
    last = before[-1]
    if text[last.end : span.start].strip(" \t\n-*•◦▪·○|"):
        return None  # a heading or a fragment stands between them
    if len(before) > 1 and before[-2].text.rstrip().endswith(":"):
        # "... used a different split:" + "Southeast, ..., and Gangwon·Jeju." is one statement
        lead = before[-2]
        if not text[lead.end : last.start].strip():
            last = Span(text[lead.start : last.end], lead.start)
    last = without_heading(last, text)
    if len(last.text.strip()) < ANTECEDENT_MIN_CHARS or looks_like_heading(last.text):
        return None
    return last


def with_antecedents(chosen: Sequence[Candidate], passages: Sequence[Passage]) -> list[Candidate]:
    """The chosen sentences, each pointing-back one preceded by the sentence it points to
    (unless that is shown just before it already); one whose antecedent is not in its passage
    is left out, unless it is all there is."""
    out: list[Candidate] = []
    for cand in chosen:
        if not points_back(cand.span.text):
            out.append(cand)
            continue
        text = passages[cand.passage_index].chunk.text
        before = previous_sentence(text, cand.span)
        if before is None:
            if len(chosen) == 1:
                out.append(cand)
            continue
        shown = any(
            c.passage_index == cand.passage_index and c.span.start <= before.start < c.span.end + 1
            for c in out
        )
        if not shown:
            out.append(dataclasses.replace(cand, span=before))
        out.append(cand)
    return _without_contained(out) or list(chosen)


def _without_contained(chosen: Sequence[Candidate]) -> list[Candidate]:
    """Each sentence once: one inside another shown sentence of its passage (a piece of an
    antecedent that was chosen by itself) is left out."""

    def inside(a: Candidate, b: Candidate) -> bool:
        return (
            a is not b
            and a.passage_index == b.passage_index
            and b.span.start <= a.span.start
            and a.span.end <= b.span.end
            and (a.span.start, a.span.end) != (b.span.start, b.span.end)
        )

    kept = [c for c in chosen if not any(inside(c, other) for other in chosen)]
    seen: set[tuple[int, int, int]] = set()
    out = []
    for cand in kept:
        key = (cand.passage_index, cand.span.start, cand.span.end)
        if key not in seen:
            seen.add(key)
            out.append(cand)
    return out


def without_gap_items(chosen: Sequence[Candidate], passages: Sequence[Passage]) -> list[Candidate]:
    """The chosen sentences without the items of a "not specified" list ("- 포괄보조의 집행
    부처" under "공개 자료에서 확인되지 않는 사항"): quoted without their heading they read as
    facts. Such a list answers a question only as a refusal (`stated_gap`)."""
    kept = [
        c
        for c in chosen
        if not in_gaps_section(span_section(passages[c.passage_index].chunk, c.span))
        or is_not_specified(c.span.text)
    ]
    return kept or list(chosen)


def with_following_details(
    chosen: Sequence[Candidate], passages: Sequence[Passage], analysis: QuestionAnalysis
) -> list[Candidate]:
    """The chosen sentences, the first one about the question that is followed directly by
    sentences giving a kind of detail asked for and given by no chosen sentence ("$800 in
    CDC Vouchers" + "The first $500 will be disbursed in May" for "how much, and when?") shown
    with them (up to FOLLOWING_DETAIL_SENTENCES): such a sentence rarely repeats the
    question's words, so it does not rank by itself."""
    missing = frozenset(
        kind
        for kind in analysis.details
        if not any(analysis.gives_detail(c.span.text, frozenset({kind})) for c in chosen)
    )
    if not missing or not chosen:
        return list(chosen)
    shown = {(c.passage_index, c.span.start) for c in chosen}
    for at, cand in enumerate(chosen):
        if not analysis.terms.names_subject(cand.span.text):
            continue
        text = passages[cand.passage_index].chunk.text
        added: list[Candidate] = []
        end = cand.span.end
        for sentence in sentence_spans(text):
            if sentence.start < end:
                continue
            if (
                len(added) >= FOLLOWING_DETAIL_SENTENCES
                or _LIST_GAP.fullmatch(text[end : sentence.start]) is None
            ):
                break
            if (cand.passage_index, sentence.start) in shown or not analysis.gives_detail(
                sentence.text, missing
            ):
                break
            added.append(dataclasses.replace(cand, span=sentence))
            end = sentence.end
        if added:
            return [*chosen[: at + 1], *added, *chosen[at + 1 :]]
    return list(chosen)


# What may stand between a sentence and the next one it goes on with: space and an item mark
# ("a. ... household.\n\ni. The first $500 ...").
_LIST_GAP = re.compile(r"\s*(?:(?:[ivx]{1,4}|[a-z]|\d{1,2}|[가-하])[.)]|[-*•◦▪·○])?\s*")


def with_introduced_items(
    chosen: Sequence[Candidate], passages: Sequence[Passage]
) -> list[Candidate]:
    """The chosen sentences, each one that ends with a colon ("NHS England will only fund it if
    the case meets the following criteria:") followed by the list items right after it in its
    passage, as many as fit in LIST_BLOCK_CHARS (at least one), or, when no item mark follows,
    by the one sentence right after it ("... used another regional split:" + "Southeast, ...,
    and Gangwon·Jeju."): without them it says only that there is an answer."""
    shown = {(c.passage_index, c.span.start) for c in chosen}
    out: list[Candidate] = []
    for cand in chosen:
        out.append(cand)
        if not cand.span.text.rstrip().endswith((":", "：")):
            continue
        text = passages[cand.passage_index].chunk.text
        end, used = cand.span.end, 0
        for sentence in sentence_spans(text):
            if sentence.start < end:
                continue
            if text[end : sentence.start].strip() or (cand.passage_index, sentence.start) in shown:
                break
            if not is_list_item(sentence.text):
                if not used and len(sentence.text) <= LIST_BLOCK_CHARS:
                    out.append(dataclasses.replace(cand, span=sentence))
                break
            if used and used + len(sentence.text) > LIST_BLOCK_CHARS:
                break
            out.append(dataclasses.replace(cand, span=sentence))
            used += len(sentence.text)
            end = sentence.end
    return out


def with_continuations(chosen: Sequence[Candidate], passages: Sequence[Passage]) -> list[Candidate]:
    """The chosen sentences, each followed by the sentence right after it in its passage when
    that one opens by pointing back at it ("① 생계급여는 금전을 지급하는 것으로 한다." + "다만,
    ... 물품을 지급할 수 있다."): a proviso or a consequence is part of what the sentence says."""
    shown = {(c.passage_index, c.span.start) for c in chosen}
    out: list[Candidate] = []
    for cand in chosen:
        out.append(cand)
        text = passages[cand.passage_index].chunk.text
        following = next((s for s in sentence_spans(text) if s.start >= cand.span.end), None)
        if following is None or text[cand.span.end : following.start].strip():
            continue
        if (cand.passage_index, following.start) in shown or not points_back(following.text):
            continue
        shown.add((cand.passage_index, following.start))
        out.append(dataclasses.replace(cand, span=following))
    return out
