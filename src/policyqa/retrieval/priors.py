"""Question-level priors on a fused ranking that come from what the question itself says: the
language it asks for, and the region it names (`HybridSearcher._adjust`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from policyqa.core.tuning import REGION_BOOST
from policyqa.retrieval.fusion import Fused

# Chunk id -> (its language, the regions it names); None for a chunk the index no longer holds.
ChunkFacts = Callable[[str], tuple[str, frozenset[str]] | None]


def adjust(
    fused: Sequence[Fused],
    language: str,
    wanted: str | None,
    named: Collection[str],
    facts: ChunkFacts,
    missing_factor: float,
) -> list[Fused]:
    """- The question asks for the other language ("what is it called in Korean?", "영문
      자료에서는?"): that language's passages are wanted, so the language prior flips.
    - The question names a region: passages naming that region come first among equals."""
    if not named and (wanted is None or wanted == language):
        return list(fused)
    flip = bool(wanted and wanted != language)
    adjusted = []
    for item in fused:
        known = facts(item.chunk_id)
        score = item.score
        if known is not None:
            chunk_language, regions = known
            if flip and chunk_language not in (wanted, "mixed"):
                score *= missing_factor
            if flip and chunk_language == wanted:
                score /= missing_factor  # undo the question-language prior
            if named and regions & set(named):
                score *= REGION_BOOST
                if chunk_language not in (language, "mixed") and not wanted:
                    # The passage about the user's region is wanted whatever its language.
                    score /= missing_factor
        adjusted.append(Fused(item.chunk_id, score, item.parts))
    adjusted.sort(key=lambda f: (-f.score, f.chunk_id))
    return adjusted
