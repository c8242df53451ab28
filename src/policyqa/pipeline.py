"""Wiring: settings in, the store, indexer and searcher out. Cheap to build; models load lazily."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from policyqa.answering.answer import Answer
from policyqa.answering.assistant import Assistant
from policyqa.answering.brief import Brief
from policyqa.answering.composers import Composer, ExtractiveComposer, LLMComposer
from policyqa.answering.condense import Turn
from policyqa.answering.verify import SupportChecker
from policyqa.core.models import Document, Filters, IngestReport, Passage
from policyqa.core.settings import Settings
from policyqa.domain import DomainPack, load_domain
from policyqa.index.embed import EmbedderSpec, load_embeddings, parse_embedders
from policyqa.index.store import Store, make_client
from policyqa.ingest.indexer import Indexer, index_documents, ingest
from policyqa.ingest.pdfworker import PdfLimits
from policyqa.retrieval.calibration import Calibration
from policyqa.retrieval.calibration_store import CalibrationStore, refresh
from policyqa.retrieval.langchain import PolicyRetriever
from policyqa.retrieval.searcher import HybridSearcher

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from policyqa.llm.backends import LLMConfig


@dataclass
class Pipeline:
    settings: Settings
    # Tests inject fake embedders here; otherwise they come from the settings.
    embedder_overrides: dict[str, Embeddings] = field(default_factory=dict)
    client: ClientAPI | None = None
    # Tests inject a LangChain chat model here; otherwise one comes from the LLM settings.
    chat_model: BaseChatModel | None = None

    @cached_property
    def domain(self) -> DomainPack:
        return load_domain(self.settings.domain)

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
        # Chunk analyses include the domain's areas: one cache file per domain pack.
        name = f"{self.settings.collection}-{self.domain.name}.jsonl"
        return HybridSearcher(
            self.store,
            self.embedders,
            cache_path=self.settings.home / "lexical" / name,
            candidates=self.settings.candidates,
            domain=self.domain,
            calibration_store=self.calibration_store,
        )

    @property
    def calibration_store(self) -> CalibrationStore:
        return CalibrationStore(self.settings.home / "calibration" / self.settings.collection)

    def calibrate(self, force: bool = False) -> Calibration | None:
        """Measure the index as it now is (`calibration_store.refresh`): after an ingest changed
        it, the term tables are brought up to date and the match levels measured again. None
        for an empty index or without an embedder that covers every language."""
        searcher = self.searcher
        searcher.invalidate()
        if not self.store.count_chunks() or searcher.multilingual_encoder() is None:
            return None
        return refresh(searcher, self.calibration_store, force=force)

    def retriever(self, k: int | None = None, filters: Filters | None = None) -> PolicyRetriever:
        return PolicyRetriever(searcher=self.searcher, k=k or self.settings.top_k, filters=filters)

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        prune: bool = False,
        show_progress: bool = False,
        **staging: Any,
    ) -> IngestReport:
        """`staging`: `staged` and `locked` of `ingest.ingest` (the app's uploads). The index is
        calibrated again when the ingest changed it (`calibrate`)."""
        if not paths and not staging.get("staged"):
            paths = [self.settings.corpus]
        report = ingest(
            list(paths or []),
            self.indexer,
            home=self.settings.home,
            exclude=[p.strip() for p in self.settings.exclude.split(",") if p.strip()],
            max_bytes=int(self.settings.max_file_mb * 1_000_000),
            prune=prune,
            show_progress=show_progress,
            pdf_limits=PdfLimits(
                self.settings.pdf_memory_mb,
                self.settings.pdf_decompressed_mb,
                self.settings.pdf_seconds,
            ),
            **staging,
        )
        self.calibrate()
        return report

    def index_documents(self, docs: Sequence[Document]) -> IngestReport:
        self.store.check_compatible()
        report = index_documents(docs, self.indexer)
        self.calibrate()
        return report

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None
    ) -> list[Passage]:
        return list(self.searcher.search(query, k or self.settings.top_k, filters))

    @property
    def llm_config(self) -> LLMConfig:
        from policyqa.llm.backends import LLMConfig

        s = self.settings
        return LLMConfig(
            url=s.llm_url,
            model=s.llm_model,
            api_key=s.llm_api_key,
            gguf=s.llm_gguf,
            max_tokens=s.llm_max_tokens,
        )

    @cached_property
    def assistant(self) -> Assistant:
        composer: Composer = ExtractiveComposer()
        chat_model = self.chat_model
        if chat_model is None and self.llm_config.enabled:
            from policyqa.llm.backends import describe, make_chat_model

            chat_model = make_chat_model(self.llm_config)
            composer = LLMComposer(chat_model, name=describe(self.llm_config))
        elif chat_model is not None:
            composer = LLMComposer(chat_model, name=type(chat_model).__name__)
        return Assistant(
            self.searcher,
            composer,
            checker=SupportChecker(self.searcher.tokenizer.tokenize, similarity=self._similarity),
            k=self.settings.answer_passages,
            min_support=self.settings.min_support,
            max_sentences=self.settings.max_sentences,
            domain=self.domain,
        )

    def _similarity(self, sentence: str, candidates: Sequence[str]) -> list[float]:
        """Cosine similarity with the multilingual embedder: supports a sentence written in one
        language by a passage in the other, where word overlap cannot."""
        import numpy as np

        embeddings = self.embedders[0][1]
        vectors = np.asarray(embeddings.embed_documents([sentence, *candidates]), dtype=float)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        return [float(v) for v in vectors[1:] @ vectors[0]]

    def brief(self, answer: Answer, base_url: str = "") -> str:
        """A Markdown briefing; with an LLM answerer its summary is written (and verified) too."""
        from policyqa.answering.brief import brief_markdown

        return brief_markdown(self.brief_document(answer, base_url))

    def brief_document(self, answer: Answer, base_url: str = "") -> Brief:
        """The briefing as a structure (for Markdown and .docx alike); `base_url` makes its
        page links absolute."""
        from policyqa.answering.brief import build_brief, llm_summary

        composer = self.assistant.composer
        summary = ""
        if isinstance(composer, LLMComposer):
            summary = llm_summary(answer, composer.chat_model, self.assistant.checker)
        return build_brief(answer, summary_text=summary, base_url=base_url)

    def answerer_name(self) -> str:
        if self.chat_model is not None:
            return type(self.chat_model).__name__
        from policyqa.llm.backends import describe

        return describe(self.llm_config)

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        briefing: bool = False,
    ) -> Answer:
        sentences = self.settings.max_sentences * (2 if briefing else 1)
        return self.assistant.ask(question, history, filters, max_sentences=sentences)
