"""The conversation's subject, followed over any number of turns (`answering.conversation`)."""

from __future__ import annotations

import pytest

from policyqa.answering.condense import follow_up
from policyqa.answering.conversation import (
    ConversationState,
    is_bare,
    next_state,
    noun_phrases,
    replay,
    subject_of,
)
from policyqa.domain import load_domain

KOREA = load_domain("korea")
NONE = load_domain("none")

CHAIN_KO = [
    "강원도에 사는데 5극3특 전략이 우리 지역에 어떤 의미가 있나요?",
    "그럼 일자리는요?",
    "교통은요?",
]
CHAIN_EN = [
    "I live in Gangwon. What does the 5 poles and 3 special provinces strategy mean for my region?",
    "And jobs?",
    "What about transport?",
]


def _states(questions: list[str], domain: object) -> list[ConversationState]:
    states, state = [], ConversationState()
    for question in questions:
        state = next_state(question, state, domain)  # type: ignore[arg-type]
        states.append(state)
    return states


@pytest.mark.parametrize("domain", [KOREA, NONE], ids=["korea", "none"])
@pytest.mark.parametrize(
    ("chain", "place", "programme", "foci"),
    [
        (CHAIN_KO, "강원도", "5극3특 전략", ["일자리", "교통"]),
        (CHAIN_EN, "Gangwon", "5 poles and 3 special provinces strategy", ["jobs", "transport"]),
    ],
    ids=["ko", "en"],
)
def test_three_turn_chain_keeps_place_and_programme(
    domain: object, chain: list[str], place: str, programme: str, foci: list[str]
) -> None:
    first, second, third = _states(chain, domain)
    assert first.standalone == chain[0]
    for state, focus in ((second, foci[0]), (third, foci[1])):
        assert place in state.standalone and programme in state.standalone
        assert focus in state.standalone
        assert state.subject.keywords() == [place, programme, focus]
    # The third turn replaces the focus of the second, it does not pile up.
    assert foci[0] not in third.standalone
    if domain is KOREA:
        assert third.subject.areas == ("gangwon",)


def test_the_subject_survives_many_turns_and_stays_short() -> None:
    questions = [CHAIN_KO[0]] + ["그럼 일자리는요?", "교통은요?", "주거는요?", "의료는요?"] * 3
    state = replay(questions, KOREA)
    assert state.turns == len(questions)
    assert state.standalone == "강원도 5극3특 전략 의료는요?"


def test_a_bare_follow_up_swaps_the_year_and_keeps_the_way_of_asking() -> None:
    states = _states(["포괄보조는 2026년에 얼마로 늘어나나요?", "그럼 2025년에는?"], NONE)
    assert states[1].standalone == "포괄보조는 2025년에 얼마로 늘어나나요?"
    assert states[1].subject.periods == ("2025년",)
    assert states[1].subject.details == ("amount",)


def test_a_new_focus_inherits_the_kind_of_detail_asked() -> None:
    states = _states(["How much will block grants grow in 2026?", "And transport subsidies?"], NONE)
    last = states[1]
    assert last.subject.details == ("amount",)
    assert "transport subsidies" in last.standalone and "2026" in last.standalone
    assert last.standalone.endswith("How much")


def test_a_follow_up_asking_something_new_does_not_inherit_the_way_of_asking() -> None:
    states = _states(["포괄보조는 2026년에 얼마로 늘어나나요?", "그건 언제 발표됐어요?"], NONE)
    assert states[1].subject.details == ("date",)
    assert states[1].standalone == "포괄보조 언제 발표됐어요? 2026년"


def test_a_self_contained_question_starts_a_new_subject() -> None:
    states = _states([CHAIN_KO[0], "포괄보조는 2026년에 얼마로 늘어나나요?"], KOREA)
    assert states[1].standalone == "포괄보조는 2026년에 얼마로 늘어나나요?"
    assert states[1].subject.areas == ()


def test_documents_are_recorded_and_inherited() -> None:
    state = follow_up(CHAIN_KO[0], [], KOREA, documents=["region-gangwon-en.pdf"])
    assert state.subject.documents == ("region-gangwon-en.pdf",)
    later = next_state("교통은요?", state, KOREA)
    assert later.subject.documents == ("region-gangwon-en.pdf",)
    assert later.to_json()["documents"] == ["region-gangwon-en.pdf"]


def test_subject_parts_are_found_by_form() -> None:
    subject = subject_of("춘천의 2026년 상반기 청년 일자리 예산은 얼마인가요?", KOREA)
    assert subject.places == ("춘천",) and subject.areas == ("gangwon",)
    assert subject.periods == ("2026년 상반기",)
    assert "청년 일자리 예산" in subject.programme
    assert subject.details == ("amount",) and subject.asking == "얼마"
    assert noun_phrases("What is the budget of the national balanced growth strategy?") == [
        "budget",
        "national balanced growth strategy",
    ]


@pytest.mark.parametrize(
    ("question", "bare"),
    [
        ("교통은요?", True),
        ("그럼 일자리는요?", True),
        ("What about Gangwon?", True),
        ("And jobs?", True),
        ("그건 언제 발표됐어요?", False),
        ("So where does Jeonbuk fit in, then?", False),
    ],
)
def test_bare_follow_ups(question: str, bare: bool) -> None:
    assert is_bare(question) is bare
