"""Hybrid retrieval: dense (Chroma) + lexical (BM25 over Kiwi/English tokens), fused.

The lexical index is derived from what Chroma holds, rebuilt when the store's state token
changes; tokens are cached on disk by content hash so a rebuild only analyses new text.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .embed import EmbedderSpec
from .fusion import MISSING_FACTOR, RankedList, fuse
from .lexical import LexicalIndex, Tokenizer
from .load import detect_language
from .models import Chunk, Passage
from .store import Store

log = logging.getLogger(__name__)

Filters = Mapping[str, Any]

# Lexical weight in the fused score, by question language. Korean: BM25 over morphemes is the
# strongest single retriever on Korean policy text. English: dense retrieval (MiniLM) is stronger
# than BM25 on real documents. Measured in README ("Retrieval quality").
LEXICAL_WEIGHT = {"ko": 0.6, "en": 0.35, "mixed": 0.5}
_REFRESH_SECONDS = 2.0


@dataclass
class _LexicalState:
    token: str
    index: LexicalIndex
    chunks: list[Chunk]
    position: dict[str, int]


class LexicalCache:
    """Tokens per content hash, kept on disk so restarts and rebuilds skip Kiwi."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._tokens: dict[str, list[str]] = {}
        if path is not None and path.exists():
            try:
                with path.open("rb") as handle:
                    loaded = pickle.load(handle)
                if isinstance(loaded, dict):
                    self._tokens = loaded
            except Exception as exc:  # a damaged cache only costs a re-tokenisation
                log.warning("ignoring unreadable lexical cache %s: %s", path, exc)

    def tokens_for(self, chunks: Sequence[Chunk], tokenizer: Tokenizer) -> list[list[str]]:
        missing = [c for c in chunks if c.content_hash not in self._tokens]
        if missing:
            for chunk, tokens in zip(
                missing, tokenizer.tokenize_many([c.context_text for c in missing]), strict=True
            ):
                self._tokens[chunk.content_hash] = tokens
            self._save({c.content_hash for c in chunks})
        return [self._tokens[c.content_hash] for c in chunks]

    def _save(self, live: set[str]) -> None:
        self._tokens = {h: t for h, t in self._tokens.items() if h in live}
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(self._tokens, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.path)


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
    ) -> None:
        self.store = store
        self.embedders = list(embedders)
        self.tokenizer = tokenizer or Tokenizer()
        self.cache = LexicalCache(cache_path)
        self.candidates = candidates
        self.lexical_weight = dict(lexical_weight or LEXICAL_WEIGHT)
        self.missing_factor = missing_factor
        self._state: _LexicalState | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    # -- lexical index, derived from Chroma ----------------------------------------------------
    def lexical(self) -> _LexicalState:
        with self._lock:
            now = time.monotonic()
            if self._state is not None and now - self._checked_at < _REFRESH_SECONDS:
                return self._state
            token = self.store.state_token()
            self._checked_at = now
            if self._state is None or self._state.token != token:
                chunks = self.store.all_chunks()
                tokens = self.cache.tokens_for(chunks, self.tokenizer)
                index = LexicalIndex([c.id for c in chunks], tokens)
                position = {c.id: i for i, c in enumerate(chunks)}
                self._state = _LexicalState(token, index, chunks, position)
            return self._state

    # -- search --------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Passage]:
        query = query.strip()
        if not query:
            return []
        state = self.lexical()
        if not state.chunks:
            return []
        language = detect_language(query)
        mask = _filter_mask(state.chunks, filters) if filters else None
        lists = [self._lexical_list(state, query, language, mask)]
        dense_weight = 1.0 - lists[0].weight
        dense_specs = [(s, e) for s, e in self.embedders if s.covers(language)]
        spec_weights = _dense_weights([s for s, _ in dense_specs], language)
        where = to_chroma_where(filters) if filters else None
        dense_hits = [
            (spec, self.store.query(spec, embeddings.embed_query(query), self.candidates, where))
            for spec, embeddings in dense_specs
        ]
        dense_scale = max((score for _, hits in dense_hits for _, score in hits), default=1.0)
        for spec, hits in dense_hits:
            lists.append(
                RankedList(
                    name=f"dense:{spec.slug}",
                    scores=dict(hits),
                    weight=dense_weight * spec_weights[spec],
                    judges=spec.covers,
                    normalize="max",
                    scale=dense_scale,
                )
            )
        chunk_language = {c.id: c.language for c in state.chunks}
        fused = fuse(lists, chunk_language, self.missing_factor)[:k]
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

    def _lexical_list(
        self, state: _LexicalState, query: str, language: str, mask: np.ndarray | None
    ) -> RankedList:
        scores = state.index.scores(self.tokenizer.tokenize(query))
        if mask is not None and len(scores):
            scores = np.where(mask, scores, 0.0)
        top: dict[str, float] = {}
        if len(scores):
            n = min(self.candidates, len(scores))
            best = np.argpartition(-scores, n - 1)[:n]
            top = {state.chunks[i].id: float(scores[i]) for i in best if scores[i] > 0}

        def judges(chunk_language: str) -> bool:
            # BM25 can only match a chunk that shares the question's script.
            return language == "mixed" or chunk_language in (language, "mixed")

        return RankedList(
            name="lexical",
            scores=top,
            weight=self.lexical_weight.get(language, 0.5),
            judges=judges,
            normalize="max",
        )


def _dense_weights(specs: Sequence[EmbedderSpec], language: str) -> dict[EmbedderSpec, float]:
    """Language-specific embedders get twice the share of multilingual ones for their language."""
    raw = {s: (2.0 if s.language == language else 1.0) for s in specs}
    total = sum(raw.values()) or 1.0
    return {s: w / total for s, w in raw.items()}


def _filter_mask(chunks: Sequence[Chunk], filters: Filters) -> np.ndarray:
    metas = [c.metadata() for c in chunks]
    mask = np.ones(len(chunks), dtype=bool)
    for key, wanted in filters.items():
        allowed = set(wanted) if isinstance(wanted, (list, tuple, set)) else {wanted}
        allowed_str = {str(v) for v in allowed}
        mask &= np.array([str(m.get(key)) in allowed_str for m in metas], dtype=bool)
    return mask


def to_chroma_where(filters: Filters) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    for key, wanted in filters.items():
        if isinstance(wanted, (list, tuple, set)):
            clauses.append({key: {"$in": list(wanted)}})
        else:
            clauses.append({key: wanted})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def parse_filters(items: Sequence[str]) -> dict[str, Any]:
    """`key=value` pairs; repeated keys or `a|b` give a list; digits become integers."""
    filters: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"filter {item!r} is not key=value")
        values = [_typed(v.strip()) for v in value.split("|")]
        previous = filters.get(key)
        if previous is not None:
            values = (previous if isinstance(previous, list) else [previous]) + values
        filters[key] = values if len(values) > 1 else values[0]
    return filters


def _typed(value: str) -> Any:
    return int(value) if value.isdigit() else value


class PolicyRetriever(BaseRetriever):
    """LangChain face of the hybrid searcher."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any
    k: int = 5
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [passage_to_document(p) for p in self.searcher.search(query, self.k, self.filters)]


def passage_to_document(passage: Passage) -> LCDocument:
    chunk = passage.chunk
    return LCDocument(
        page_content=chunk.text,
        id=chunk.id,
        metadata={
            **chunk.metadata(),
            "chunk_id": chunk.id,
            "score": passage.score,
            "rank": passage.rank,
            "retrievers": list(passage.sources),
        },
    )
