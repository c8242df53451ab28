"""Rule-based condensing of follow-up questions."""

import pytest

from policyqa.answering.condense import condense, format_history, last_user_question, needs_context
from policyqa.domain import load_domain

JEJU = "When did Jeju become a special self-governing province?"
HISTORY_EN = [
    {"role": "user", "content": JEJU},
    {"role": "assistant", "content": "In 2006 [1]."},
]
SAEMANGEUM = "새만금 개발 사업의 총사업비는 얼마인가요?"
HISTORY_KO = [
    {"role": "user", "content": SAEMANGEUM},
    {"role": "assistant", "content": "총사업비는 22조원입니다 [1]."},
]

KOREA = load_domain("korea")


@pytest.mark.parametrize(
    "question",
    [
        "What about Gangwon?",
        "And what was the title of that report?",
        "Why?",
        "그중 국비는 얼마였고요?",
        "그 법안은 통과됐나요?",
        "강원은요?",
    ],
)
def test_follow_ups_need_context(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize(
    "question",
    [
        "What is the budget of the national balanced growth strategy for 2026?",
        "지방시대위원회는 언제 출범했고 위원장은 누구인가요?",
    ],
)
def test_self_contained_questions_need_no_context(question: str) -> None:
    assert not needs_context(question)


def test_region_swap_rewrites_previous_english_question() -> None:
    assert condense("What about Gangwon?", HISTORY_EN, KOREA) == (
        "When did Gangwon become a special self-governing province?"
    )


def test_region_swap_rewrites_previous_korean_question() -> None:
    history = [{"role": "user", "content": "제주 특별자치도는 언제 출범했나요?"}]
    assert condense("강원은요?", history, KOREA) == "강원 특별자치도는 언제 출범했나요?"
    # without a gazetteer nothing is known to be a place: "강원" is the follow-up's focus, with
    # the programme and the way of asking of the question before
    assert condense("강원은요?", history) == "제주 특별자치도 출범 강원은요? 언제"


def test_korean_follow_up_keeps_the_programme_of_the_question_before() -> None:
    assert (
        condense("그중 국비는 얼마였고요?", HISTORY_KO)
        == "새만금 개발 사업 사업비 국비는 얼마였고요?"
    )
    assert condense("그중 국비는 얼마였고요?", HISTORY_KO, KOREA) == (
        "새만금 개발 사업 사업비 국비는 얼마였고요?"
    )


def test_follow_up_with_a_focus_of_its_own_keeps_place_and_programme() -> None:
    question = "And what was the title of that report?"
    assert condense(question, HISTORY_EN, KOREA) == (
        "Jeju special self-governing province what was the title of that report?"
    )


def test_self_contained_question_is_unchanged() -> None:
    question = "What is the budget of the national balanced growth strategy for 2026?"
    assert condense(question, HISTORY_EN) == question


def test_no_history_leaves_question_unchanged() -> None:
    assert condense("What about Gangwon?", []) == "What about Gangwon?"


def test_history_without_user_turn_leaves_question_unchanged() -> None:
    history = [{"role": "assistant", "content": "Hello"}, {"role": "user", "content": "   "}]
    assert condense("What about Gangwon?", history) == "What about Gangwon?"


def test_last_user_question_skips_assistant_and_blank_turns() -> None:
    history = [
        {"role": "user", "content": " first "},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "  "},
    ]
    assert last_user_question(history) == "second"


def test_format_history_labels_roles_and_strips_content() -> None:
    assert format_history(HISTORY_EN) == f"User: {JEJU}\nAssistant: In 2006 [1]."


def test_format_history_keeps_only_the_last_turns() -> None:
    history = [{"role": "user", "content": str(i)} for i in range(10)]
    assert format_history(history, limit=3) == "User: 7\nUser: 8\nUser: 9"
    assert format_history([]) == ""
