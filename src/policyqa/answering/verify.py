"""Citation verification, applied to every answer after it is written (extractive or LLM).

A sentence keeps a citation `[n]` only if n points at a passage that was given, every number in
the sentence appears in that passage, and the passage supports the sentence: enough of the
sentence's content words occur in one of its sentences (or, across languages, an embedding
similarity clears a threshold). Each kept citation quotes the passage sentence that supports
it, verbatim. Sentences left without a verified citation are removed (or marked, on request).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from policyqa.core.models import Passage
from policyqa.core.text import (
    Span,
    collapse,
    neutralise_markers,
    number_supported,
    numbers_in,
    sentence_spans,
)
from policyqa.ingest.split import section_at

_MARKER = re.compile(r"\s*(?:\[(\d+(?:\s*[,，]\s*\d+)*)\])")
# A sentence ends after its citation markers, or at . ! ? before whitespace, or at a line break.
_ANSWER_SENTENCE = re.compile(r"(?:\[\d+(?:\s*[,，]\s*\d+)*\])+\s+|(?<=[.!?。])\s+(?!\[\d)|\n+")

Tokenize = Callable[[str], list[str]]
Similarity = Callable[[str, Sequence[str]], list[float]]


@dataclass(frozen=True)
class Citation:
    n: int
    chunk_id: str
    doc: str
    title: str
    page: int
    page_label: str
    section: str
    quote: str
    language: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc": self.doc,
            "title": self.title,
            "page": self.page,
            "page_label": self.page_label,
            "section": self.section,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # without markers
    cited: tuple[int, ...]  # markers as the answerer wrote them (1-based passage numbers)
    citations: tuple[int, ...]  # verified citation numbers in the final answer
    supported: bool
    reason: str = ""


@dataclass
class Verification:
    sentences: list[CheckedSentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)

    @property
    def kept(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if s.supported]

    @property
    def removed(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if not s.supported]

    def text(self, mark_unsupported: bool = False) -> str:
        parts = []
        for sentence in self.sentences:
            if sentence.supported:
                parts.append(shown_text(sentence))
            elif mark_unsupported:
                parts.append(f"{sentence.text} [unverified]")
        return " ".join(parts)


def split_answer(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Answer sentences with the passage numbers each cites (markers may follow the stop)."""
    out: list[tuple[str, tuple[int, ...]]] = []
    position = 0
    pieces: list[str] = []
    for match in _ANSWER_SENTENCE.finditer(text):
        pieces.append(text[position : match.end()])
        position = match.end()
    pieces.append(text[position:])
    for piece in pieces:
        cited: list[int] = []
        for match in _MARKER.finditer(piece):
            cited.extend(int(n) for n in re.split(r"\s*[,，]\s*", match.group(1)))
        body = piece
        while _MARKER.search(body):  # nested or malformed markers ("[[1]2]") leave none behind
            body = _MARKER.sub("", body)
        body = " ".join(body.split())
        if body:
            out.append((body, tuple(dict.fromkeys(cited))))
    return out


class SupportChecker:
    """Does a passage support a sentence? Lexical overlap, numbers, optional embeddings."""

    def __init__(
        self,
        tokenize: Tokenize,
        overlap: float = 0.5,
        similarity: Similarity | None = None,
        min_similarity: float = 0.55,
    ) -> None:
        self.tokenize = tokenize
        self.overlap = overlap
        self.similarity = similarity
        self.min_similarity = min_similarity

    def best_span(self, sentence: str, passage_text: str) -> tuple[Span | None, float]:
        """The passage sentence sharing most of `sentence`'s content words, and that share."""
        words = set(self.tokenize(sentence))
        spans = sentence_spans(passage_text, min_chars=1) or [Span(passage_text, 0)]
        if not words:
            return None, 0.0
        best: tuple[Span | None, float] = (None, 0.0)
        for span in spans:
            share = len(words & set(self.tokenize(span.text))) / len(words)
            if share > best[1]:
                best = (span, share)
        return best

    def check(self, sentence: str, passage_text: str) -> tuple[bool, str, str]:
        """(supported, quote, reason)."""
        missing = [
            v
            for v in numbers_in(sentence)
            if not number_supported(v, neutralise_markers(passage_text))
        ]
        if missing:
            return False, "", f"number {missing[0]} is not in the cited passage"
        if not re.search(r"\w", sentence):
            return False, "", "the sentence has no words"
        # Markers written inside the document were shown as "(n)"; the quote keeps the original.
        original = collapse(passage_text)
        neutral = neutralise_markers(original)
        at = neutral.find(collapse(sentence))
        if at >= 0:
            return True, original[at : at + len(collapse(sentence))], ""
        span, share = self.best_span(sentence, passage_text)
        if span is not None and share >= self.overlap:
            return True, collapse(span.text), ""
        if self.similarity is not None:
            spans = sentence_spans(passage_text, min_chars=1) or [Span(passage_text, 0)]
            scores = self.similarity(sentence, [s.text for s in spans])
            top = max(range(len(spans)), key=lambda i: scores[i])
            if scores[top] >= self.min_similarity:
                return True, collapse(spans[top].text), ""
        return False, "", "the cited passage does not support the sentence"


class Verifier:
    """Checks answer sentences one at a time, numbering citations as they are first used, so
    that a streamed answer can show each sentence as soon as it is verified."""

    def __init__(self, passages: Sequence[Passage], checker: SupportChecker) -> None:
        self.passages = passages
        self.checker = checker
        self.result = Verification()
        self._numbering: dict[tuple[str, str], int] = {}

    def add(self, body: str, cited: tuple[int, ...]) -> CheckedSentence:
        checked = self._check(body, cited)
        self.result.sentences.append(checked)
        return checked

    def _check(self, body: str, cited: tuple[int, ...]) -> CheckedSentence:
        valid = [n for n in cited if 1 <= n <= len(self.passages)]
        if not cited:
            return CheckedSentence(body, cited, (), False, "no citation")
        if not valid:
            return CheckedSentence(
                body, cited, (), False, f"cites passage {cited[0]}, which was not given"
            )
        numbers: list[int] = []
        reason = ""
        for n in valid:
            chunk = self.passages[n - 1].chunk
            ok, quote, why = self.checker.check(body, chunk.text)
            if not ok:
                reason = reason or f"[{n}]: {why}"
                continue
            key = (chunk.id, quote)
            if key not in self._numbering:
                self._numbering[key] = len(self._numbering) + 1
                self.result.citations.append(
                    Citation(
                        n=self._numbering[key],
                        chunk_id=chunk.id,
                        doc=chunk.doc_id,
                        title=chunk.title,
                        page=chunk.page,
                        page_label=chunk.page_label,
                        section=section_at(chunk, max(0, chunk.text.find(quote))),
                        quote=quote,
                        language=chunk.language,
                    )
                )
            if self._numbering[key] not in numbers:
                numbers.append(self._numbering[key])
        return CheckedSentence(
            body, cited, tuple(numbers), bool(numbers), "" if numbers else reason
        )


def verify(answer: str, passages: Sequence[Passage], checker: SupportChecker) -> Verification:
    verifier = Verifier(passages, checker)
    for body, cited in split_answer(answer):
        verifier.add(body, cited)
    return verifier.result


def complete_prefix(draft: str) -> int:
    """Where the last complete sentence of a draft that is still being written ends (0: none
    yet). A boundary counts only once text follows it that is not a citation marker: "... 2026.
    " may still be followed by "[1]"."""
    end = 0
    for match in _ANSWER_SENTENCE.finditer(draft):
        if match.end() < len(draft) and draft[match.end()] != "[":
            end = match.end()
    return end


def shown_text(sentence: CheckedSentence) -> str:
    """A verified sentence as the answer shows it: its text and its citation markers."""
    markers = "".join(f"[{n}]" for n in sentence.citations)
    return f"{sentence.text} {markers}".strip()
