"""Quotes that read right on their own: antecedents of pointing-back sentences, gap items."""

from __future__ import annotations

from policyqa.answering.coherence import (
    points_back,
    previous_sentence,
    with_antecedents,
    without_gap_items,
)
from policyqa.answering.sentences import Candidate
from policyqa.core.models import Chunk, Passage
from policyqa.core.text import Span

GROUPING = (
    "2. A different grouping\n"
    "The finance ministry's strategy of 22 August 2025 used a different regional split:\n"
    "Southeast, Southwest, Central, and Gangwon·Jeju. That grouping put Jeju and Gangwon "
    "together in one unit.\nGangwon is treated as a special province in its own right."
)


def _passage(text: str, section: str = "") -> Passage:
    return Passage(Chunk("c", "d", "Title", 1, "1", section, "en", text, "h"), 1.0, 1)


def _candidate(text: str, sentence: str) -> Candidate:
    start = text.index(sentence)
    return Candidate(0, Span(sentence, start), 1.0, 1.0, False, 1.0)


def test_pointing_back_openers() -> None:
    for text in ("That grouping put Jeju first.", "They apply from 2026.", "- It was set up."):
        assert points_back(text), text
    korean = ("이는 2024년부터 시행된다.", "이 사업은 융자를 지원한다.", "• 그러나 예산은 줄었다.")
    for text in korean:
        assert points_back(text), text
    plain = ("Thailand is not named.", "Items: none.", "이용 대상은 청년이다.", "동 사업은 융자다.")
    for text in plain:
        assert not points_back(text), text


def test_a_pointing_back_sentence_comes_with_its_antecedent() -> None:
    passages = [_passage(GROUPING)]
    pointing = _candidate(GROUPING, "That grouping put Jeju and Gangwon together in one unit.")
    after = _candidate(GROUPING, "Gangwon is treated as a special province in its own right.")
    shown = with_antecedents([pointing, after], passages)
    assert [c.span.text for c in shown] == [
        "The finance ministry's strategy of 22 August 2025 used a different regional split:\n"
        "Southeast, Southwest, Central, and Gangwon·Jeju.",
        pointing.span.text,
        after.span.text,
    ]
    # shown once when it is chosen already
    assert len(with_antecedents(shown, passages)) == 3


def test_a_pointing_back_sentence_without_antecedent_is_left_out() -> None:
    text = "They apply from 2026 to every region.\nBlock grants grow to KRW 10.6 trillion."
    passages = [_passage(text)]
    alone = _candidate(text, "They apply from 2026 to every region.")
    other = _candidate(text, "Block grants grow to KRW 10.6 trillion.")
    assert previous_sentence(text, alone.span) is None
    assert with_antecedents([alone, other], passages) == [other]
    assert with_antecedents([alone], passages) == [alone]  # unless it is all there is


def test_items_of_a_not_specified_list_are_not_quoted_as_facts() -> None:
    text = "- the executing ministry of the block grants\n- the size of the account"
    gap = _passage(text, "Budget > Not specified in the public record")
    fact = _passage("Block grants grow to KRW 10.6 trillion in 2026.")
    item = _candidate(text, "- the executing ministry of the block grants")
    figure = Candidate(1, Span("Block grants grow to KRW 10.6 trillion in 2026.", 0), 1, 1, False)
    assert without_gap_items([item, figure], [gap, fact]) == [figure]
    assert without_gap_items([item], [gap, fact]) == [item]  # a refusal quotes it (stated_gap)


def test_a_piece_of_the_antecedent_chosen_by_itself_is_shown_once() -> None:
    passages = [_passage(GROUPING)]
    piece = _candidate(GROUPING, "Southeast, Southwest, Central, and Gangwon·Jeju.")
    pointing = _candidate(GROUPING, "That grouping put Jeju and Gangwon together in one unit.")
    shown = with_antecedents([piece, pointing], passages)
    assert [c.span.text for c in shown] == [
        "The finance ministry's strategy of 22 August 2025 used a different regional split:\n"
        "Southeast, Southwest, Central, and Gangwon·Jeju.",
        pointing.span.text,
    ]
