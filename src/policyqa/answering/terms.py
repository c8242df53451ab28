"""The question's informative terms, IDF-weighted, and how much of them a text covers."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from policyqa.answering import qtype
from policyqa.core.language import is_korean
from policyqa.domain import DomainPack
from policyqa.index.lexical import QUESTION_WORDS

Tokenize = Callable[[str], list[str]]
Idf = Callable[[Sequence[str]], Mapping[str, float]]


@functools.lru_cache(maxsize=8)
def distinctive_area_tokens(domain: DomainPack, tokenize: Tokenize) -> dict[str, frozenset[str]]:
    """Per area, the tokens of its names that no other area's names share ("Gangwon", not
    "Special"). Static data: computed once per domain and tokenizer, not per question."""
    names = {
        a: set(tokenize(" ".join(domain.area_names(a, "ko") + domain.area_names(a, "en"))))
        for a in domain.areas
    }
    return {
        area: frozenset(tokens - set().union(*(v for g, v in names.items() if g != area)))
        for area, tokens in names.items()
    }


def subject_terms(tokens: Sequence[str]) -> list[str]:
    """What a question is about: no question-form words, no Korean verbs or adjectives (Kiwi
    lemmas end in 다); those say how it is asked, and rare ones would look like missing facts."""
    return [t for t in dict.fromkeys(tokens) if t not in QUESTION_WORDS and not t.endswith("다")]


class QuestionTerms:
    """The question's informative tokens with IDF weights, and their translations' tokens."""

    def __init__(
        self,
        question: str,
        tokenize: Tokenize,
        idf: Idf,
        translations: Sequence[str | Sequence[str]] = (),
        domain: DomainPack | None = None,
        untranslated: Iterable[str] | None = None,
    ) -> None:
        """`translations`: the other language's terms for the question's words; a list inside
        holds alternatives for one word ("target", "goal"), of which one is enough.
        `untranslated`: the question's words that have no translation; None when unknown."""
        self.tokenize = tokenize
        self.idf = idf
        # A place stands for its area: "Changwon" is answered by a passage on the Southeast
        # pole, so an area counts as one term, met by any of its names in either language.
        mentions = domain.find_places(question) if domain is not None else []
        for match in sorted(mentions, key=lambda m: -m.start):
            question = question[: match.start] + " " + question[match.start + len(match.mention) :]
        # "how big" asks for a figure: "big" is not what the question is about.
        question = qtype.without_asking_words(question)
        self.weights = dict(idf(subject_terms(tokenize(question))))
        # English stems back to the question's words, for messages to the user
        self.surface: dict[str, str] = {}
        for word in re.findall(r"[A-Za-z][A-Za-z'\-]*", question):
            stems = tokenize(word)
            if len(stems) == 1 and stems[0] in self.weights:
                self.surface.setdefault(stems[0], word)
        self.region_terms: list[set[str]] = []
        if mentions and domain is not None:
            distinctive = distinctive_area_tokens(domain, tokenize)
            for area in dict.fromkeys(m.area for m in mentions):
                self.region_terms.append(set(distinctive[area]))
        self.region_weight = max(self.weights.values(), default=3.0)
        # Each group: its alternatives' tokens with IDF weights. Area names are left out:
        # the area counts once, through `region_terms`.
        place = set().union(*self.region_terms)
        self.translated: dict[str, float] = {}
        self.translated_groups: list[list[dict[str, float]]] = []
        for entry in translations:
            alternatives = []
            for term in [entry] if isinstance(entry, str) else entry:
                tokens = [
                    t
                    for t in subject_terms(tokenize(term))
                    if t not in self.weights and t not in place and t not in self.translated
                ]
                if tokens:
                    alternatives.append(dict(idf(tokens)))
            if alternatives:
                self.translated_groups.append(alternatives)
                for weights in alternatives:
                    self.translated.update(weights)
        # The question's terms no translation stands for: text in the other language meets them
        # only as written (a figure, an acronym); counted, they keep a sentence that meets the
        # one translated word of a long question from covering all of it.
        lost = set(subject_terms(tokenize(" ".join(untranslated or ()))))
        self.untranslated = {t: w for t, w in self.weights.items() if t in lost}
        # What the question asks about besides its area, in either language.
        self.subject = (set(self.weights) | set(self.translated)) - place
        self.language = "ko" if is_korean(question) else "en"

    @property
    def empty(self) -> bool:
        return not self.weights and not self.region_terms

    def coverage(
        self, tokens: set[str], translated: bool = True, text: str = "", whole: bool = True
    ) -> float:
        """IDF-weighted share of the question's terms (or of their translations) in `tokens`.

        With `text`, a Korean term also counts when it occurs in the text as written: Kiwi may
        split the same compound differently in different sentences (포괄/보조 vs 포괄보/조).
        Across languages the share is of the whole question (`whole`: its terms without a
        translation, which the text cannot be checked for unless it writes them alike, count
        as met by the share of the question that translates), which ranks one sentence
        against another: one translated word met is weak evidence. Or it is of the translated
        part only, which is all a sparse lexicon lets other-language text show of the subject.
        """
        if text:
            tokens = tokens | {
                t for t in self.weights if len(t) >= 2 and is_korean(t) and t in text
            }
        met_regions = sum(1 for names in self.region_terms if names & tokens)
        region_total = self.region_weight * len(self.region_terms)
        region_met = self.region_weight * met_regions
        total = sum(self.weights.values()) + region_total
        if total <= 0:
            return 0.0
        own = (sum(w for t, w in self.weights.items() if t in tokens) + region_met) / total
        if not self.translated or not translated:
            return own
        lost = self.untranslated if whole else {}
        # A term without a translation counts as met as far as the question translates: most
        # of it translated and met, the rest likely is too; one word of it, and little is known.
        credit = 1.0 - sum(lost.values()) / (sum(self.weights.values()) or 1.0)
        other_total = region_total + sum(lost.values())
        other = region_met + sum(w if t in tokens else credit * w for t, w in lost.items())
        for alternatives in self.translated_groups:
            # One alternative is enough: the group counts as its heaviest wording, met as far
            # as its best-met wording is.
            heaviest = max(sum(a.values()) for a in alternatives)
            met = max(
                sum(w for t, w in a.items() if t in tokens) / (sum(a.values()) or 1.0)
                for a in alternatives
            )
            other_total += heaviest
            other += heaviest * met
        if other_total <= 0:
            return own
        return max(own, other / other_total)

    def names_subject(self, text: str) -> bool:
        """Whether `text` holds one of the question's terms besides its area (or their
        translations); true for a question that has no other terms."""
        if not self.subject:
            return True
        return bool(self.subject & set(self.tokenize(text)))

    def missing(self, tokens: set[str], limit: int = 4) -> list[str]:
        """The rarest question terms that `tokens` lacks (for telling the user what is missing),
        as the question wrote them: "jobs", not the stem "job"."""
        gone = [(w, t) for t, w in self.weights.items() if t not in tokens]
        return [self.surface.get(t, t) for _, t in sorted(gone, reverse=True)[:limit]]
