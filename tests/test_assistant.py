"""The assistant on hostile input: odd and unaskable questions, lone surrogates, and documents
that carry citation markers of their own."""

from __future__ import annotations

import json
import re

import pytest

from policyqa.answering.answer import MAX_QUESTION_CHARS, AnswerError
from policyqa.app.render import render_answer, render_sources
from policyqa.pipeline import Pipeline

from .conftest import (
    ODD_QUESTIONS,
    _assert_inert,
)


@pytest.mark.parametrize("question", ODD_QUESTIONS.values(), ids=ODD_QUESTIONS.keys())
def test_assistant_answers_or_refuses_odd_questions(served: Pipeline, question: str) -> None:
    answer = served.ask(question)
    assert isinstance(answer.answered, bool) and answer.text.strip()
    json.dumps(answer.to_json(), ensure_ascii=False).encode("utf-8")  # serialisable as UTF-8
    _assert_inert(render_answer(answer))
    _assert_inert(render_sources(answer))


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\u00a0\u3000\u2003", "empty"),
        ("\x00\x01\x02", "empty"),
        ("\u200d\u2060\u00ad\u200b", "empty"),  # invisible characters are dropped
        ("가" * 100_000, "너무 깁니다"),
        ("포괄보조 " * (MAX_QUESTION_CHARS // 5 + 1), "너무 깁니다"),
    ],
    ids=[
        "empty",
        "whitespace",
        "unicode-spaces",
        "control-only",
        "zero-width",
        "100kB",
        "over-limit",
    ],
)
def test_assistant_rejects_unaskable_questions_clearly(
    served: Pipeline, question: str, message: str
) -> None:
    with pytest.raises(AnswerError, match=message):
        served.ask(question)


def test_assistant_lone_surrogate_is_cleaned_or_refused(served: Pipeline) -> None:
    try:
        answer = served.ask("\ud800 포괄보조는 얼마?")
    except AnswerError:
        return
    json.dumps(answer.to_json(), ensure_ascii=False).encode("utf-8")


# "[n]" written in a document is not a citation marker of the answer: the answer keeps the
# part that answers the question, and every citation quotes real text.
def test_fake_citation_markers_in_a_document_do_not_corrupt_citations(served: Pipeline) -> None:
    answer = served.ask("When does the harbour ferry timetable change?")
    assert answer.answered
    for citation in answer.citations:
        assert re.search(r"\w", citation.quote), f"citation quotes {citation.quote!r}"
    assert "timetable changes in spring" in answer.text, answer.text
    assert not re.search(r"\[\d+\]\s*\.", answer.text), answer.text
