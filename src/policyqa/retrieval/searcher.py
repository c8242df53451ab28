"""Hybrid retrieval: dense (Chroma) + lexical (BM25 over Kiwi/English tokens), fused.

The lexical index is derived from what Chroma holds, rebuilt when the store's state token
changes; tokens are cached on disk by content hash so a rebuild only analyses new text.
`HybridSearcher` is the `retrieval.protocol.Searcher` the answering stage uses.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from policyqa.core.language import detect_language, other_language, requested_language
from policyqa.core.memo import BoundedCache
from policyqa.core.models import Chunk, Passage, chunk_id
from policyqa.core.tuning import (
    DENSE_DEPTH,
    LEXICAL_SCALE_FLOOR,
    LEXICAL_WEIGHT,
    PAGE_SHARE,
)
from policyqa.domain import DomainPack, load_domain
from policyqa.index.embed import EmbedderSpec
from policyqa.index.lexcache import LexicalCache
from policyqa.index.lexical import LexicalIndex, Tokenizer, top_k
from policyqa.index.store import Store
from policyqa.retrieval.calibration import Calibration, TermMatch, TermTable
from policyqa.retrieval.calibration_store import CalibrationStore
from policyqa.retrieval.crosslang import Lexicon, flattened, romanize, romanized_forms
from policyqa.retrieval.documents import DocumentRouter, lift, routed
from policyqa.retrieval.filters import Filters, chunk_mask, to_chroma_where
from policyqa.retrieval.fusion import MISSING_FACTOR, Fused, RankedList, top_per_language
from policyqa.retrieval.pages import PageView, page_lists, with_page_share
from policyqa.retrieval.priors import adjust
from policyqa.retrieval.weighing import (
    TermMatcher,
    dense_shares,
    fuse_lists,
    multilingual_share,
    translated_weight,
)

log = logging.getLogger(__name__)


_REFRESH_SECONDS = 2.0


@dataclass
class _LexicalState:
    token: str
    index: LexicalIndex
    chunks: list[Chunk]
    position: dict[str, int]
    lexicon: Lexicon
    romanized: dict[str, str]  # romanisation -> Korean token, for the index's Korean words
    latin_vocabulary: set[str]
    chunk_language: dict[str, str]  # chunk id -> language, for fusion
    languages: dict[str, np.ndarray]  # per language, which positions are in it
    regions: list[frozenset[str]]  # domain areas each chunk names (title, section or text)
    manifest: dict[str, dict[str, Any]] = field(default_factory=dict)  # as read with `chunks`
    router: DocumentRouter | None = None  # document profiles, made on the first search

    @functools.cached_property
    def page_view(self) -> PageView:  # made on the first search that spreads page scores
        return PageView.of(self.chunks, self.manifest, self.languages)

    @functools.cached_property
    def document_codes(self) -> tuple[dict[str, int], np.ndarray]:
        """Doc id -> code, and each chunk's document code: a document mask without a loop."""
        codes: dict[str, int] = {}
        ids = (codes.setdefault(c.doc_id, len(codes)) for c in self.chunks)
        per_chunk = np.fromiter(ids, np.int32, len(self.chunks))
        return codes, per_chunk


def absent(
    documents: Sequence[str], candidates: Mapping[str, float], state: _LexicalState
) -> list[str]:
    """The documents of which no chunk is among the candidates (chunk id -> score)."""
    present = {
        state.chunks[state.position[cid]].doc_id for cid in candidates if cid in state.position
    }
    return [d for d in documents if d not in present]


class HybridSearcher:
    """Answers `search(question)` with fused passages. Thread-safe; models load on first use."""

    def __init__(
        self,
        store: Store,
        embedders: Sequence[tuple[EmbedderSpec, Embeddings]],
        tokenizer: Tokenizer | None = None,
        cache_path: Path | None = None,
        candidates: int = 50,
        lexical_weight: Mapping[str, float] | None = None,
        missing_factor: float = MISSING_FACTOR,
        clock: Callable[[], float] = time.monotonic,
        domain: DomainPack | None = None,
        calibration_store: CalibrationStore | None = None,
        retriever: str = "default",
    ) -> None:
        self.store = store
        self.embedders = list(embedders)
        self.tokenizer = tokenizer or Tokenizer()
        self.domain = domain if domain is not None else load_domain("none")
        self.cache = LexicalCache(cache_path, self._chunk_areas)
        self.candidates = candidates
        self.lexical_weight = dict(lexical_weight or LEXICAL_WEIGHT)
        self.missing_factor = missing_factor
        self._state: _LexicalState | None = None
        self._clock = clock
        # When the store was last asked for its state token. `_stale` forces the next search to
        # ask again: a time sentinel would not, as a monotonic clock may start near zero.
        self._checked_at = 0.0
        self._stale = True
        self._lock = threading.Lock()
        self._vectors: BoundedCache[tuple[str, str], list[float]] = BoundedCache()
        self._translations: BoundedCache[tuple[str, str, str], tuple[str, ...]] = BoundedCache()
        self._groups: BoundedCache[tuple[str, str], tuple[tuple[str, ...], ...]] = BoundedCache()
        # What calibration measured on the index (`calibration_store.refresh`), and each
        # language's indexed words in the multilingual space; empty until it is calibrated.
        self.calibration_store = calibration_store
        self.calibration: Calibration | None = None
        self.terms = TermMatcher(self.multilingual_encoder(), self.tokenizer.content_words)
        # "default", or for comparisons: "bm25" (the question's words alone), "lexical" (with
        # translated terms for the other language), "dense:<slug>" (one embedder), "rrf"
        self.retriever = retriever

    def _query_vector(self, spec: EmbedderSpec, embeddings: Embeddings, query: str) -> list[float]:
        """Query vectors are cached: an answer searches the same question more than once (with
        and without a region scope), and users repeat questions."""
        key = (spec.slug, query)
        cached = self._vectors.get(key)
        if cached is not None:
            return cached
        vector = list(embeddings.embed_query(query))
        self._vectors.put(key, vector)
        return vector

    def forget_questions(self) -> None:
        """Drop what is kept per question (vectors, translations, analyses), so that the next
        search of a question costs what its first search did: for benchmarks."""
        for cache in (self._vectors, self._translations, self._groups):
            cache.clear()
        self.terms.forget()
        self.tokenizer.forget()

    def use_calibration(
        self, calibration: Calibration | None, term_tables: Mapping[str, TermTable]
    ) -> None:
        with self._lock:
            self.calibration = calibration
            self.terms.use(term_tables)

    def invalidate(self) -> None:
        """Re-read the index on the next search (after an ingest or a removal in this process)."""
        with self._lock:
            self._stale = True

    # -- the Searcher protocol besides search() ------------------------------------------------
    def tokenize(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text)

    def chunk_tokens(self, chunk: Chunk) -> list[str]:
        # The index analysed indexed texts already; tokenize only what it does not hold.
        cached = self.cache.get(chunk.content_hash)
        return cached.tokens if cached else self.tokenizer.tokenize(chunk.context_text)

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        return self.lexical().index.idf(tokens)

    def knows(self, token: str) -> bool:
        return self.lexical().index.contains(token)

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        state = self.lexical()
        index = state.position.get(chunk_id(chunk.doc_id, chunk.page, chunk.ordinal + step))
        return state.chunks[index] if index is not None else None

    def translation_groups(self, text: str) -> tuple[tuple[str, ...], ...]:
        return self._translation_groups(self.lexical(), text)

    def documents(self, filters: Filters | None = None) -> list[str]:
        state = self.lexical()
        _, _, mask = chunk_mask(state.chunks, state.regions, filters)
        chunks = state.chunks if mask is None else [state.chunks[i] for i in np.flatnonzero(mask)]
        return sorted({c.doc_id for c in chunks})

    def title(self, doc_id: str) -> str:
        record = self.lexical().manifest.get(doc_id) or {}
        return str(record.get("title") or doc_id)

    def multilingual_encoder(self) -> Embeddings | None:
        return next(
            (e for spec, e in self.embedders if spec.covers("ko") and spec.covers("en")), None
        )

    def _chunk_areas(self, chunk: Chunk) -> frozenset[str]:
        """The domain areas a chunk is about: named in its title or section, or named in its
        text alongside at most one other (a list of all the areas is about none of them)."""
        heading = set(self.domain.areas_in(f"{chunk.title} {chunk.section}"))
        in_text = set(self.domain.areas_in(chunk.text))
        return frozenset(heading | (in_text if len(in_text) <= 2 else set()))

    # -- lexical index, derived from Chroma ----------------------------------------------------
    def lexical(self) -> _LexicalState:
        with self._lock:
            now = self._clock()
            fresh = not self._stale and now - self._checked_at < _REFRESH_SECONDS
            if self._state is not None and fresh:
                return self._state
            token = self.store.state_token()
            self._checked_at = now
            self._stale = False
            if self._state is None or self._state.token != token:
                manifest = self.store.manifest_metadata()
                chunks = self._current_chunks(manifest)
                # The old state is no longer needed (its kept chunks are in `chunks`); letting it
                # go before the new index is built keeps two BM25 matrices from being in memory.
                self._state = None
                analyses = self.cache.analyses(chunks, self.tokenizer)
                index = LexicalIndex([c.id for c in chunks], [a.tokens for a in analyses])
                position = {c.id: i for i, c in enumerate(chunks)}
                lexicon = Lexicon([p for a in analyses for p in a.pairs], self.domain)
                # Boolean masks made once per state: comparing a 100k object array on every
                # search costs milliseconds.
                codes = np.array([c.language for c in chunks], dtype=object)
                languages = {lang: codes == lang for lang in ("ko", "en", "mixed")}
                named = [a.regions for a in analyses]
                vocabulary = index.vocabulary()
                latin = {t for t in vocabulary if t.isascii() and t.isalpha()}
                romanized = romanized_forms(t for t in vocabulary if not t.isascii())
                self._state = _LexicalState(
                    token,
                    index,
                    chunks,
                    position,
                    lexicon,
                    romanized,
                    latin,
                    {c.id: c.language for c in chunks},
                    languages,
                    named,
                    manifest,
                )
                if self.calibration_store is not None:
                    # The last calibration, even of an earlier state of the index: its term
                    # vectors and match levels stay close until the next ingest recomputes them.
                    self.calibration = self.calibration_store.load()
                    self.terms.use(self.calibration_store.load_terms())
            return self._state

    def _current_chunks(self, manifest: Mapping[str, Mapping[str, Any]]) -> list[Chunk]:
        """The indexed chunks. After a change only the chunks of documents whose manifest
        record changed are read: every write of a document rewrites its record, which holds a
        digest of its chunk hashes."""
        if self._state is None or not self._state.manifest:
            return self.store.all_chunks()
        before = self._state.manifest
        changed = {d for d, record in manifest.items() if before.get(d) != record}
        keep = [c for c in self._state.chunks if c.doc_id in manifest and c.doc_id not in changed]
        return keep + self.store.chunks_of(sorted(changed))

    # -- search --------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Passage]:
        query = query.strip()
        if not query:
            return []
        state = self.lexical()
        if not state.chunks:
            return []
        language = detect_language(query)
        filters, region_mask, mask = chunk_mask(state.chunks, state.regions, filters)
        translations = self.translations(state, query, language)
        matches = self.terms.match(state.token, query, language)  # calibrated term tables
        gains: dict[str, float] = {}
        if self.retriever == "default":  # the document prior (retrieval.documents)
            if state.router is None:
                tokens_of, manifest = self.chunk_tokens, state.manifest
                state.router = DocumentRouter(state.chunks, tokens_of, manifest, self.tokenizer)
            gains = state.router.gains(query)
        named = routed(gains)
        lists = self._lexical_lists(state, query, language, mask, translations, matches, named)
        dense_weight = 1.0 - self.lexical_weight.get(language, 0.5)
        dense_specs = [(s, e) for s, e in self.embedders if s.covers(language)]
        where = to_chroma_where(filters) if filters else None
        # Unlike BM25, a dense search adds no chunks of a named document missing from its
        # candidates: a Chroma query scoped to one document changed no rank on any development
        # set and cost about 90 ms a question at 100k chunks (docs/performance.md).
        dense_hits = [
            (
                spec,
                top_per_language(
                    self.store.query(
                        spec,
                        self._query_vector(spec, embeddings, query),
                        self.candidates * DENSE_DEPTH,
                        where,
                    ),
                    state.chunk_language,
                    self.candidates,
                    language,
                ),
            )
            for spec, embeddings in dense_specs
        ]
        if region_mask is not None:  # regions are derived, not Chroma metadata: filter here
            allowed = {state.chunks[i].id for i in np.flatnonzero(region_mask)}
            dense_hits = [(s, [(cid, v) for cid, v in h if cid in allowed]) for s, h in dense_hits]
        shares = dense_shares(
            [s for s, _ in dense_specs], language, multilingual_share(self.calibration, language)
        )
        for spec, hits in dense_hits:
            lists.append(
                RankedList(
                    name=f"dense:{spec.slug}",
                    scores=dict(hits),
                    weight=dense_weight,
                    judges=spec.covers,
                    normalize="max",
                    shares=shares[spec],
                    scale_group="dense",
                )
            )
        if self.retriever == "default":  # page heads (retrieval.pages)
            found = dict(dense_hits)
            vectors = [
                (s, self._query_vector(s, e, query), shares[s], found.get(s, []))
                for s, e in dense_specs
            ]
            scope = (state.page_view, filters, mask, named)
            pages = page_lists(self.store, vectors, *scope, dense_weight * PAGE_SHARE)
            lists = with_page_share(lists + pages)
        fused = self._fuse(state, query, language, lists, dense_hits)
        fused = lift(fused, state.chunks, state.position, gains)
        fused = self._adjust(state, query, language, fused)[:k]
        missing = [f.chunk_id for f in fused if f.chunk_id not in state.position]
        extra = self.store.get_chunks(missing) if missing else {}
        passages = []
        for rank, item in enumerate(fused, start=1):
            chunk = (
                state.chunks[state.position[item.chunk_id]]
                if item.chunk_id in state.position
                else extra.get(item.chunk_id)
            )
            if chunk is None:
                continue
            raw = {lst.name: lst.scores.get(item.chunk_id) for lst in lists}
            dense_values = [v for name, v in raw.items() if name.startswith("dense") and v]
            passages.append(
                Passage(
                    chunk=chunk,
                    score=round(item.score, 6),
                    rank=rank,
                    lexical_score=raw.get("lexical"),
                    dense_score=max(dense_values) if dense_values else None,
                    sources=tuple(name for name, value in item.parts.items() if value > 0),
                )
            )
        return passages

    def _fuse(
        self,
        state: _LexicalState,
        query: str,
        language: str,
        lists: list[RankedList],
        dense_hits: Sequence[tuple[EmbedderSpec, list[tuple[str, float]]]],
    ) -> list[Fused]:
        """The default fusion (`weighing.fuse_lists`), or one retriever alone. A question that
        asks for the other language's wording, or names an area whose sheet is wanted in either
        language, keeps the language prior `_adjust` applies."""
        wanted = requested_language(query)
        keep_prior = bool((wanted and wanted != language) or self.domain.areas_in(query))
        return fuse_lists(
            self.retriever,
            lists,
            dense_hits,
            state.chunk_language,
            language,
            self.calibration,
            self.missing_factor if keep_prior else None,
        )

    def translations(self, state: _LexicalState, query: str, language: str) -> list[str]:
        """Other-language search terms: lexicon pairs, then romanised Korean proper nouns
        ('새만금' <-> 'Saemangeum') that the index actually contains."""
        if language == "mixed":
            return []
        key = (state.token, query, language)
        cached = self._translations.get(key)
        if cached is not None:
            return list(cached)  # an answer searches the same question up to three times
        terms = flattened(self._translation_groups(state, query))
        if language == "ko":
            for token in self.tokenizer.tokenize(query):
                latin = romanize(token) if len(token) >= 2 else ""
                stems = self.tokenizer.tokenize(latin) if latin else []
                if len(stems) == 1 and stems[0] in state.latin_vocabulary:
                    terms.append(latin)
        else:
            for word in re.findall(r"[A-Za-z][A-Za-z\-]{3,}", query):
                hangul = state.romanized.get(word.lower().replace("-", ""))
                if hangul:
                    terms.append(hangul)
        found = tuple(dict.fromkeys(terms))
        self._translations.put(key, found)
        return list(found)

    def _translation_groups(self, state: _LexicalState, query: str) -> tuple[tuple[str, ...], ...]:
        """The lexicon's other-language terms for the question, grouped by the word they
        translate (`Lexicon.translate_groups`); the searches and the answer share them."""
        key = (state.token, query)
        cached = self._groups.get(key)
        if cached is None:
            groups = state.lexicon.translate_groups(query, self.tokenizer.boundaries)
            cached = tuple(tuple(group) for group in groups)
            self._groups.put(key, cached)
        return cached

    def _adjust(
        self, state: _LexicalState, query: str, language: str, fused: list[Fused]
    ) -> list[Fused]:
        """The priors of what the question says: the language it asks for, the region it names
        (`priors.adjust`)."""

        def facts(chunk_id: str) -> tuple[str, frozenset[str]] | None:
            index = state.position.get(chunk_id)
            return None if index is None else (state.chunks[index].language, state.regions[index])

        wanted = requested_language(query)
        named = set(self.domain.areas_in(query))
        return adjust(fused, language, wanted, named, facts, self.missing_factor)

    def _lexical_lists(
        self,
        state: _LexicalState,
        query: str,
        language: str,
        mask: np.ndarray | None,
        translations: Sequence[str] = (),
        matches: Sequence[TermMatch] = (),
        named: Sequence[str] = (),
    ) -> list[RankedList]:
        """BM25 on the question's own words; with translations, a second list that scores the
        other language's chunks on the translated terms, at a lower weight (a translation is
        weaker evidence than the question's own words). A document the question names
        (`named`, from the document prior) that has no chunk among the candidates gets its
        best chunks in: among 25 filings the pages of the one asked about often miss the top
        of all of them on words every filing uses."""
        weight = self.lexical_weight.get(language, 0.5)
        own_tokens = self.tokenizer.tokenize(query)
        own_tokens += [
            form for form in self.tokenizer.capitalised_forms(query) if state.index.contains(form)
        ]
        own = state.index.scores(own_tokens)
        own_mask = mask
        lists = []
        if (translations or matches) and language != "mixed" and len(own):
            # The other language's chunks are judged on the translated terms only; a term found
            # by similarity counts for as much as it is similar.
            other_side = ~state.languages[language] & ~state.languages["mixed"]
            tokens = self.tokenizer.tokenize(" ".join(translations))
            given = set(tokens)
            extra = [m for m in matches if m.token not in given]
            weights = [1.0] * len(tokens) + [m.similarity for m in extra]
            tokens += [m.token for m in extra]
            translated = state.index.scores(tokens, weights)
            own_mask = ~other_side if mask is None else mask & ~other_side
            lists.append(
                RankedList(
                    name="lexical:translated",
                    scores=self._top(
                        state, translated, other_side if mask is None else mask & other_side
                    ),
                    # BM25 on Korean text (Kiwi morphemes) is worth more than on English: an
                    # English question's terms searched in Korean chunks weigh what a Korean
                    # question's own words would there. Never less than the question's own.
                    weight=max(weight, self.lexical_weight.get(other_language(language), 0.5))
                    * translated_weight(self.calibration, language),
                    judges=lambda chunk_language: chunk_language not in (language, "mixed"),
                    normalize="max",
                    bound=state.index.max_score(tokens, weights),
                )
            )

        def judges(chunk_language: str) -> bool:
            # BM25 can only match a chunk that shares the question's script.
            return language == "mixed" or chunk_language in (language, "mixed")

        own_top = self._top(state, own, own_mask)
        focus = self._routed_mask(state, absent(named, own_top, state), own_mask)
        if focus is not None:
            own_top.update(self._top(state, own, focus))
        # The best match counts as a full match only if it reaches a tenth of what the
        # question's terms could score: a best match on stray words (an English question's
        # Latin tokens in Korean pages) is not a strong lexical signal.
        bound = state.index.max_score(own_tokens)
        floor = LEXICAL_SCALE_FLOOR * bound
        lists.insert(
            0,
            RankedList(
                name="lexical",
                scores=own_top,
                weight=weight,
                judges=judges,
                normalize="max",
                scale=max(max(own_top.values(), default=0.0), floor) or None,
                bound=bound,
            ),
        )
        return lists

    def _routed_mask(
        self, state: _LexicalState, documents: Sequence[str], mask: np.ndarray | None
    ) -> np.ndarray | None:
        """The chunks of `documents` (within `mask`), or None when there are none."""
        if not documents:
            return None
        codes, per_chunk = state.document_codes
        focus = np.isin(per_chunk, [codes[d] for d in documents if d in codes])
        return focus if mask is None else focus & mask

    def _top(
        self, state: _LexicalState, scores: np.ndarray, mask: np.ndarray | None
    ) -> dict[str, float]:
        if not len(scores):
            return {}
        best = top_k(scores, self.candidates, mask)
        return {state.chunks[i].id: float(scores[i]) for i in best}
