"""Korean/English term pairs that documents gloss in parentheses: "special mega-region agreement
(초광역특별협약)", "지역내총생산(GRDP)". Korean government documents do this throughout, so every
corpus brings its own translations; they are mined when a chunk is indexed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_HANGUL = r"\uac00-\ud7a3"
# "English words (한글 ...)"; the English side is cut back to at most 6 words below.
_EN_THEN_KO = re.compile(
    rf"([A-Za-z][A-Za-z0-9'\- ]{{1,80}}?)\s*\(([{_HANGUL}][{_HANGUL}0-9·\s:]{{0,40}})\)"
)
# "한글(English ...)" with an acronym or words in the parentheses.
_KO_THEN_EN = re.compile(
    rf"([{_HANGUL}][{_HANGUL}0-9·]{{1,30}})\s*\(([A-Za-z][A-Za-z0-9'\- ]{{0,60}})\)"
)
# "ACRONYM(한글 ...)": RISE(지역혁신중심 대학지원체계)
_ACRONYM_THEN_KO = re.compile(
    rf"\b([A-Z][A-Z0-9\-]{{1,10}})\s*\(([{_HANGUL}][{_HANGUL}0-9·\s]{{1,40}})\)"
)
_LEADING_NOISE = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "to",
        "of",
        "for",
        "in",
        "on",
        "by",
        "with",
        "set",
        "up",
        "introduce",
        "raise",
        "run",
        "create",
        "run",
        "called",
        "named",
        "known",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "new",
    ]
)


@dataclass(frozen=True)
class TermPair:
    ko: str
    en: str
    source: str  # "glossary" (a domain pack's), "region" or "corpus" (mined)


def _clean_en(phrase: str) -> str:
    words = phrase.replace("\n", " ").split()
    words = words[-6:]  # the term is what immediately precedes the parenthesis
    while words and words[0].lower() in _LEADING_NOISE:
        words = words[1:]
    return " ".join(words).strip(" -")


def _plausible_en(term: str) -> bool:
    """Not a URL fragment, article number or source id: 'com 20250930', 'kr'."""
    words = term.split()
    letters = sum(ch.isalpha() for ch in term)
    if letters < 2 or any(sum(ch.isdigit() for ch in w) >= 4 for w in words):
        return False
    return not (len(words) == 1 and term.islower() and len(term) <= 3)


def mine_term_pairs(text: str) -> list[TermPair]:
    """Korean/English pairs glossed in parentheses, as documents write them."""
    if "(" not in text:
        return []  # most chunks: every pattern needs a parenthesis
    text = unicodedata.normalize("NFC", text)
    pairs: list[TermPair] = []
    for match in _EN_THEN_KO.finditer(text):
        en = _clean_en(match.group(1))
        ko = " ".join(match.group(2).split())
        if en and len(ko) >= 2 and _plausible_en(en) and text[max(0, match.start() - 1)] != ".":
            pairs.append(TermPair(ko, en, "corpus"))
    for match in _ACRONYM_THEN_KO.finditer(text):
        pairs.append(TermPair(" ".join(match.group(2).split()), match.group(1), "corpus"))
    for match in _KO_THEN_EN.finditer(text):
        en = " ".join(match.group(2).split())
        if en and "." not in en and len(match.group(1)) >= 2 and _plausible_en(en):
            pairs.append(TermPair(match.group(1), en, "corpus"))
    return pairs
