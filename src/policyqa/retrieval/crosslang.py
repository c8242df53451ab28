"""Bilingual term lexicon for cross-language retrieval (Korean <-> English), no model needed.

BM25 cannot match a Korean question to an English page, and the multilingual embedder alone is
weak at it. So a question is also searched with the other-language names of the terms it
contains. Terms come from three places:

- a general glossary of Korean public-policy vocabulary (below; domain knowledge, not corpus data);
- the region gazetteer (`regions`): "춘천" also searches "Gangwon";
- pairs mined from the indexed documents themselves: Korean government documents gloss their
  terms in parentheses, "special mega-region agreement (초광역특별협약)" or "지역내총생산(GRDP)",
  so every corpus brings its own translations.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass

from policyqa.domain import regions

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
    source: str  # "glossary", "region" or "corpus"


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


# General Korean public-policy vocabulary: (Korean forms, English forms). The first form of each
# side is the one added to a query; any form matches.
GLOSSARY: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("국가균형성장", "국가 균형성장"), ("national balanced growth",)),
    (("균형성장",), ("balanced growth",)),
    (("균형발전", "균형 발전"), ("balanced development", "balanced national development")),
    (("지방시대",), ("local era",)),
    (("지방분권", "자치분권", "분권"), ("decentralization", "decentralisation")),
    (("지방자치단체", "지자체"), ("local government", "local governments")),
    (("광역자치단체", "광역시도", "시도"), ("metropolitan and provincial governments",)),
    (("특별자치도",), ("special self-governing province",)),
    (("특별자치시",), ("special self-governing city",)),
    (("특별지방자치단체", "특별지자체"), ("special local government", "special union")),
    (("초광역",), ("mega-region", "mega region", "megaregion")),
    (("광역경제권",), ("wide-area economic zone", "regional economic zone")),
    (("경제권",), ("economic sphere", "economic zone")),
    (("생활권",), ("living sphere", "daily living zone")),
    (("수도권",), ("capital area", "capital region", "seoul metropolitan area")),
    (("비수도권",), ("non-capital", "outside the capital area")),
    (("설계도", "청사진"), ("blueprint",)),
    (("계획",), ("plan",)),
    (("대책", "조치", "방안"), ("measure", "measures")),
    (("권역",), ("region", "sphere", "zone")),
    (("5극3특", "5극 3특", "5극·3특"), ("5 poles and 3 special", "5 poles 3 special")),
    (("5극",), ("5 poles", "five poles")),
    (("3특",), ("3 special", "three special")),
    (("전략",), ("strategy",)),
    (("과제", "국정과제"), ("task", "tasks", "national tasks")),
    (("목표",), ("target", "goal")),
    (("위원회",), ("committee",)),
    (("전체회의", "본회의"), ("plenary", "plenary meeting")),
    (("회의",), ("meeting",)),
    (("대통령",), ("president",)),
    (("국무회의",), ("cabinet meeting",)),
    (("정부",), ("government",)),
    (("예산",), ("budget",)),
    (("재정",), ("fiscal", "finance")),
    (("특별회계",), ("special account",)),
    (("포괄보조", "포괄보조금"), ("block grant", "block grants")),
    (("교부세", "지방교부세"), ("local shared tax",)),
    (("보조금",), ("subsidy", "subsidies")),
    (("세제", "세금"), ("tax",)),
    (("인센티브",), ("incentive", "incentives")),
    (("투자",), ("investment",)),
    (("기업",), ("company", "companies", "firms")),
    (("앵커기업",), ("anchor company", "anchor companies")),
    (("공공기관",), ("public institutions", "public agencies")),
    (("이전",), ("relocation",)),
    (("규제",), ("regulation", "regulations")),
    (("특례",), ("special provisions", "special cases")),
    (("특구",), ("special zone", "special zones")),
    (("산업",), ("industry", "industries")),
    (("반도체",), ("semiconductor",)),
    (("인공지능", "AI"), ("artificial intelligence", "AI")),
    (("이차전지", "배터리"), ("secondary battery", "battery")),
    (("바이오",), ("bio", "biotech")),
    (("에너지",), ("energy",)),
    (("재생에너지",), ("renewable energy",)),
    (("일자리",), ("jobs", "employment")),
    (("청년",), ("youth", "young people")),
    (("인구",), ("population",)),
    (("인구감소", "인구감소지역"), ("depopulation", "population decline")),
    (("지방소멸",), ("local extinction", "regional decline")),
    (("대학",), ("university", "universities")),
    (("교육",), ("education",)),
    (("의료", "병원"), ("medical", "healthcare", "hospital")),
    (("의사",), ("doctor", "doctors")),
    (("의대", "의과대학"), ("medical school", "medical schools")),
    (("교통",), ("transport", "transportation")),
    (("철도",), ("railway", "rail")),
    (("도로",), ("road", "roads")),
    (("주거", "주택"), ("housing",)),
    (("농촌",), ("rural", "rural areas")),
    (("어촌",), ("fishing villages",)),
    (("문화",), ("culture",)),
    (("관광",), ("tourism",)),
    (("복지",), ("welfare",)),
    (("돌봄",), ("care",)),
    (("연구개발", "R&D"), ("research and development", "R&D")),
    (("혁신",), ("innovation",)),
    (("성장",), ("growth",)),
    (("발전",), ("development",)),
    (("지역",), ("region", "regional", "local")),
    (("국토",), ("national territory", "national land")),
    (("행정수도",), ("administrative capital",)),
    (("행정통합",), ("administrative integration",)),
    (("법", "법률", "특별법"), ("act", "law", "special act")),
    (("개정",), ("revision", "amendment")),
    (("시행",), ("implementation", "took effect")),
    (("출범",), ("launch", "launched")),
    (("발표",), ("announced", "announcement")),
    (("의결",), ("approved", "adopted")),
    (("보고",), ("report",)),
    (("조원",), ("trillion won",)),
    (("억원",), ("hundred million won",)),
    (("지역내총생산",), ("GRDP", "gross regional domestic product")),
    (("택시",), ("taxi", "taxis")),
    (("버스",), ("bus", "buses")),
    (("수요응답형", "수요응답"), ("demand-responsive",)),
    (("물류",), ("logistics",)),
    (("거점",), ("hub", "base")),
    (("항만",), ("port",)),
    (("공항",), ("airport",)),
    (("서해안",), ("west coast",)),
    (("연계", "연결"), ("link", "connection")),
    (("이양", "권한 이양"), ("transfer of powers", "devolution")),
    (("계승", "이어받"), ("continue", "inherit", "build on")),
    # Presidents and state bodies, as English documents name them.
    (("김대중",), ("Kim Dae-jung",)),
    (("노무현",), ("Roh Moo-hyun",)),
    (("이명박",), ("Lee Myung-bak",)),
    (("박근혜",), ("Park Geun-hye",)),
    (("문재인",), ("Moon Jae-in",)),
    (("윤석열",), ("Yoon Suk Yeol",)),
    (("이재명",), ("Lee Jae-myung",)),
    (("국회",), ("National Assembly",)),
    (("대통령실", "청와대"), ("presidential office",)),
    (("국무총리",), ("prime minister",)),
    (("기획재정부", "기재부"), ("Ministry of Economy and Finance", "finance ministry")),
    (("산업통상자원부", "산업부"), ("Ministry of Trade, Industry and Energy", "industry ministry")),
    (("행정안전부", "행안부"), ("Ministry of the Interior and Safety", "interior ministry")),
    (("국토교통부", "국토부"), ("Ministry of Land, Infrastructure and Transport", "land ministry")),
    (("교육부",), ("Ministry of Education", "education ministry")),
    (("보건복지부", "복지부"), ("Ministry of Health and Welfare", "health ministry")),
    (("고용노동부", "노동부"), ("Ministry of Employment and Labor", "labor ministry")),
    (("중소벤처기업부", "중기부"), ("Ministry of SMEs and Startups",)),
    (("과학기술정보통신부", "과기정통부"), ("Ministry of Science and ICT", "science ministry")),
    (
        ("농림축산식품부", "농식품부"),
        ("Ministry of Agriculture, Food and Rural Affairs", "agriculture ministry"),
    ),
    (("해양수산부", "해수부"), ("Ministry of Oceans and Fisheries",)),
    (("환경부",), ("Ministry of Environment",)),
    (("문화체육관광부", "문체부"), ("Ministry of Culture, Sports and Tourism",)),
    (("국무회의",), ("cabinet meeting",)),
    (("헌법",), ("constitution",)),
    (("조례",), ("ordinance",)),
    (("시행령",), ("enforcement decree",)),
    (("법안",), ("bill",)),
    (("입법예고",), ("legislative notice",)),
)

_KO_SCRIPT = re.compile(f"[{_HANGUL}]")
_WORD = re.compile(r"[a-z0-9]+")


def _english_occurrences(text_lower: str, phrase: str) -> Iterator[re.Match[str]]:
    """Whole-word occurrences ("tax" in "a tax cut", not in "taxi")."""
    return re.finditer(rf"(?<![a-z0-9]){re.escape(phrase.lower())}(?![a-z0-9])", text_lower)


class Lexicon:
    """Translates the terms a question contains into the other language's search terms."""

    def __init__(self, pairs: Iterable[TermPair] = ()) -> None:
        self.pairs: list[TermPair] = []
        seen: set[tuple[str, str]] = set()
        for ko_forms, en_forms in GLOSSARY:
            for ko in ko_forms:
                self._add(TermPair(ko, en_forms[0], "glossary"), seen)
            for en in en_forms:
                self._add(TermPair(ko_forms[0], en, "glossary"), seen)
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

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Lexicon:
        return cls(pair for text in texts for pair in mine_term_pairs(text))

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
        for match in regions.find_regions(text):
            other = "en" if _KO_SCRIPT.search(match.mention) else "ko"
            for term in regions.search_terms(match.group, other)[:3]:
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
