"""What a conversation is about: each turn's `Subject` (areas, documents, periods, programme
and focus phrases, kind of detail), carried from turn to turn in a `ConversationState`.

A follow-up inherits every part of the subject it does not replace: "그럼 일자리는요?" keeps the
region and programme of the question before and changes the focus; "교통은요?" after it
changes the focus again and still keeps the region. Parts are found by general means only:
areas from the domain pack's gazetteer (none without one), periods by their form, noun phrases
from Kiwi's parts of speech (Korean) or between function words (English), kinds of detail from
`qtype`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from policyqa.answering import qtype
from policyqa.core.language import is_korean
from policyqa.domain import DomainPack

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
# A year, a range of years, a half or quarter of a year, a month or a day: the time a question
# is about ("2026년 상반기", "2025~2030", "first half of 2026", "8 December 2025").
PERIOD = re.compile(
    r"(?<![\d.])(?:(?:19|20)\d\d\s?년?\s?[~∼\-–]\s?(?:(?:19|20)?\d\d)\s?년?|"
    r"(?:(?:19|20)\d\d\s?년\s?)?(?:\d{1,2}\s?월\s?)(?:\d{1,2}\s?일)?|"
    r"(?:19|20)\d\d\s?년(?:\s?(?:상반기|하반기|[1-4]\s?분기|초|말))?|"
    rf"(?:\d{{1,2}}\s)?{_MONTH}\s(?:19|20)\d\d|"
    r"(?:(?:first|second)\s+half|(?:Q[1-4])|end|start|beginning)\s+(?:of\s+)?(?:19|20)\d\d|"
    r"(?:19|20)\d\d)(?!\d)",
    re.IGNORECASE,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# How a follow-up leans on the conversation: these words open it and say nothing of the subject.
_CUE_EN = re.compile(
    r"^\s*(?:(?:and|so|but|also|then|ok(?:ay)?|now|well)\b[\s,]*)*"
    r"(?:what about|how about|what of|and what about|same for|as for|regarding)?\s*",
    re.IGNORECASE,
)
_CUE_KO = re.compile(
    r"^\s*(?:(?:그럼|그러면|그리고|그래서|그런데|근데|또|또한|그밖에|그 밖에|그중에?|그 중에?|"
    r"거기서|거기에|여기서|그렇다면|그건|그거|그게|이건|아|음)[\s,]*)+"
)

# Nouns that frame a question rather than name its subject ("what does it mean for our
# region?", "어떤 의미가 있나요?"): never a programme or focus on their own.
_GENERIC_KO = _words(
    """
    의미 내용 경우 관련 정도 점 부분 것 거 게 수 때 등 중 사항 질문
    설명 정보 이야기 얘기 말씀 지역 우리 저희 무엇 뭐 어디 얼마 누구
    언제 어떻게 왜 구체 자세히 전체 관계 영향 차이 이유 방법 설명 요약
    얘기 기준 측면 입장 상황 문제 생각 해당 이것 그것 저것 가능
    """
)
_GENERIC_EN = _words(
    """
    a an the this that these those it its they them their there here what which who whom
    whose when where why how is are was were be been being do does did done have has had
    will would can could should shall may might must i me my we our us you your he she his
    her about for to of in on at by with from as into onto than then so and or but if not no
    yes any some all each every much many more most other another same such own just only
    also very really please tell say says said know explain mean means meaning meant live
    lives living happen happens happened get gets got give gives given go goes going want
    wants like look looking find need needs thing things kind kinds way ways part parts case
    detail details information info region regions area areas place places question
    questions answer matter specifically exactly actually now currently today concern
    concerns affect affects effect impact apply applies there's what's it's become becomes
    became begin began start started make makes made take takes took come comes came see use
    used work works help include includes included change changes changed happen mentioned
    mention say plan's stand stands fit fits
    """
)
_EN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+&'’\-./·]*")
_EN_JOINERS = frozenset({"and", "of", "for", "&", "on"})
_KO_NOUN_TAGS = ("NNG", "NNP", "NNB", "NR", "SN", "SL", "SH", "XSN", "XPN")


@dataclass(frozen=True)
class Subject:
    """What one question is about, as found in its text (and the filters it was asked with)."""

    places: tuple[str, ...] = ()  # place names as written ("강원도", "Chuncheon")
    areas: tuple[str, ...] = ()  # the domain areas they belong to
    documents: tuple[str, ...] = ()  # documents the question was limited to
    periods: tuple[str, ...] = ()  # "2026년", "2025~2030", "first half of 2026"
    programme: tuple[str, ...] = ()  # noun phrases of the question that set the topic
    focus: tuple[str, ...] = ()  # noun phrases follow-ups narrowed it to
    details: tuple[str, ...] = ()  # kinds of detail asked (`qtype`): "amount", "date", ...
    asking: str = ""  # the words that asked for that detail ("얼마", "how much")

    def keywords(self) -> list[str]:
        """The subject as the words searched for, most general first."""
        return list(dict.fromkeys([*self.places, *self.programme, *self.focus, *self.periods]))


@dataclass(frozen=True)
class ConversationState:
    """The subject of the conversation so far and the last question as searched."""

    subject: Subject = field(default_factory=Subject)
    standalone: str = ""
    turns: int = 0

    def to_json(self) -> dict[str, object]:
        s = self.subject
        return {
            "places": list(s.places),
            "areas": list(s.areas),
            "documents": list(s.documents),
            "periods": list(s.periods),
            "programme": list(s.programme),
            "focus": list(s.focus),
            "details": list(s.details),
            "turns": self.turns,
        }


Span = tuple[int, int]
PhraseFinder = Callable[[str, Sequence[Span]], list[str]]


def noun_phrases(text: str, skip: Sequence[Span] = ()) -> list[str]:
    """Subject noun phrases of a question, in order: Korean by Kiwi's parts of speech, English
    as runs of words between function and question words. Words inside `skip` (places,
    periods) break phrases and are left out."""
    if is_korean(text):
        return _korean_phrases(text, skip)
    return _english_phrases(text, skip)


def _inside(start: int, end: int, skip: Sequence[Span]) -> bool:
    return any(start < b and a < end for a, b in skip)


def _korean_phrases(text: str, skip: Sequence[Span]) -> list[str]:
    phrases: list[str] = []
    run: list[Any] = []
    pending: list[Any] = []  # a hyphen or middle dot between two nouns ("K-패스", "A·B")

    def close() -> None:
        words = [t for t in run if str(t.form) not in _GENERIC_KO and str(t.tag) != "NNB"]
        # Framing nouns at either end go; the phrase is kept as written between its first and
        # last subject noun ("5극3특 전략").
        if words and not all(str(t.tag).startswith(("SN", "NR")) for t in words):
            first, last = words[0], words[-1]
            phrases.append(text[first.start : last.start + last.len].strip())
        run.clear()
        pending.clear()

    for token in _kiwi_tokens(text):
        tag = str(token.tag)
        end = token.start + token.len
        if _inside(token.start, end, skip):
            close()
        elif tag.startswith(_KO_NOUN_TAGS):
            if run:
                last = (pending or run)[-1]
                if text[last.start + last.len : token.start].strip():
                    close()
            run.extend(pending)
            pending.clear()
            run.append(token)
        elif run and tag.startswith(("SO", "SP")) and str(token.form) in "-·/":
            pending.append(token)
        else:
            close()
    close()
    return [p for p in phrases if p]


def _kiwi_tokens(text: str) -> list[Any]:
    from policyqa.index.lexical import shared_kiwi

    return list(shared_kiwi().tokenize(text))


def _english_phrases(text: str, skip: Sequence[Span]) -> list[str]:
    phrases: list[str] = []
    run: list[str] = []
    pending: list[str] = []  # joiners waiting for a content word after them
    for match in _EN_WORD.finditer(text):
        word = match.group(0).rstrip(".,;:?!'’")
        lower = word.lower()
        if lower in _EN_JOINERS and run and not _inside(match.start(), match.end(), skip):
            pending.append(word)
        elif not word or lower in _GENERIC_EN or _inside(match.start(), match.end(), skip):
            if run:
                phrases.append(" ".join(run))
            run, pending = [], []
        else:
            run.extend(pending)
            pending = []
            run.append(word)
    if run:
        phrases.append(" ".join(run))
    return phrases


def subject_of(
    question: str,
    domain: DomainPack | None,
    documents: Sequence[str] = (),
    phrases: PhraseFinder = noun_phrases,
) -> Subject:
    """The subject of one question on its own."""
    places = domain.find_places(question) if domain is not None else []
    periods = list(PERIOD.finditer(question))
    cue = _cue_length(question)
    skip = [(0, cue)] + [(m.start, m.start + len(m.mention)) for m in places]
    skip += [m.span() for m in periods]
    details = sorted(qtype.asked_details(question))
    return Subject(
        places=tuple(dict.fromkeys(m.mention for m in places)),
        areas=tuple(dict.fromkeys(m.area for m in places)),
        documents=tuple(documents),
        periods=tuple(dict.fromkeys(m.group(0).strip() for m in periods)),
        programme=tuple(dict.fromkeys(p for p in phrases(question, skip) if p)),
        details=tuple(details),
        asking=" ".join(qtype.asking_words(question)),
    )


def _cue_length(question: str) -> int:
    pattern = _CUE_KO if is_korean(question) else _CUE_EN
    match = pattern.match(question)
    return match.end() if match else 0


def _strip_cues(question: str) -> str:
    return question[_cue_length(question) :]


_ASKS_EN = _words(
    """
    what which who whom whose how when where why is are was were do does did can could will
    would should has have had
    """
)
_KO_PREDICATE = ("VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA")
_KO_ASKING = _words("뭐 무엇 무슨 어디 언제 누구 누가 왜 몇 얼마 어떤 어느 어떻")


def is_bare(question: str) -> bool:
    """A follow-up that names things and asks nothing of its own ("교통은요?", "And jobs?",
    "What about Gangwon?"): it asks what the question before it asked."""
    body = _strip_cues(question)
    if is_korean(body):
        return not any(
            str(t.tag).startswith(_KO_PREDICATE) or str(t.form) in _KO_ASKING
            for t in _kiwi_tokens(body)
        )
    return not any(w.lower() in _ASKS_EN for w in re.findall(r"[A-Za-z']+", body))


def follows_on(question: str, own: Subject, state: ConversationState) -> bool:
    """Whether `question` leans on the conversation: it opens with a follow-up cue, points back
    ("그 법안", "that report"), or is too short to stand alone."""
    from policyqa.answering.condense import needs_context

    return state.turns > 0 and (needs_context(question) or not own.programme)


def next_state(
    question: str,
    state: ConversationState,
    domain: DomainPack | None,
    documents: Sequence[str] = (),
    phrases: PhraseFinder = noun_phrases,
) -> ConversationState:
    """The conversation after `question`: its subject, inherited where the question leaves a
    part out, and the question as it is searched (`standalone`)."""
    own = subject_of(question, domain, documents, phrases)
    if not follows_on(question, own, state):
        return ConversationState(own, question, state.turns + 1)
    before = state.subject
    subject = Subject(
        places=own.places or before.places,
        areas=own.areas or before.areas,
        documents=own.documents or before.documents,
        periods=own.periods or before.periods,
        programme=before.programme or own.programme,
        # A follow-up with phrases of its own ("그럼 일자리는요?") changes the focus; one that
        # only swaps a place or a year ("강원은요?") keeps it.
        focus=own.programme if before.programme else before.focus,
        details=own.details or before.details,
        asking=own.asking if own.details else before.asking,
    )
    if not own.programme and is_bare(question):
        standalone = _swapped(state.standalone, before, own)
    else:
        # A focus of its own ("그럼 일자리는요?"), or something new asked about the same
        # subject ("그건 언제 발표됐어요?"): built from the subject, so it stays as short
        # after ten turns as after two.
        standalone = _composed(question, subject)
    return ConversationState(subject, standalone, state.turns + 1)


def _swapped(previous: str, before: Subject, own: Subject) -> str:
    """The previous question with the follow-up's places and periods in place of its own;
    what has no counterpart there is added."""
    text = previous
    added: list[str] = []
    for old, new in ((before.places, own.places), (before.periods, own.periods)):
        if not new:
            continue
        present = [o for o in old if o and o in text]
        if present:
            for o in present[1:]:
                text = text.replace(o, "").replace("  ", " ")
            text = text.replace(present[0], new[0])
            added.extend(new[1:])
        else:
            added.extend(new)
    return " ".join([text.strip(), *added]).strip()


def _composed(question: str, subject: Subject) -> str:
    """The conversation's places, programme and focus, then the follow-up as written (without
    its opening cue), then the periods and, for a bare follow-up, the way of asking."""
    body = _strip_cues(question).strip()
    parts = (*subject.places, *subject.programme, *subject.focus)
    lead = [p for p in dict.fromkeys(parts) if p not in body]
    tail = [p for p in subject.periods if p not in body]
    if is_bare(question) and subject.asking and subject.asking not in body:
        tail.append(subject.asking)
    return " ".join([*lead, body, *tail]).strip()


def replay(
    questions: Sequence[str],
    domain: DomainPack | None,
    phrases: PhraseFinder = noun_phrases,
) -> ConversationState:
    """The state after asking `questions` in turn (a conversation given as its history)."""
    state = ConversationState()
    for question in questions:
        state = next_state(question, state, domain, phrases=phrases)
    return state


def with_documents(state: ConversationState, documents: Sequence[str]) -> ConversationState:
    return replace(state, subject=replace(state.subject, documents=tuple(documents)))
