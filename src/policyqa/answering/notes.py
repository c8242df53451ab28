"""Short notes shown under an answer: where a place belongs, which language the sources are in,
which asked-about area the sources do not name."""

from __future__ import annotations

from policyqa.answering import prompts
from policyqa.answering.analysis import QuestionAnalysis
from policyqa.answering.answer import Answer
from policyqa.core.text import with_topic_particle


def language_notes(answer: Answer, language: str) -> list[str]:
    if answer.citations and all(
        c.language not in (language, "mixed", "") for c in answer.citations
    ):
        return [prompts.message("other-language", language)]
    return []


def area_notes(answer: Answer, analysis: QuestionAnalysis) -> list[str]:
    """An area the question names that no cited passage names: the answer may be general."""
    domain, language = analysis.domain, analysis.language
    cited_text = " ".join(
        f"{p.chunk.title} {p.chunk.text}"
        for p in answer.passages
        if any(c.chunk_id == p.chunk.id for c in answer.citations)
    )
    named = set(domain.areas_in(cited_text))
    return [
        prompts.message("region-none", language, region=domain.describe(area, language))
        for area in analysis.areas
        if area not in named
    ]


def place_notes(analysis: QuestionAnalysis) -> list[str]:
    """ "Changwon is in the Southeast pole": a city or province the question names, placed in
    its area (an area, or an area that is one province, needs no note)."""
    domain, language = analysis.domain, analysis.language
    notes: list[str] = []
    for match in analysis.places:
        if match.place is None and (match.province is None or domain.areas[match.area].is_province):
            continue
        place = match.mention
        note = prompts.message(
            "place",
            language,
            place=place,
            place_topic=with_topic_particle(place),
            region=domain.describe(match.area, language),
        )
        if note not in notes:
            notes.append(note)
    return notes[:2]
