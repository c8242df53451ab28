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


def _analysis(question: str):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from policyqa.answering.analysis import analyse
    from policyqa.domain import load_domain

    searcher = SimpleNamespace(
        tokenize=lambda text: [w.lower().strip(".,?$") for w in text.split()],
        idf=lambda tokens: dict.fromkeys(tokens, 1.0),
        translation_groups=lambda text: (),
    )
    return analyse(question, question, "en", searcher, load_domain("none"))  # type: ignore[arg-type]


VOUCHERS = (
    "a. First, I will provide $800 in CDC Vouchers to every household.\n\n"
    "i. The first $500 will be disbursed in May this year. And the remaining $300 will be "
    "disbursed in January next year.\n\nii. Half can be used at supermarkets."
)


def test_sentences_right_after_give_the_kind_of_detail_no_chosen_sentence_gives() -> None:
    from policyqa.answering.coherence import with_following_details

    analysis = _analysis("How much in CDC Vouchers will a household get, and when are they paid?")
    passages = [_passage(VOUCHERS)]
    chosen = [
        _candidate(VOUCHERS, "First, I will provide $800 in CDC Vouchers to every household.")
    ]
    shown = with_following_details(chosen, passages, analysis)
    assert [c.span.text for c in shown][1:] == [
        "The first $500 will be disbursed in May this year.",
        "And the remaining $300 will be disbursed in January next year.",
    ]
    # nothing is added when the chosen sentences give every kind asked, or none is asked
    assert with_following_details(shown, passages, analysis) == shown
    plain = _analysis("Who can use CDC Vouchers?")
    assert with_following_details(chosen, passages, plain) == chosen


def test_the_sentence_giving_the_detail_asked_wins_over_background() -> None:
    from policyqa.answering.answerability import detail_elsewhere

    analysis = _analysis("When was the Local Era Committee launched?")
    text = (
        "The Local Era Committee reviews budgets. "
        "The Local Era Committee was launched on 10 July 2023 by a merger. "
        "The committee was launched with a new name."
    )
    passages = [_passage(text)]

    def cand(sentence: str, coverage: float) -> Candidate:
        start = text.index(sentence)
        return Candidate(0, Span(sentence, start), coverage, coverage, True, coverage)

    background = cand("The Local Era Committee reviews budgets.", 0.6)
    dated = cand("The Local Era Committee was launched on 10 July 2023 by a merger.", 0.8)
    weak = cand("The committee was launched with a new name.", 0.3)
    assert detail_elsewhere([background], [background, weak, dated], analysis, passages) is dated
    # none when the only sentence giving it is less about the question than those chosen
    assert detail_elsewhere([dated], [dated, background], _analysis("When?"), passages) is None
    assert detail_elsewhere([background], [background, weak], analysis, passages) is None


def test_a_sentence_is_shown_with_the_proviso_that_follows_it() -> None:
    from policyqa.answering.coherence import with_continuations

    text = (
        "① 생계급여는 금전을 지급하는 것으로 한다. 다만, 금전으로 지급할 수 없으면 물품을 "
        "지급할 수 있다. ② 수급품은 매월 지급한다."
    )
    passages = [_passage(text)]
    first = _candidate(text, "① 생계급여는 금전을 지급하는 것으로 한다.")
    monthly = _candidate(text, "② 수급품은 매월 지급한다.")
    shown = with_continuations([first, monthly], passages)
    assert [c.span.text for c in shown] == [
        first.span.text,
        "다만, 금전으로 지급할 수 없으면 물품을 지급할 수 있다.",
        monthly.span.text,
    ]
    assert with_continuations([monthly], passages) == [monthly]


def test_a_sentence_ending_with_a_colon_is_shown_with_the_items_it_introduces() -> None:
    from policyqa.answering.coherence import with_introduced_items

    text = (
        "NHS England will fund a request only if it meets the following criteria:\n"
        "• the patient's circumstances are exceptional;\n"
        "• the treatment is clinically effective.\n"
        "Requests are screened first."
    )
    passages = [_passage(text)]
    lead = _candidate(
        text, "NHS England will fund a request only if it meets the following criteria:"
    )
    shown = with_introduced_items([lead], passages)
    assert [c.span.text for c in shown][1:] == [
        "• the patient's circumstances are exceptional;",
        "• the treatment is clinically effective.",
    ]
    plain = _candidate(text, "Requests are screened first.")
    assert with_introduced_items([plain], passages) == [plain]


def test_a_colon_lead_in_without_item_marks_is_shown_with_the_sentence_it_introduces() -> None:
    from policyqa.answering.coherence import with_introduced_items

    text = (
        "In its growth strategy the ministry used another regional split:\n"
        "Southeast, Southwest, Central, and Gangwon·Jeju.\n"
        "There Gangwon was paired with Jeju as one unit."
    )
    passages = [_passage(text)]
    lead = _candidate(text, "In its growth strategy the ministry used another regional split:")
    shown = with_introduced_items([lead], passages)
    assert [c.span.text for c in shown] == [
        "In its growth strategy the ministry used another regional split:",
        "Southeast, Southwest, Central, and Gangwon·Jeju.",
    ]
