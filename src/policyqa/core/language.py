"""Which language a text is in: one home for the rules every stage uses."""

from __future__ import annotations

import re

from policyqa.core.models import Language

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> Language:
    """Korean, English or mixed, from the share of Hangul among letters.

    A Hangul syllable carries about as much as three Latin letters, so it is weighted that way.
    """
    hangul = len(_HANGUL.findall(text)) * 3
    latin = len(_LATIN.findall(text))
    if hangul + latin == 0:
        return "mixed"
    share = hangul / (hangul + latin)
    if share >= 0.75:
        return "ko"
    if share <= 0.2:
        return "en"
    return "mixed"


def question_language(text: str) -> str:
    """The language a question is written in, "ko" or "en": the language of most of its words
    (a word holding Hangul is Korean, a word of Latin letters English), so that "What is
    초광역특별협약?" is English and "RISE 사업 예산은?" Korean. A tie goes to the last word,
    where both languages put the question's predicate or its question mark."""
    korean = latin = 0
    last = ""
    for word in text.split():
        if _SYLLABLE.search(word):
            korean += 1
            last = "ko"
        elif _LATIN.search(word):
            latin += 1
            last = "en"
    if korean == latin:
        return last or "ko"
    return "ko" if korean > latin else "en"


def is_korean(text: str) -> bool:
    """Whether the text holds any Hangul syllable."""
    return _SYLLABLE.search(text) is not None


_ASKS_KOREAN = re.compile(
    r"\b(?:in|into|to) korean\b|\bkorean (?:term|name|word|title|version|wording|documents?|"
    r"text|sources?|original|notice|equivalent|spelling)\b|\bwritten in (?:the )?korean\b",
    re.IGNORECASE,
)
_ASKS_ENGLISH = re.compile(r"영어|영문|영역본|english", re.IGNORECASE)


def requested_language(query: str) -> str | None:
    """The language a question asks the answer to come from, if it says so ("what is it
    called in Korean?", "영문 자료에서는?")."""
    if detect_language(query) == "en" and _ASKS_KOREAN.search(query):
        return "ko"
    if detect_language(query) == "ko" and _ASKS_ENGLISH.search(query):
        return "en"
    return None


def other_language(language: str) -> str:
    """The other of Korean and English ("ko" <-> "en"); any other code stays."""
    return {"ko": "en", "en": "ko"}.get(language, language)
