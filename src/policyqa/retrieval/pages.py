"""Page heads in the fusion: each dense embedder also ranks pages by their heads
(`index.pages`), and a page's similarity is spread to that page's chunks as one more ranked
list, so that a chunk on the page whose head matches the question rises with it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from policyqa.core.models import Chunk
from policyqa.core.tuning import PAGE_CANDIDATES, PAGE_SHARE
from policyqa.index.embed import EmbedderSpec
from policyqa.index.pages import HEAD_KEYS, query_heads, wants_heads
from policyqa.index.store import Store
from policyqa.retrieval.filters import Filters, to_chroma_where, within_documents
from policyqa.retrieval.fusion import RankedList

PageHits = Sequence[tuple[str, int, float]]  # (doc id, page, similarity), best first
ChunkHits = Sequence[tuple[str, float]]  # (chunk id, similarity) of a dense chunk search


def page_positions(chunks: Sequence[Chunk]) -> dict[tuple[str, int], list[int]]:
    """(doc id, page) -> positions of that page's chunks."""
    out: dict[tuple[str, int], list[int]] = {}
    for i, chunk in enumerate(chunks):
        out.setdefault((chunk.doc_id, chunk.page), []).append(i)
    return out


def short_documents(manifest: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    """The documents the indexer makes no page heads for (`index.pages.wants_heads`)."""
    return frozenset(d for d, r in manifest.items() if not wants_heads(int(r.get("pages", 0))))


def head_where(filters: Filters | None) -> dict[str, Any] | None:
    """The Chroma clause for a head search: the filters when heads carry every key they name;
    otherwise none (the chunks a page's score is spread to are filtered instead)."""
    if not filters or not set(filters) <= HEAD_KEYS:
        return None
    return to_chroma_where(filters)


def spread(
    hits: PageHits,
    positions: Mapping[tuple[str, int], Sequence[int]],
    chunks: Sequence[Chunk],
    allowed: np.ndarray | None = None,
) -> dict[str, float]:
    """Chunk id -> its page's similarity, for the chunks of the pages hit (those `allowed`)."""
    out: dict[str, float] = {}
    for doc_id, page, score in hits:
        for i in positions.get((doc_id, page), ()):
            if allowed is None or allowed[i]:
                out[chunks[i].id] = max(score, out.get(chunks[i].id, score))
    return out


def page_list(
    name: str,
    scores: Mapping[str, float],
    weight: float,
    judges: Callable[[str], bool],
    shares: Mapping[str, float],
) -> RankedList:
    """A page-head list: normalised by the best head of any embedder (one scale, as the dense
    lists share theirs)."""
    return RankedList(
        name=name,
        scores=scores,
        weight=weight,
        judges=judges,
        normalize="max",
        shares=shares,
        scale_group="page",
    )


def weighs(
    spec: EmbedderSpec, shares: Mapping[str, float], languages: Mapping[str, np.ndarray]
) -> bool:
    """Whether an embedder's lists carry weight on any chunk language the index holds
    (`languages`: per language, which chunks are in it): a head search for a list of no weight
    would only cost time."""
    return any(
        spec.covers(lang) and shares.get(lang, 1.0) > 0 and bool(held.any())
        for lang, held in languages.items()
    )


@dataclass(frozen=True)
class PageView:
    """What spreading page scores needs of one state of the index."""

    positions: Mapping[tuple[str, int], Sequence[int]]  # (doc id, page) -> chunk positions
    chunks: Sequence[Chunk]
    headless: Collection[str]  # chunk ids of documents too short for heads (`wants_heads`)
    languages: Mapping[str, np.ndarray]  # per chunk language, which positions are in it

    @classmethod
    def of(
        cls,
        chunks: Sequence[Chunk],
        manifest: Mapping[str, Mapping[str, Any]],
        languages: Mapping[str, np.ndarray],
    ) -> PageView:
        short = short_documents(manifest)
        headless = frozenset(c.id for c in chunks if c.doc_id in short)
        return cls(page_positions(chunks), chunks, headless, languages)


def page_lists(
    store: Store,
    queries: Sequence[tuple[EmbedderSpec, list[float], Mapping[str, float], ChunkHits]],
    view: PageView,
    filters: Filters | None,
    allowed: np.ndarray | None,
    routed: Sequence[str],
    weight: float,
) -> list[RankedList]:
    """Per (embedder, its query vector, its dense shares, its chunk hits) whose lists weigh on
    the index (`weighs`): the nearest page heads, and those of the `routed` documents (the
    question's own: their pages may be far down a search of all), spread to the pages' chunks
    that pass the filters. A chunk of a document without heads (too short for them) keeps its
    own similarity here: its page is judged by the chunk, not left at zero beside pages that
    have a head. No head found (an index without heads, a filter no head passes): no list."""
    where = head_where(filters)
    scoped = within_documents(where, routed) if routed else None
    out = []
    for spec, vector, shares, chunk_hits in queries:
        if not weighs(spec, shares, view.languages):
            continue
        hits = list(query_heads(store, spec, vector, PAGE_CANDIDATES, where))
        if not hits:
            continue
        if scoped is not None:
            hits += query_heads(store, spec, vector, PAGE_CANDIDATES, scoped)
        scores = spread(hits, view.positions, view.chunks, allowed)
        for chunk_id, similarity in chunk_hits:
            if chunk_id in view.headless and chunk_id not in scores:
                scores[chunk_id] = similarity
        if scores:
            out.append(page_list(f"page:{spec.slug}", scores, weight, spec.covers, shares))
    return out


def with_page_share(lists: Sequence[RankedList], share: float = PAGE_SHARE) -> list[RankedList]:
    """Where page lists are present they carry `share` of the dense weight (they were made
    with it), and the chunk dense lists the rest: the lexical side keeps its weight."""
    if not any(x.name.startswith("page:") for x in lists):
        return list(lists)
    return [
        replace(x, weight=x.weight * (1.0 - share)) if x.name.startswith("dense:") else x
        for x in lists
    ]
