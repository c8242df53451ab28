"""Score fusion for hybrid retrieval: plain functions, no models.

Why not equal-weight RRF: it throws away how far ahead a retriever's top result is, so a strong
lexical match on Korean text loses to a mediocre dense neighbour. Here each retriever's scores
are normalised per query and combined as a weighted mean in which a retriever only votes on
chunks it can judge: BM25 cannot judge a Korean chunk for an English question, and an English-only
embedder cannot judge a Korean chunk. Missing evidence is not counted as zero (that would bury
every cross-language passage): such a chunk scores the weighted mean of the evidence that exists,
times `missing_factor`, a prior that a passage in the question's own language is likelier to be
the one asked about.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from policyqa.core.tuning import MISSING_FACTOR as MISSING_FACTOR


@dataclass(frozen=True)
class RankedList:
    name: str
    scores: Mapping[str, float]  # chunk id -> raw score, for the retriever's top candidates
    weight: float
    judges: Callable[[str], bool]  # whether this retriever can judge a chunk (by chunk language)
    # "max": score / best, negatives clipped to 0. Keeps how far below the best a candidate is
    # (min-max over a top-N list would stretch small dense differences into large ones).
    normalize: str = "max"
    # With "max": divide by this instead of the list's own best. Dense lists share one scale
    # (the best cosine of any of them) so a short list of poor matches does not reach 1.0.
    scale: float | None = None


@dataclass(frozen=True)
class Fused:
    chunk_id: str
    score: float
    parts: Mapping[str, float]  # normalised score per retriever that judged the chunk


def normalise(
    scores: Mapping[str, float], method: str, scale: float | None = None
) -> dict[str, float]:
    if not scores:
        return {}
    values = list(scores.values())
    top = max(values) if scale is None else scale
    if method == "max":
        if top <= 0:
            return {cid: 0.0 for cid in scores}
        return {cid: min(1.0, max(0.0, s) / top) for cid, s in scores.items()}
    low = min(values)
    if top - low <= 1e-12:
        return {cid: 1.0 for cid in scores}
    return {cid: (s - low) / (top - low) for cid, s in scores.items()}


@dataclass(frozen=True)
class _Plan:
    """For one chunk language: the lists that judge it (name, weight, normalised scores), their
    total weight, and whether any list could not judge it (its evidence is imputed)."""

    judging: list[tuple[str, float, Mapping[str, float]]]
    weight: float
    imputed: bool

    @classmethod
    def of(
        cls, lists: list[RankedList], normalised: Mapping[str, Mapping[str, float]], language: str
    ) -> _Plan:
        judging = [(x.name, x.weight, normalised[x.name]) for x in lists if x.judges(language)]
        return cls(judging, float(sum(w for _, w, _ in judging)), len(judging) < len(lists))


def fuse(
    lists: list[RankedList],
    chunk_language: Mapping[str, str],
    missing_factor: float = MISSING_FACTOR,
) -> list[Fused]:
    """Weighted mean of normalised scores; retrievers that cannot judge a chunk are imputed."""
    normalised = {lst.name: normalise(lst.scores, lst.normalize, lst.scale) for lst in lists}
    candidates: set[str] = set()
    for lst in lists:
        candidates.update(cid for cid, s in lst.scores.items() if s > 0 or lst.normalize != "max")
    active = [lst for lst in lists if lst.weight > 0]
    plans: dict[str, _Plan] = {}  # per chunk language, made once
    fused: list[Fused] = []
    for cid in candidates:
        language = chunk_language.get(cid, "mixed")
        plan = plans.get(language)
        if plan is None:
            plan = plans[language] = _Plan.of(active, normalised, language)
        if plan.weight <= 0:
            continue
        judging = plan.judging
        parts = {name: scores.get(cid, 0.0) for name, _, scores in judging}
        score = sum(w * parts[name] for name, w, _ in judging) / plan.weight
        if plan.imputed:
            score *= missing_factor
        fused.append(Fused(cid, score, parts))
    fused.sort(key=lambda f: (-f.score, f.chunk_id))
    return fused


def top_per_language(
    hits: list[tuple[str, float]], chunk_language: Mapping[str, str], k: int, language: str
) -> list[tuple[str, float]]:
    """The first `k` hits, and the first `k` of each chunk language other than the question's
    `language`, best first. A multilingual embedder scores a question higher against passages
    in its own language, so a plain top k can hold no passage in the other language at all,
    though a BM25 search on the question's translated terms ranks one first."""
    taken: dict[str, int] = {}
    kept = []
    for rank, (cid, score) in enumerate(hits):
        hit_language = chunk_language.get(cid, "mixed")
        count = taken.get(hit_language, 0)
        if rank < k or (hit_language != language and count < k):
            taken[hit_language] = count + 1
            kept.append((cid, score))
    return kept


def reciprocal_rank_fusion(
    rankings: list[list[str]], weights: list[float] | None = None, k: int = 60
) -> list[tuple[str, float]]:
    """Classic RRF, kept as the baseline the benchmarks compare against."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
