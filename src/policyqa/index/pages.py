"""Page heads: the opening text of each page, embedded as one more dense list.

A page's head (its first `PAGE_HEAD_CHARS` characters, whitespace collapsed) says what the page
is: a statement's title and first rows, a section's heading and opening paragraph. A chunk's
embedding sees only its own span, with a section path that may be stale (carried over from an
earlier page); the head sees the page as a reader first does. Searches score pages by their
head and spread a page's score to its chunks (`retrieval.pages`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policyqa.core.models import Chunk, Document
from policyqa.core.tuning import PAGE_HEAD_CHARS, PAGE_HEADS_MIN_PAGES
from policyqa.index.embed import EmbedderSpec
from policyqa.index.store import Store


@dataclass(frozen=True)
class PageHead:
    doc_id: str
    title: str
    page: int
    page_label: str
    language: str
    text: str
    content_hash: str

    @property
    def id(self) -> str:
        return f"{self.doc_id}#p{self.page}"  # `query_heads` reads document and page from it

    def metadata(self) -> dict[str, str | int]:
        # The chunk metadata keys a head shares, so that document filters apply to it as well.
        shared: dict[str, str | int] = {key: getattr(self, key) for key in sorted(HEAD_KEYS)}
        return {**shared, "content_hash": self.content_hash}


# Chunk metadata keys a page head carries: a filter on any other key (a section) is applied to
# the chunks a page's score is spread to, not to the page search.
HEAD_KEYS = frozenset({"doc_id", "title", "page", "page_label", "language"})


def wants_heads(pages: int) -> bool:
    """Whether a document of `pages` pages gets page heads: in one of a few pages a page's head
    tells little its chunks do not, and a score spread to all of a short page's chunks blurs
    which of them answers."""
    return pages >= PAGE_HEADS_MIN_PAGES


def head_text(text: str, chars: int = PAGE_HEAD_CHARS) -> str:
    return " ".join(text.split())[:chars]


def page_heads(doc: Document, chunks: Sequence[Chunk]) -> list[PageHead]:
    """One head per page that has chunks, in the language most of its chunks are in."""
    languages: dict[int, Counter[str]] = {}
    titles: dict[int, str] = {}
    for chunk in chunks:
        languages.setdefault(chunk.page, Counter())[chunk.language] += 1
        titles.setdefault(chunk.page, chunk.title)
    heads = []
    for page in doc.pages:
        if page.page not in languages:
            continue
        text = head_text(page.text)
        if not text:
            continue
        heads.append(
            PageHead(
                doc_id=doc.doc_id,
                title=titles[page.page],
                page=page.page,
                page_label=page.page_label,
                language=languages[page.page].most_common(1)[0][0],
                text=text,
                content_hash=hashlib.sha256(f"head\n{text}".encode()).hexdigest()[:32],
            )
        )
    return heads


# -- reading and writing a store's heads (`Store.pages(spec)`, one collection per embedder) ----

_BATCH = 1000  # rows per Chroma write: below any server's maximum batch


def stored_heads(store: Store, spec: EmbedderSpec, doc_id: str) -> dict[str, str]:
    """Head id -> content hash of a document's stored heads."""
    got = store.pages(spec).get(where={"doc_id": doc_id}, include=["metadatas"])
    return {
        pid: str((meta or {}).get("content_hash", ""))
        for pid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
    }


def write_heads(
    store: Store,
    spec: EmbedderSpec,
    heads: Sequence[PageHead],
    vectors: Mapping[str, list[float]],
    existing: Mapping[str, str],
) -> None:
    """Upsert the heads given vectors (by head id); drop the document's heads no longer cut."""
    collection = store.pages(spec)
    fresh = [h for h in heads if h.id in vectors]
    for start in range(0, len(fresh), _BATCH):
        batch = fresh[start : start + _BATCH]
        collection.upsert(
            ids=[h.id for h in batch],
            embeddings=[vectors[h.id] for h in batch],
            documents=[h.text for h in batch],
            metadatas=[h.metadata() for h in batch],
        )
    keep = {h.id for h in heads}
    stale = [pid for pid in existing if pid not in keep]
    for start in range(0, len(stale), _BATCH):
        collection.delete(ids=stale[start : start + _BATCH])


def query_heads(
    store: Store, spec: EmbedderSpec, vector: list[float], n: int, where: dict[str, Any] | None
) -> list[tuple[str, int, float]]:
    """(doc id, page, cosine similarity) of the nearest heads, best first; none for an index
    built before heads were."""
    collection = store.pages(spec)
    include = ["distances"]  # the id names document and page: no metadata to read
    try:  # counting first would scan the collection on every query (`Store.query`)
        got = collection.query(
            query_embeddings=[vector], n_results=n, where=where or None, include=include
        )
    except Exception:
        total = collection.count()  # a Chroma that insists on n <= count
        if total == 0:
            return []
        got = collection.query(
            query_embeddings=[vector], n_results=min(n, total), where=where or None, include=include
        )
    out = []
    for head_id, distance in zip(got["ids"][0], got["distances"][0], strict=True):
        doc_id, _, page = str(head_id).rpartition("#p")
        if doc_id and page.isdigit():
            out.append((doc_id, int(page), 1.0 - float(distance)))
    return out
