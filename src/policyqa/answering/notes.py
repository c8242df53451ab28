"""Short notes shown under an answer: where a place belongs, which language the sources are in,
which asked-about area the sources do not name."""

from __future__ import annotations

import re
from collections.abc import Sequence

from policyqa.answering import prompts
from policyqa.answering.analysis import QuestionAnalysis
from policyqa.answering.answer import Answer
from policyqa.core.text import with_topic_particle


def language_notes(answer: Answer, language: str) -> list[str]:
    """One short note when quotes are in the other language: all of them, or which ones (the
    documents had no passage in the answer's language that says the same)."""
    other = [c.n for c in answer.citations if c.language not in (language, "mixed", "")]
    if not other:
        return []
    if len(other) == len(answer.citations):
        return [prompts.message("other-language", language)]
    marks = "".join(f"[{n}]" for n in other)
    return [prompts.message("other-language-some", language, marks=marks)]


# Korean money units as documents write them ("657,680백만원", "(단위: 백만원, %)", "10.6조원"):
# a reader of an English answer cannot read the figure without them. Language facts, not domain.
_KOREAN_MONEY = re.compile(r"(?:\d[\d,.]*|단위\s*[:：]\s*)(조|억|천만|백만|만|천)?원(?![칙인장])")
_MONEY_UNITS = {
    "조": "trillion won",
    "억": "100 million won",
    "천만": "10 million won",
    "백만": "million won",
    "만": "10,000 won",
    "천": "thousand won",
    "": "won",
}


def unit_notes(answer: Answer, language: str) -> list[str]:
    """For an English answer that quotes Korean amounts: what their units are ("백만원 =
    million won"), in the order the quotes first use them."""
    if language != "en":
        return []
    quoted = " ".join(c.quote for c in answer.citations if c.language == "ko")
    found = dict.fromkeys(m.group(1) or "" for m in _KOREAN_MONEY.finditer(quoted))
    if not found or list(found) == [""]:
        return []
    units = "; ".join(f"{prefix}원 = {_MONEY_UNITS[prefix]}" for prefix in found)
    return [prompts.message("korean-units", language, units=units)]


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


def documents_searched(titles: Sequence[str], everything: int, language: str) -> str:
    """ "all 18 documents", "1 document: Gangwon overview", "문서 2건(A, B)": what a refusal says
    it searched, by title when a filter chose fewer than all (at most three named)."""
    if len(titles) == everything or not titles:
        return prompts.message("documents-all", language, count=len(titles))
    named = ", ".join(f"“{t}”" if language != "ko" else f"「{t}」" for t in titles[:3])
    more = len(titles) - 3
    if more > 0:
        named += " " + prompts.message("documents-more", language, count=more)
    key = "documents-one" if len(titles) == 1 else "documents-some"
    return prompts.message(key, language, count=len(titles), titles=named)
