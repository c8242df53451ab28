"""Everything the answering stage derives from a question, computed once per question."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from policyqa.answering import qtype
from policyqa.answering.periods import years_in
from policyqa.answering.terms import QuestionTerms
from policyqa.core.language import requested_language
from policyqa.domain import DomainPack, PlaceMatch
from policyqa.retrieval.protocol import Searcher

# "Is it confirmed?" is answered by "it is not confirmed": a stated gap is then the answer.
_ASKS_STATUS = re.compile(
    r"확정|확인된|사실인|사실이|공식|정해졌|정해진|결정됐|결정된|"
    r"\b(?:confirmed|final|finali[sz]ed|official|decided|settled|certain|definite)\b",
    re.IGNORECASE,
)


_WORDS = re.compile(r"[\w'\-·]+")


@dataclass(frozen=True)
class QuestionAnalysis:
    asked: str  # the question as the user wrote it, cleaned
    standalone: str  # made self-contained from the conversation (and the area filter)
    language: str  # the answer's language, "ko" or "en"
    places: tuple[PlaceMatch, ...]  # places the standalone question names
    areas: tuple[str, ...]  # their areas, in order of first mention
    details: frozenset[str]  # the kinds of detail asked for (`qtype`)
    measure: str | None  # what an amount asked measures: qtype.PERCENT, qtype.MONEY or None
    several: bool  # asks for several items (a list, a breakdown)
    yes_no: bool
    asks_status: bool  # "is it confirmed?": a statement that it is not is an answer
    requested_language: str | None  # "what is it called in English?"
    years: frozenset[int]  # the years or period the question names (this turn, not inherited)
    terms: QuestionTerms
    domain: DomainPack

    def gives_detail(self, sentence: str, kinds: frozenset[str] | None = None) -> bool:
        """Whether `sentence` gives a detail of the kinds asked (or of `kinds`) that the
        question does not already state."""
        wanted = self.details if kinds is None else kinds
        return qtype.gives_detail(wanted, sentence, self.standalone, self.domain)


def filter_areas(filters: Mapping[str, object] | None, domain: DomainPack) -> list[str]:
    """The domain areas an `area` filter asks for."""
    wanted = (filters or {}).get("region")
    values = wanted if isinstance(wanted, (list, tuple, set)) else [wanted] if wanted else []
    return [str(v) for v in values if str(v) in domain.areas]


def untranslated_words(text: str, searcher: Searcher) -> list[str]:
    """The words of `text` (split at spaces and punctuation) that no other-language term of the
    lexicon stands for: blanked out, the question loses none of its translations. (A word
    translated only inside a phrase, "poles" in "5 poles and 3 special", is translated.)"""
    every = {t for group in searcher.translation_groups(text) for t in group}
    out = []
    for found in _WORDS.finditer(text):
        blanked = text[: found.start()] + " " * len(found.group()) + text[found.end() :]
        kept = {t for group in searcher.translation_groups(blanked) for t in group}
        if every <= kept:
            out.append(found.group())
    return list(dict.fromkeys(out))


def analyse(
    asked: str,
    standalone: str,
    language: str,
    searcher: Searcher,
    domain: DomainPack,
) -> QuestionAnalysis:
    places = tuple(domain.find_places(standalone))
    # Translations of what the question asks about, not of how it asks ("how much does it
    # cost" needs no "비용" in a Korean sentence that gives the figure).
    subject = qtype.without_asking_words(standalone)
    translations = searcher.translation_groups(subject)
    terms = QuestionTerms(
        standalone,
        searcher.tokenize,
        searcher.idf,
        translations,
        domain,
        untranslated_words(subject, searcher) if translations else None,
    )
    terms.language = language
    return QuestionAnalysis(
        asked=asked,
        standalone=standalone,
        language=language,
        places=places,
        areas=tuple(dict.fromkeys(m.area for m in places)),
        details=frozenset(qtype.asked_details(standalone)),
        measure=qtype.asked_measure(standalone),
        several=qtype.asks_for_several(standalone),
        yes_no=qtype.is_yes_no(standalone),
        asks_status=_ASKS_STATUS.search(standalone) is not None,
        requested_language=requested_language(standalone),
        # A follow-up ("그럼 광역철도는?") is not held to the year of the turn before it.
        years=frozenset(years_in(asked, quoted=False)),
        terms=terms,
        domain=domain,
    )
