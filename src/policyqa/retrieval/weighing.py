"""How the default fusion weighs its retrievers, per corpus (what calibration measured on the
indexed documents) and per question (the evidence each language side holds), and the
alternatives it is compared with (one retriever alone, equal-weight RRF). Plain functions over
the ranked lists, and `TermMatcher`, which finds the other language's indexed words nearest to
a question's words."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from policyqa.core.language import other_language
from policyqa.core.memo import BoundedCache
from policyqa.core.tuning import (
    DENSE_FLOOR_SHARE,
    DENSE_SHARE_OF_STRENGTH,
    MULTILINGUAL_SHARE,
    TRANSLATED_CORPUS_SHARE,
    TRANSLATED_WEIGHT,
)
from policyqa.index.embed import EmbedderSpec
from policyqa.retrieval.calibration import (
    Calibration,
    TermMatch,
    TermTable,
    nearest_terms,
    phrases,
)
from policyqa.retrieval.fusion import (
    Fused,
    LanguageEvidence,
    RankedList,
    fuse_by_language,
    language_factors,
    reciprocal_rank_fusion,
)

# Retrievers a search can be limited to, for comparisons: "default" (the fusion), "bm25" (the
# question's own words alone), "lexical" (with translated terms for the other language),
# "dense:<slug>" (one embedder), "rrf" (equal-weight reciprocal rank fusion of every list).
RETRIEVERS = ("default", "bm25", "lexical", "rrf")

DenseHits = Sequence[tuple[EmbedderSpec, list[tuple[str, float]]]]


def multilingual_share(calibration: Calibration | None, language: str) -> float:
    """The weight of a multilingual embedder beside one limited to `language`, on that
    language's chunks, relative to it: `MULTILINGUAL_SHARE` where most of those chunks have a
    counterpart in the other language (the index's calibration measures the share), else none.
    USE's part there is to rank a passage as its translation ranks; in a corpus without
    translations it only dilutes the English embedder. Not calibrated yet: `MULTILINGUAL_SHARE`."""
    if calibration is None:
        return MULTILINGUAL_SHARE
    translated = calibration.counterparts.get(language, 0.0)
    return MULTILINGUAL_SHARE if translated >= TRANSLATED_CORPUS_SHARE else 0.0


def dense_shares(
    specs: Sequence[EmbedderSpec], language: str, share: float = MULTILINGUAL_SHARE
) -> dict[EmbedderSpec, dict[str, float]]:
    """Per embedder, the share of the dense weight it carries on each chunk language (1 where
    not given). Where an embedder limited to the question's language (MiniLM for English) covers
    the chunks, it and a multilingual one beside it split the dense weight 1 : `share` there
    (`multilingual_share`), so that the dense lists together weigh what one would and the
    lexical weight of the question's language (`LEXICAL_WEIGHT`) keeps its share."""
    specific = [s for s in specs if s.language is not None and s.language == language]
    multilingual = [s for s in specs if s.language is None]
    split = 1.0 + share
    out: dict[EmbedderSpec, dict[str, float]] = {}
    for spec in specs:
        if spec.language is None and specific:
            out[spec] = {
                lang: share / split
                for lang in ("ko", "en", "mixed")
                if any(s.covers(lang) for s in specific)
            }
        elif spec in specific and multilingual:
            out[spec] = {lang: 1.0 / split for lang in ("ko", "en", "mixed") if spec.covers(lang)}
        else:
            out[spec] = {}
    return out


def language_evidence(
    lists: Sequence[RankedList],
    dense_hits: DenseHits,
    chunk_language: Mapping[str, str],
    language: str,
) -> tuple[LanguageEvidence, LanguageEvidence]:
    """For the question's own language and for the other one: how much of the question (or its
    translation) the best BM25 match holds, and the multilingual embedder's best similarity."""

    def coverage(name: str) -> float:
        for lst in lists:
            if lst.name == name and lst.bound and lst.scores:
                return max(lst.scores.values()) / lst.bound
        return 0.0

    own_similarity = other_similarity = 0.0
    multilingual = [hits for spec, hits in dense_hits if spec.language is None]
    for cid, score in multilingual[0] if multilingual else []:
        if chunk_language.get(cid, "mixed") in (language, "mixed"):
            own_similarity = max(own_similarity, score)
        else:
            other_similarity = max(other_similarity, score)
    return (
        LanguageEvidence(coverage("lexical"), own_similarity),
        LanguageEvidence(coverage("lexical:translated"), other_similarity),
    )


def translated_weight(calibration: Calibration | None, language: str) -> float:
    """The weight of BM25 on translated terms for questions in `language`, relative to BM25 on
    the question's own words."""
    if calibration is None:
        return TRANSLATED_WEIGHT
    return calibration.translated_weight(language)


def dense_floors(calibration: Calibration | None) -> dict[tuple[str, str], float]:
    """Per (dense list, chunk language), the best score under which a list holds no full match:
    `DENSE_FLOOR_SHARE` of the calibrated match level."""
    if calibration is None:
        return {}
    return {
        (f"dense:{slug}", chunk_language): DENSE_FLOOR_SHARE * level
        for (slug, chunk_language), level in calibration.dense_levels.items()
    }


def fuse_lists(
    retriever: str,
    lists: list[RankedList],
    dense_hits: DenseHits,
    chunk_language: Mapping[str, str],
    language: str,
    calibration: Calibration | None,
    fixed_prior: float | None = None,
) -> list[Fused]:
    """The default fusion (`fusion.fuse_by_language`, its sides weighed by the evidence each
    holds and the calibrated prior), or the retriever `retriever` names alone. `fixed_prior`:
    the other language's factor when the question itself says which language it wants."""
    if retriever == "rrf":
        rankings = [sorted(x.scores, key=lambda c: -x.scores[c]) for x in lists]
        return [Fused(c, s, {}) for c, s in reciprocal_rank_fusion([r for r in rankings if r])]
    if retriever.startswith("dense:") or retriever == "bm25":
        name = "lexical" if retriever == "bm25" else retriever
        alone = [x for x in lists if x.name == name]
        hits = sorted(alone[0].scores.items(), key=lambda kv: -kv[1]) if alone else []
        return [Fused(c, s, {retriever: s}) for c, s in hits]
    lexical_only = retriever == "lexical"
    if lexical_only:
        lists = [x for x in lists if x.name.startswith("lexical")]
    if fixed_prior is not None:
        factors = (1.0, fixed_prior)
    else:
        own, other = language_evidence(lists, dense_hits, chunk_language, language)
        share = 0.0 if lexical_only else DENSE_SHARE_OF_STRENGTH
        prior = 1.0 if calibration is None else calibration.other_language_prior(language)
        factors = language_factors(own, other, share, prior)
    return fuse_by_language(lists, chunk_language, language, factors, dense_floors(calibration))


class TermMatcher:
    """The other language's indexed words nearest to a question's content words and their
    neighbouring pairs (`calibration.nearest_terms`): translations of terms that no glossary
    lists and no document glosses. Word vectors and matches are kept per question."""

    def __init__(
        self,
        encoder: Embeddings | None,
        content_words: Callable[[str], list[tuple[str, bool]]],
    ) -> None:
        self.encoder = encoder
        self.content_words = content_words
        self.tables: dict[str, TermTable] = {}
        self._vectors: BoundedCache[str, np.ndarray] = BoundedCache(4096)
        self._matches: BoundedCache[tuple[str, str], tuple[TermMatch, ...]] = BoundedCache()

    def use(self, tables: Mapping[str, TermTable]) -> None:
        self.tables = dict(tables)
        self._matches.clear()

    def forget(self) -> None:
        self._vectors.clear()
        self._matches.clear()

    def match(self, token: str, query: str, language: str) -> list[TermMatch]:
        table = self.tables.get(other_language(language))
        if table is None or not len(table) or self.encoder is None:
            return []
        key = (token, query)
        cached = self._matches.get(key)
        if cached is None:
            words = phrases(self.content_words(query))
            cached = tuple(nearest_terms(words, self._vectors_of(words), table))
            self._matches.put(key, cached)
        return list(cached)

    def _vectors_of(self, words: Sequence[str]) -> np.ndarray:
        """Multilingual vectors of short texts, kept per text (question words repeat)."""
        found = {w: v for w in words if (v := self._vectors.get(w)) is not None}
        missing = [w for w in dict.fromkeys(words) if w not in found]
        if missing and self.encoder is not None:
            for word, vector in zip(missing, self.encoder.embed_documents(missing), strict=True):
                found[word] = np.asarray(vector, dtype=np.float32)
                self._vectors.put(word, found[word])
        if not words:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[w] for w in words])
