"""What the answering stage may ask of retrieval: the `Searcher` protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings

from policyqa.core.models import Chunk, Filters, Passage


@runtime_checkable
class Searcher(Protocol):
    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Passage]:
        """The k best passages for `query` among the chunks the filters allow."""
        ...

    def tokenize(self, text: str) -> list[str]:
        """The lexical index's tokens of `text` (morphemes, stems)."""
        ...

    def chunk_tokens(self, chunk: Chunk) -> list[str]:
        """The tokens of an indexed chunk (with its title and section), as the index holds them."""
        ...

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each token in the indexed chunks."""
        ...

    def knows(self, token: str) -> bool:
        """Whether any indexed chunk holds `token`."""
        ...

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """The chunk `step` places after (or before) `chunk` on the same page."""
        ...

    def translation_groups(self, text: str) -> tuple[tuple[str, ...], ...]:
        """Other-language terms for the words of `text`, grouped by the word they translate."""
        ...

    def documents(self, filters: Filters | None = None) -> list[str]:
        """The ids of the indexed documents the filters allow."""
        ...

    def title(self, doc_id: str) -> str:
        """A document's title (its id when it has none)."""
        ...

    def multilingual_encoder(self) -> Embeddings | None:
        """An embedder that places Korean and English text in one space, if there is one."""
        ...
