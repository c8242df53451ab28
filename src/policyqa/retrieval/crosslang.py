"""Cross-language search terms (Korean <-> English), no model needed.

BM25 cannot match a Korean question to an English page, and the multilingual embedder alone is
weak at it. So a question is also searched with the other-language names of the terms it
contains. Terms come from three places:

- pairs mined from the indexed documents themselves (`index.glosses`): documents gloss their
  terms in parentheses, so every corpus brings its own translations;
- the domain pack's glossary, if any;
- the domain pack's gazetteer: "춘천" also searches "Gangwon".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Set

from policyqa.domain import DomainPack
from policyqa.index.glosses import TermPair

_HANGUL = r"\uac00-\ud7a3"

_KO_SCRIPT = re.compile(f"[{_HANGUL}]")
_WORD = re.compile(r"[a-z0-9]+")


def _english_occurrences(text_lower: str, phrase: str) -> Iterator[re.Match[str]]:
    """Whole-word occurrences ("tax" in "a tax cut", not in "taxi")."""
    return re.finditer(rf"(?<![a-z0-9]){re.escape(phrase.lower())}(?![a-z0-9])", text_lower)


class Lexicon:
    """Translates the terms a question contains into the other language's search terms."""

    def __init__(self, pairs: Iterable[TermPair] = (), domain: DomainPack | None = None) -> None:
        self.pairs: list[TermPair] = []
        self.domain = domain
        seen: set[tuple[str, str]] = set()
        for entry in domain.glossary if domain is not None else ():
            for ko in entry.ko:
                self._add(TermPair(ko, entry.en[0], "glossary"), seen)
            for en in entry.en:
                self._add(TermPair(entry.ko[0], en, "glossary"), seen)
        for pair in pairs:
            self._add(pair, seen)
        # Which pairs a question could match, by the first syllable of the Korean side and the
        # first word of the English side: checking every pair costs ms per question at 100k chunks.
        self._by_key: dict[str, list[int]] = {}
        self._korean = [_KO_SCRIPT.search(pair.ko) is not None for pair in self.pairs]
        self._english = [pair.en.lower() for pair in self.pairs]
        for i, pair in enumerate(self.pairs):
            keys = {pair.ko[0]} if _KO_SCRIPT.search(pair.ko) else set()
            words = _WORD.findall(pair.en.lower())
            keys.add(words[0] if words else "")
            for key in keys:
                self._by_key.setdefault(key, []).append(i)

    def _add(self, pair: TermPair, seen: set[tuple[str, str]]) -> None:
        key = (pair.ko, pair.en.lower())
        if pair.ko and pair.en and key not in seen:
            seen.add(key)
            self.pairs.append(pair)

    def translate(
        self, question: str, boundaries: Callable[[str], Set[int]] | None = None
    ) -> list[str]:
        """Other-language terms for the terms in `question`, most specific (longest) first.

        A Korean term inside a longer matched term does not add its own translation
        ("국가균형성장" adds "national balanced growth", not also "growth").
        """
        return flattened(self.translate_groups(question, boundaries))

    def translate_groups(
        self, question: str, boundaries: Callable[[str], Set[int]] | None = None
    ) -> list[list[str]]:
        """The same terms, grouped by the question's words they translate: "목표" gives
        ["target", "goal"], alternatives of which one is enough.

        `boundaries` gives the offsets where the question's Korean morphemes start and end; a
        Korean term must not straddle one ("도로" is not in "특별자치도로", which is 특별자치도
        + 로), though it may sit inside one compound ("초광역" in "초광역특별협약")."""
        text = unicodedata.normalize("NFC", question)
        lower = text.lower()
        allowed = boundaries(text) if boundaries is not None else None
        out: list[str] = []
        candidates: list[tuple[int, int, str]] = []
        keys = set(text) | set(_WORD.findall(lower)) | {""}
        for i in sorted({i for key in keys for i in self._by_key.get(key, ())}):
            pair = self.pairs[i]
            start = text.find(pair.ko) if self._korean[i] else -1
            while start >= 0 and allowed is not None:
                if _aligned(start, start + len(pair.ko), allowed):
                    break
                start = text.find(pair.ko, start + 1)
            if start >= 0:
                candidates.append((start, start + len(pair.ko), pair.en))
            # a plain substring test first: a regex per pair costs milliseconds per question
            if self._english[i] in lower:
                for found in _english_occurrences(lower, pair.en):
                    candidates.append((found.start(), found.end(), pair.ko))
        if self.domain is not None:
            for match in self.domain.find_places(text):
                other = "en" if _KO_SCRIPT.search(match.mention) else "ko"
                for term in self.domain.area_names(match.area, other)[:3]:
                    candidates.append((match.start, match.start + len(match.mention), term))
        # Longest spans first; a span inside an already-taken one is skipped. Per position,
        # the taken span reaching furthest: a container is longer, so it was taken first.
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        groups: dict[tuple[int, int], list[str]] = {}
        reach: list[tuple[int, int]] = [(-1, -1)] * (len(text) + 1)
        for start, end, term in candidates:
            container = reach[start]
            if container[1] >= end and container != (start, end):
                continue
            for position in range(start, end):
                if end > reach[position][1]:
                    reach[position] = (start, end)
            if term not in out and term.lower() not in lower:
                out.append(term)
                groups.setdefault((start, end), []).append(term)
        return list(groups.values())


def flattened(groups: Iterable[Iterable[str]]) -> list[str]:
    """The terms of translation groups, once each, in order."""
    return list(dict.fromkeys(term for group in groups for term in group))


def _aligned(start: int, end: int, boundaries: Set[int]) -> bool:
    """A match that starts and ends on morpheme boundaries, or lies inside one morpheme."""
    if start in boundaries and end in boundaries:
        return True
    return not any(b in boundaries for b in range(start + 1, end))


# -- Revised Romanization: Korean proper nouns appear romanised in English documents ------------
_INITIALS = [
    "g",
    "kk",
    "n",
    "d",
    "tt",
    "r",
    "m",
    "b",
    "pp",
    "s",
    "ss",
    "-",
    "j",
    "jj",
    "ch",
    "k",
    "t",
    "p",
    "h",
]
_VOWELS = [
    "a",
    "ae",
    "ya",
    "yae",
    "eo",
    "e",
    "yeo",
    "ye",
    "o",
    "wa",
    "wae",
    "oe",
    "yo",
    "u",
    "wo",
    "we",
    "wi",
    "yu",
    "eu",
    "ui",
    "i",
]
_FINALS = [
    "",
    "k",
    "k",
    "k",
    "n",
    "n",
    "n",
    "t",
    "l",
    "k",
    "m",
    "l",
    "l",
    "l",
    "p",
    "l",
    "m",
    "p",
    "p",
    "t",
    "t",
    "ng",
    "t",
    "t",
    "k",
    "t",
    "p",
    "t",
]
# A final consonant read before a vowel (liaison): 새만금 -> saemangeum, 강원 -> gangwon.
_LIAISON = {"k": "g", "n": "n", "t": "d", "l": "r", "m": "m", "p": "b", "ng": "ng"}


def romanize(word: str) -> str:
    """Revised Romanization of a Hangul word (simplified: liaison, no other assimilation)."""
    syllables = []
    for ch in word:
        code = ord(ch) - 0xAC00
        if not 0 <= code < 11172:
            return ""
        syllables.append((code // 588, (code % 588) // 28, code % 28))
    out = []
    for i, (initial, vowel, final) in enumerate(syllables):
        head = _INITIALS[initial].replace("-", "")
        if initial == 5 and i > 0 and syllables[i - 1][2] == 8:  # ㄹ after final ㄹ: ll
            head = "l"
        tail = _FINALS[final]
        nxt = syllables[i + 1] if i + 1 < len(syllables) else None
        if tail and nxt is not None and nxt[0] == 11 and tail != "ng":  # next starts with ㅇ
            tail = _LIAISON.get(tail, tail)
        out.append(head + _VOWELS[vowel] + tail)
    return "".join(out)


def romanized_forms(words: Iterable[str]) -> dict[str, str]:
    """romanisation -> Hangul word, for Hangul words of two or more syllables."""
    forms: dict[str, str] = {}
    for word in words:
        if len(word) >= 2 and _KO_SCRIPT.fullmatch(word[0]):
            latin = romanize(word)
            if latin and len(latin) >= 4:
                forms.setdefault(latin, word)
    return forms
