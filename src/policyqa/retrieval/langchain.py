"""LangChain face of the searcher: a `BaseRetriever` returning `Document`s with metadata."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from policyqa.core.models import Filters, Passage
from policyqa.retrieval.protocol import Searcher


class PolicyRetriever(BaseRetriever):
    """LangChain face of the hybrid searcher."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Searcher
    k: int = 5
    filters: Filters | None = None

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
