"""Calibration of retrieval on the indexed documents themselves, without labels.

What is derived from a corpus when it changes, and stored with the index:

- a term table: the indexed words of each language embedded with the multilingual embedder, so
  that a question's words find their nearest words of the other language's documents ("budget"
  -> 예산, "livelihood benefit" -> 생계급여), also for terms that no glossary lists and that no
  document glosses in parentheses;
- how each retriever scores on this corpus: pseudo-questions drawn from its own passages (a
  sentence of one passage) give each embedder's typical best similarity to another passage,
  the level a dense list's best must reach to count as a full match; and how far each
  language's passages have counterparts in the other, which weighs the other language's
  side.

Fusion weights themselves are not chosen on pseudo-questions: copied sentences favour BM25
on every corpus. On en-filings-dev, raising the English lexical weight from 0.35 to 0.8 lifts
MRR@10 on 155 such pseudo-questions from 0.146 to 0.220 and drops it on the 41 real ones from
0.456 to 0.272: they would pick the wrong weights where questions paraphrase.

This module holds the values and the pure functions; `calibration_store` reads and writes the
files and runs a calibration on a searcher's index.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from policyqa.core.language import other_language
from policyqa.core.tuning import (
    COUNTERPART_COSINE,
    OWN_LANGUAGE_PRIOR,
    PSEUDO_QUESTIONS,
    REPEATED_TRANSLATED_WEIGHT,
    SURFACE_SAMPLE,
    TERM_LIMIT,
    TERM_MIN_CHUNKS,
    TERM_THRESHOLD,
)

log = logging.getLogger(__name__)

# -- the term table ---------------------------------------------------------------------------


_HANGUL_WORD = re.compile(r"^[\uac00-\ud7a3]{2,}$")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\-']*[A-Za-z]")


@dataclass(frozen=True)
class TermTable:
    """One language's indexed words in the multilingual embedder's space: `tokens[i]` is what
    BM25 knows (a Kiwi lemma, an English stem), `surfaces[i]` the word as written, which is
    what was embedded, `vectors[i]` its unit vector."""

    language: str
    tokens: tuple[str, ...]
    surfaces: tuple[str, ...]
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)


def korean_terms(document_frequency: Mapping[str, int], limit: int = TERM_LIMIT) -> list[str]:
    """Hangul tokens of the index worth a place in the table, most widespread first."""
    kept = [
        t for t, n in document_frequency.items() if n >= TERM_MIN_CHUNKS and _HANGUL_WORD.match(t)
    ]
    kept.sort(key=lambda t: (-document_frequency[t], t))
    return kept[:limit]


def english_terms(
    texts: Iterable[str],
    stem: Callable[[str], str | None],
    document_frequency: Mapping[str, int],
    limit: int = TERM_LIMIT,
) -> list[tuple[str, str]]:
    """(stem, surface) pairs for the English words of `texts`: the index knows stems, but a stem
    ("hous") embeds badly, so each stem is embedded as its most frequent written form."""
    surfaces: dict[str, dict[str, int]] = {}
    for text in texts:
        for match in _LATIN_WORD.finditer(text):
            word = match.group(0)
            if word.isupper():  # acronyms match as themselves in either language's text
                continue
            token = stem(word)
            if token and document_frequency.get(token, 0) >= TERM_MIN_CHUNKS:
                forms = surfaces.setdefault(token, {})
                lowered = word.lower()
                forms[lowered] = forms.get(lowered, 0) + 1
    ranked = sorted(surfaces, key=lambda t: (-document_frequency.get(t, 0), t))[:limit]
    return [(t, max(surfaces[t].items(), key=lambda kv: (kv[1], kv[0]))[0]) for t in ranked]


def unit_rows(vectors: Any) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or not len(array):
        return np.zeros((0, array.shape[-1] if array.ndim == 2 else 0), dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.asarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


@dataclass(frozen=True)
class TermMatch:
    word: str  # the question's word or phrase
    token: str  # the indexed token of the other language it matched
    similarity: float


def nearest_terms(
    words: Sequence[str],
    word_vectors: np.ndarray,
    table: TermTable,
    threshold: float = TERM_THRESHOLD,
) -> list[TermMatch]:
    """For each question word, the table's nearest word when it is at least `threshold`
    similar. A token matched by several words keeps its best similarity."""
    if not len(table) or not len(words):
        return []
    similarities = unit_rows(word_vectors) @ table.vectors.T
    best: dict[str, TermMatch] = {}
    for i, word in enumerate(words):
        j = int(np.argmax(similarities[i]))
        value = float(similarities[i, j])
        if value >= threshold:
            token = table.tokens[j]
            if token not in best or best[token].similarity < value:
                best[token] = TermMatch(word, token, value)
    return sorted(best.values(), key=lambda m: (-m.similarity, m.token))


def phrases(words: Sequence[tuple[str, bool]]) -> list[str]:
    """The question's content words and each pair of neighbouring ones ("job creation"), from
    (word, kept) in reading order: a pair is only formed across two kept words in a row."""
    kept = [w for w, keep in words if keep]
    pairs = [
        f"{a} {b}" for (a, keep_a), (b, keep_b) in itertools.pairwise(words) if keep_a and keep_b
    ]
    return list(dict.fromkeys(kept + pairs))


def table_with_vectors(
    language: str,
    entries: Sequence[tuple[str, str]],
    known: TermTable | None,
    embed: Callable[[list[str]], Sequence[Sequence[float]]],
    batch: int = 256,
) -> TermTable:
    """The table of `entries` (token, surface): vectors of surfaces `known` already holds are
    reused, the others embedded, so a refresh after an ingest embeds only new words."""
    reused: dict[str, np.ndarray] = {}
    if known is not None:
        reused = {s: known.vectors[i] for i, s in enumerate(known.surfaces)}
    todo = [s for _, s in entries if s not in reused]
    todo = list(dict.fromkeys(todo))
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        reused.update(zip(part, unit_rows(embed(part)), strict=True))
    if not entries:
        return TermTable(language, (), (), np.zeros((0, 0), dtype=np.float32))
    vectors = np.stack([np.asarray(reused[s], dtype=np.float32) for _, s in entries])
    return TermTable(
        language,
        tuple(t for t, _ in entries),
        tuple(s for _, s in entries),
        unit_rows(vectors),
    )


def build_term_tables(
    document_frequency: Mapping[str, int],
    english_texts: Sequence[str],
    stem: Callable[[str], str | None],
    embed: Callable[[list[str]], Sequence[Sequence[float]]],
    known: Mapping[str, TermTable] | None = None,
) -> dict[str, TermTable]:
    """Both languages' term tables for an index, reusing the vectors of `known` tables."""
    known = known or {}
    step = max(1, len(english_texts) // SURFACE_SAMPLE)
    stems: dict[str, str | None] = {}

    def cached_stem(word: str) -> str | None:
        key = word.lower()
        if key not in stems:
            stems[key] = stem(word)
        return stems[key]

    korean = [(t, t) for t in korean_terms(document_frequency)]
    english = english_terms(english_texts[::step], cached_stem, document_frequency)
    return {
        "ko": table_with_vectors("ko", korean, known.get("ko"), embed),
        "en": table_with_vectors("en", english, known.get("en"), embed),
    }


# -- match levels: what a match scores on this corpus ------------------------------------------

PSEUDO_SEED = 0
_SENTENCE_WORDS = (6, 40)


@dataclass(frozen=True)
class PseudoQuestion:
    """A sentence of one chunk (`source`), asking for the other chunks of its page (`targets`),
    which share its topic but not its words: the inverse cloze task."""

    text: str
    language: str
    source: str
    targets: frozenset[str]


@dataclass(frozen=True)
class ChunkView:
    """What pseudo-question sampling needs of a chunk."""

    id: str
    page: tuple[str, int]  # (document, page)
    language: str
    text: str


def pseudo_questions(
    chunks: Sequence[ChunkView],
    split_sentences: Callable[[str], Sequence[str]],
    per_language: int = PSEUDO_QUESTIONS,
    seed: int = PSEUDO_SEED,
) -> list[PseudoQuestion]:
    """Up to `per_language` pseudo-questions for each chunk language, from pages of two or more
    chunks, one per page, drawn with a fixed seed. The sentence must not occur in the other
    chunks of its page (the overlap between neighbouring chunks would make it a copy)."""
    rng = random.Random(seed)
    pages: dict[tuple[str, int], list[ChunkView]] = {}
    for chunk in chunks:
        pages.setdefault(chunk.page, []).append(chunk)
    keys = sorted(k for k, v in pages.items() if len(v) >= 2)
    rng.shuffle(keys)
    taken: dict[str, int] = {}
    out: list[PseudoQuestion] = []
    low, high = _SENTENCE_WORDS
    for key in keys:
        group = pages[key]
        for source in rng.sample(group, len(group)):  # the first chunk that has a sentence
            if source.language not in ("ko", "en"):
                continue
            if taken.get(source.language, 0) >= per_language:
                continue
            others = [c for c in group if c.id != source.id]
            sentences = [
                t.strip()
                for t in split_sentences(source.text)
                if low <= len(t.split()) <= high and not any(t.strip() in o.text for o in others)
            ]
            if not sentences:
                continue
            text = sentences[rng.randrange(len(sentences))]
            targets = frozenset(o.id for o in others)
            out.append(PseudoQuestion(text, source.language, source.id, targets))
            taken[source.language] = taken.get(source.language, 0) + 1
            break
    return out


def match_level(best_scores: Sequence[float]) -> float:
    """The typical best similarity of a pseudo-question to another passage: the median."""
    return float(np.median(best_scores)) if len(best_scores) else 0.0


# -- how far the two languages say the same ----------------------------------------------------


def counterpart_share(best_cross: Sequence[float], threshold: float = COUNTERPART_COSINE) -> float:
    """The share of sampled chunks whose nearest other-language chunk is at least `threshold`
    similar."""
    return sum(1 for v in best_cross if v >= threshold) / len(best_cross) if best_cross else 0.0


def other_language_prior(share: float, prior: float = OWN_LANGUAGE_PRIOR) -> float:
    """The factor for the other language's passages: 1 where the question's language has no
    counterpart of them, `prior` where it has one for every passage."""
    return 1.0 - (1.0 - prior) * min(1.0, max(0.0, share))


@dataclass
class Calibration:
    """What was measured on one state of the index (`token`)."""

    token: str
    # (embedder slug, chunk language) -> median best cosine of pseudo-questions (`match_level`)
    dense_levels: dict[tuple[str, str], float] = field(default_factory=dict)
    # language -> share of its chunks with a counterpart in the other (`counterpart_share`)
    counterparts: dict[str, float] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)  # pseudo-questions per language
    terms: dict[str, int] = field(default_factory=dict)  # term table size per language
    seconds: float = 0.0

    def _repeated(self, language: str) -> float:
        """How far the other language's passages repeat `language`'s (0: not at all)."""
        other = other_language(language)
        return min(1.0, max(0.0, self.counterparts.get(other, 0.0)))

    def other_language_prior(self, language: str) -> float:
        """The factor for other-language passages of a question in `language`."""
        return other_language_prior(self._repeated(language))

    def translated_weight(self, language: str) -> float:
        """The weight of BM25 on translated terms, relative to the question's own words."""
        return 1.0 - (1.0 - REPEATED_TRANSLATED_WEIGHT) * self._repeated(language)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["dense_levels"] = [[s, lang, v] for (s, lang), v in self.dense_levels.items()]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(
            token=str(data["token"]),
            dense_levels={(str(s), str(lang)): float(v) for s, lang, v in data["dense_levels"]},
            counterparts={str(k): float(v) for k, v in data.get("counterparts", {}).items()},
            questions={str(k): int(v) for k, v in data.get("questions", {}).items()},
            terms={str(k): int(v) for k, v in data.get("terms", {}).items()},
            seconds=float(data.get("seconds", 0.0)),
        )
