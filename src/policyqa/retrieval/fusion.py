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
from dataclasses import dataclass, field

from policyqa.core.language import other_language
from policyqa.core.tuning import DENSE_SHARE_OF_STRENGTH
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
    # For BM25 lists: the most a chunk could score for the question's terms (each term's
    # saturation limit); best score / bound is how much of the question the best chunk holds.
    bound: float | None = None
    # Chunk language -> multiplier of `weight` on that language's chunks (`fuse_by_language`).
    shares: Mapping[str, float] = field(default_factory=dict)
    # Lists of one non-empty group share one scale within a side of `fuse_by_language`: the
    # best score of any of them there. Dense lists: cosines of one question, so a list whose
    # best match is poorer than another embedder's does not reach 1.0.
    scale_group: str = ""


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


# -- fusion by chunk language -----------------------------------------------------------------


@dataclass(frozen=True)
class LanguageEvidence:
    """How well one language's chunks match the question, on scales both languages share."""

    coverage: float  # best BM25 score / the most the question's (translated) terms could score
    similarity: float  # best cosine of the multilingual embedder among them


def language_factors(
    own: LanguageEvidence,
    other: LanguageEvidence,
    dense_share: float = DENSE_SHARE_OF_STRENGTH,
    prior: float = 1.0,
) -> tuple[float, float]:
    """Factors for the question's own language and for the other one: each side's strength
    (its similarity and coverage, each relative to the better side) over the stronger side's.
    A Korean question whose words its Korean passages hold gets English passages only well
    below them; an English question about Korean documents, whose words no English passage
    holds, gets the Korean ones on an equal footing."""

    def relative(a: float, b: float) -> tuple[float, float]:
        top = max(a, b)
        return (a / top, b / top) if top > 0 else (1.0, 1.0)

    own_sim, other_sim = relative(own.similarity, other.similarity)
    own_cov, other_cov = relative(own.coverage, other.coverage)
    strength_own = dense_share * own_sim + (1 - dense_share) * own_cov
    strength_other = (dense_share * other_sim + (1 - dense_share) * other_cov) * prior
    top = max(strength_own, strength_other)
    if top <= 0:
        return 1.0, 1.0
    return strength_own / top, strength_other / top


def fuse_by_language(
    lists: list[RankedList],
    chunk_language: Mapping[str, str],
    question_language: str,
    factors: tuple[float, float] = (1.0, 1.0),
    floors: Mapping[tuple[str, str], float] | None = None,
) -> list[Fused]:
    """Fusion in two steps. The chunks of the question's own language (with mixed ones) and
    those of the other language are two sides. Within a side, each list is normalised on that
    side's chunks alone (by its best score there, or by `scale`, or by `floors[(list,
    language)]` when that is higher: a best match below what a match looks like on this corpus
    is no full match; lists of one `scale_group` by the highest of these among them), and a
    chunk scores the weighted mean of the lists that can judge its language. Then the own side
    is multiplied by `factors[0]`, the other by `factors[1]` (`language_factors`): which
    language answers is decided on evidence both share."""
    floors = floors or {}

    def side_of(language: str) -> str:
        own = question_language == "mixed" or language in (question_language, "mixed")
        return "own" if own else "other"

    by_side: dict[str, dict[str, dict[str, float]]] = {}  # side -> list -> scores
    for lst in lists:
        if lst.weight <= 0:
            continue
        for cid, score in lst.scores.items():
            language = chunk_language.get(cid, "mixed")
            if lst.judges(language):
                by_side.setdefault(side_of(language), {}).setdefault(lst.name, {})[cid] = score
    named = {lst.name: lst for lst in lists}
    fused: list[Fused] = []
    for side, per_list in by_side.items():
        factor = factors[0] if side == "own" else factors[1]
        language = question_language if side == "own" else other_language(question_language)
        group_scale: dict[str, float] = {}
        for name, scores in per_list.items():
            group = named[name].scale_group
            if group:
                best = max(max(scores.values()), floors.get((name, language), 0.0))
                group_scale[group] = max(group_scale.get(group, 0.0), best)
        normalised: dict[str, dict[str, float]] = {}
        for name, scores in per_list.items():
            lst = named[name]
            if lst.scale_group:
                scale = group_scale[lst.scale_group]
            else:
                scale = lst.scale if lst.scale is not None else max(scores.values())
                scale = max(scale, floors.get((name, language), 0.0))
            normalised[name] = normalise(scores, lst.normalize, scale)
        plans: dict[str, tuple[dict[str, float], float]] = {}  # chunk language: list weights
        candidates = {cid for scores in per_list.values() for cid, s in scores.items() if s > 0}
        for cid in candidates:
            language = chunk_language.get(cid, "mixed")
            plan = plans.get(language)
            if plan is None:
                judging = [n for n in normalised if named[n].judges(language)]
                weights = {n: named[n].weight * named[n].shares.get(language, 1.0) for n in judging}
                plan = plans[language] = (weights, sum(weights.values()))
            weights, total = plan
            if total <= 0:
                continue
            parts = {n: normalised[n].get(cid, 0.0) for n in weights}
            score = sum(weights[n] * v for n, v in parts.items()) / total
            fused.append(Fused(cid, score * factor, parts))
    fused.sort(key=lambda f: (-f.score, f.chunk_id))
    return fused
