"""Wiring: settings in, the store, indexer and searcher out. Cheap to build; models load lazily."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from .embed import EmbedderSpec, load_embeddings, parse_embedders
from .ingest import Indexer, index_documents, ingest
from .models import Document, IngestReport, Passage
from .retrieve import HybridSearcher, PolicyRetriever
from .settings import Settings
from .store import Store, make_client


@dataclass
class Pipeline:
    settings: Settings
    # Tests inject fake embedders here; otherwise they come from the settings.
    embedder_overrides: dict[str, Embeddings] = field(default_factory=dict)
    client: Any = None

    @cached_property
    def specs(self) -> list[EmbedderSpec]:
        return list(parse_embedders(self.settings.embedder))

    @cached_property
    def embedders(self) -> list[tuple[EmbedderSpec, Embeddings]]:
        return [
            (spec, self.embedder_overrides.get(spec.name) or load_embeddings(spec))
            for spec in self.specs
        ]

    @cached_property
    def store(self) -> Store:
        client = self.client or make_client(self.settings.home, self.settings.chroma_url)
        return Store(client, self.settings.collection, self.specs)

    @cached_property
    def indexer(self) -> Indexer:
        return Indexer(
            self.store,
            self.embedders,
            chunk_words=self.settings.chunk_words,
            chunk_overlap=self.settings.chunk_overlap,
            batch_size=self.settings.batch_size,
        )

    @cached_property
    def searcher(self) -> HybridSearcher:
        self.store.check_compatible()
        cache = self.settings.home / "lexical" / f"{self.settings.collection}.pkl"
        return HybridSearcher(
            self.store, self.embedders, cache_path=cache, candidates=self.settings.candidates
        )

    def retriever(
        self, k: int | None = None, filters: dict[str, Any] | None = None
    ) -> PolicyRetriever:
        return PolicyRetriever(searcher=self.searcher, k=k or self.settings.top_k, filters=filters)

    def ingest(
        self, paths: Sequence[Path] | None = None, prune: bool = False, show_progress: bool = False
    ) -> IngestReport:
        return ingest(
            list(paths or [self.settings.corpus]),
            self.indexer,
            home=self.settings.home,
            exclude=[p.strip() for p in self.settings.exclude.split(",") if p.strip()],
            max_bytes=int(self.settings.max_file_mb * 1_000_000),
            prune=prune,
            show_progress=show_progress,
        )

    def index_documents(self, docs: Sequence[Document]) -> IngestReport:
        self.store.check_compatible()
        return index_documents(docs, self.indexer)

    def search(
        self, query: str, k: int | None = None, filters: dict[str, Any] | None = None
    ) -> list[Passage]:
        return list(self.searcher.search(query, k or self.settings.top_k, filters))
