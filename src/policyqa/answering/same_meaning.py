"""Answers in the question's language when the documents say the same thing in both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from policyqa.answering.analysis import QuestionAnalysis
from policyqa.answering.sentences import Candidate, in_reading_order
from policyqa.core.language import detect_language
from policyqa.core.tuning import SAME_MEANING, SAME_MEANING_POOL


def language_chosen_over_question(analysis: QuestionAnalysis) -> bool:
    """Whether the answer's language was chosen over the question's own (a question in one
    language asked to be answered in the other)."""
    own = "en" if detect_language(analysis.asked) == "en" else "ko"
    return analysis.language != own


def _similarity(encoder: Embeddings, left: Sequence[Candidate], right: Sequence[Candidate]) -> Any:
    """Cosine similarity of each of `left`'s sentences (rows) to each of `right`'s."""
    vectors = np.asarray(encoder.embed_documents([c.span.text for c in [*left, *right]]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    return vectors[: len(left)] @ vectors[len(left) :].T


def in_question_language(
    chosen: list[Candidate],
    candidates: Sequence[Candidate],
    analysis: QuestionAnalysis,
    encoder: Embeddings | None,
) -> list[Candidate]:
    """Each chosen sentence in the other language that a same-language sentence of the
    passages says too (a bilingual corpus states most things twice) gives way to it, or is
    dropped when that sentence is already in the answer. Meaning is compared with the
    multilingual `encoder`; without one, or when the question asks for the other
    language's wording, the sentences stay as chosen."""
    others = [c for c in chosen if c.other_language]
    if not others or analysis.requested_language not in (None, analysis.language):
        return chosen
    # A question in one language with the answer asked in the other: sentences in the
    # answer language share no words with it, so none has coverage; the meaning decides.
    chosen_over_question = language_chosen_over_question(analysis)
    pool = [
        c for c in candidates if not c.other_language and (c.coverage > 0 or chosen_over_question)
    ]
    pool = pool[:SAME_MEANING_POOL]
    if encoder is None or not pool:
        return chosen
    similarity = _similarity(encoder, others, pool)

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


def with_requested_counterparts(
    chosen: list[Candidate],
    candidates: Sequence[Candidate],
    analysis: QuestionAnalysis,
    encoder: Embeddings | None,
) -> list[Candidate]:
    """A question that asks for the other language's wording ("What's the Korean term for the
    'growth 5-piece set'?") mostly finds its sentence in its own language: each chosen sentence
    in the question's language is followed by the sentence of the asked language that says the
    same (multilingual similarity at least SAME_MEANING), which holds the wording asked for."""
    if encoder is None or analysis.requested_language in (None, analysis.language):
        return chosen
    own = [c for c in chosen if not c.other_language]
    pool = [c for c in candidates if c.other_language][:SAME_MEANING_POOL]
    if not own or not pool:
        return chosen
    similarity = _similarity(encoder, own, pool)
    taken = {(c.passage_index, c.span.start) for c in chosen}
    out: list[Candidate] = []
    for cand in chosen:
        out.append(cand)
        if cand.other_language:
            continue
        row = similarity[own.index(cand)]
        best = int(row.argmax())
        key = (pool[best].passage_index, pool[best].span.start)
        if row[best] >= SAME_MEANING and key not in taken:
            taken.add(key)
            out.append(pool[best])
    return out
