"""Notes under an answer that depend only on its citations."""

from policyqa.answering.answer import Answer
from policyqa.answering.notes import unit_notes
from policyqa.answering.verify import Citation


def _answer(*quotes: tuple[str, str]) -> Answer:
    citations = [
        Citation(n, f"c{n}", "d.pdf", "Title", 1, "1", "", quote, language)
        for n, (quote, language) in enumerate(quotes, start=1)
    ]
    return Answer("q", "q", "", True, "en", citations=citations)


def test_an_english_answer_quoting_korean_amounts_says_what_their_units_are() -> None:
    answer = _answer(
        ("| 생계급여 | 2024년 확정: 7,541,072 | (단위: 백만원, %) |", "ko"),
        ("포괄보조는 2026년 10.6조원으로 늘어난다.", "ko"),
        ("Block grants grow to KRW 10.6 trillion.", "en"),
    )
    assert unit_notes(answer, "en") == [
        "Korean amounts in the quotes: 백만원 = million won; 조원 = trillion won."
    ]


def test_no_unit_note_without_korean_amounts_or_for_a_korean_answer() -> None:
    words = _answer(("지원 원칙은 3개 원칙으로 정리된다.", "ko"), ("It costs $5 million.", "en"))
    assert unit_notes(words, "en") == []
    amounts = _answer(("예산은 657,680백만원이다.", "ko"))
    assert unit_notes(amounts, "ko") == []
