"""Filters on chunk metadata and on the domain areas chunks name, as masks and Chroma clauses."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from policyqa.core.models import Chunk, FilterValue
from policyqa.core.models import Filters as Filters  # where retrieval and the app import it

# `region=g`: chunks that name area g or no area at all (the nationwide measures);
# `region=nationwide`: chunks naming no area; `names_region=g`: chunks that name g.
REGION_KEYS = ("region", "names_region")
NATIONWIDE = "nationwide"


def region_filters(
    areas: Sequence[frozenset[str]], filters: Filters | None
) -> tuple[Filters | None, np.ndarray | None]:
    """Split off the region filters. `region=g`: chunks that name g or no region at all (the
    nationwide measures); `region=nationwide`: chunks naming no region; `names_region=g`:
    chunks that name g. A list means any of them."""
    if not filters or not any(k in filters for k in REGION_KEYS):
        return filters, None
    rest = {k: v for k, v in filters.items() if k not in REGION_KEYS}
    mask = np.ones(len(areas), dtype=bool)
    for key in REGION_KEYS:
        if key not in filters:
            continue
        wanted = filters[key]
        groups = set(wanted) if isinstance(wanted, (list, tuple, set)) else {wanted}
        groups = {str(g) for g in groups}
        if key == "region":
            mask &= np.array([not named or bool(named & groups) for named in areas])
        else:
            mask &= np.array([bool(named & groups) for named in areas])
    return (rest or None), mask


def chunk_mask(
    chunks: Sequence[Chunk], areas: Sequence[frozenset[str]], filters: Filters | None
) -> tuple[Filters | None, np.ndarray | None, np.ndarray | None]:
    """The metadata filters without the region ones, the region mask, and the mask of the
    chunks that pass both (None: no such filter)."""
    rest, region_mask = region_filters(areas, filters)
    mask = filter_mask(chunks, rest) if rest else None
    if region_mask is not None:
        mask = region_mask if mask is None else mask & region_mask
    return rest, region_mask, mask


def filter_mask(chunks: Sequence[Chunk], filters: Filters) -> np.ndarray:
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


def within_documents(where: dict[str, Any] | None, documents: Sequence[str]) -> dict[str, Any]:
    """A Chroma `where` that keeps what `where` keeps, in `documents` only."""
    clause: dict[str, Any] = {"doc_id": {"$in": list(documents)}}
    return clause if where is None else {"$and": [where, clause]}


def is_metadata_key(key: object) -> bool:
    """A plain metadata name; never a Chroma operator such as "$and"."""
    return isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) is not None


def parse_filters(
    items: Sequence[str], areas: Collection[str] = ()
) -> dict[str, FilterValue | list[FilterValue]]:
    """`key=value` pairs; repeated keys or `a|b` give a list; digits become integers. A region
    filter must name one of `areas` (the domain pack's) or "nationwide"."""
    filters: dict[str, FilterValue | list[FilterValue]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"filter {item!r} is not key=value")
        if not is_metadata_key(key):
            raise ValueError(f"filter key {key!r} is not a metadata field")
        values: list[FilterValue] = [_typed(v.strip()) for v in value.split("|")]
        known = {*areas, NATIONWIDE}
        if key in REGION_KEYS and any(v not in known for v in values):
            raise ValueError(f"unknown region in {item!r}; use one of: {', '.join(sorted(known))}")
        previous = filters.get(key)
        if previous is not None:
            values = (previous if isinstance(previous, list) else [previous]) + values
        filters[key] = values if len(values) > 1 else values[0]
    return filters


def _typed(value: str) -> str | int:
    return int(value) if value.isdigit() else value
