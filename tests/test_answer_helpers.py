"""Pure helpers of answering: 'not specified' detection, gaps sections, sentence selection."""

import dataclasses
import re

import pytest

from policyqa.answering.gaps import in_gaps_section, is_not_specified
from policyqa.answering.sentences import Candidate, select_sentences
from policyqa.answering.terms import QuestionTerms
from policyqa.core.models import Chunk, Passage
from policyqa.core.text import Span
from policyqa.core.tuning import SHOWN_SUPPORT
from policyqa.domain import load_domain

_STOP = frozenset(["the", "a", "an", "is", "are", "of", "for", "in", "to", "what", "when", "does"])


def _tokenize(text: str) -> list[str]:
    return [t for t in re.findall(r"\w+", text.lower()) if t not in _STOP]


def _idf(tokens: object) -> dict[str, float]:
    return {t: 1.0 for t in tokens}  # type: ignore[attr-defined]


def _terms(question: str) -> QuestionTerms:
    return QuestionTerms(question, _tokenize, _idf, domain=load_domain("korea"))


# -- is_not_specified ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The budget has not been specified.",
        "The opening date is not yet decided.",
        "The total cost is unknown.",
        "The documents do not say who chairs it.",
        "No figure has been reported for the second phase.",
        "예산 규모는 명시되지 않음",
        "사업비는 아직 확정되지 않았다.",
        "구체적인 일정은 미정이다.",
        "Public reports do not confirm whether the list was fixed.",
        "세종을 포함하는지는 확인할 수 없다.",
    ],
)
def test_not_specified_phrases_are_detected(text: str) -> None:
    assert is_not_specified(text)


@pytest.mark.parametrize(
    "text",
    [
        "The budget is 5 trillion won.",
        "The notified plan was published in 2024.",
        "예산은 5조원으로 확정되었다.",
    ],
)
def test_ordinary_statements_are_not_not_specified(text: str) -> None:
    assert not is_not_specified(text)


def test_long_table_row_never_counts_as_not_specified() -> None:
    row = "| Item | not specified | " + " | ".join(f"cell {i}" for i in range(40))
    assert len(row) > 260
    assert not is_not_specified(row)


def test_not_specified_clause_must_name_a_question_term() -> None:
    terms = _terms("What is the budget for the airport?")
    assert is_not_specified("The airport budget has not been specified.", terms)
    assert not is_not_specified("The ceremony date has not been specified.", terms)


def test_not_specified_in_another_clause_does_not_count() -> None:
    terms = _terms("What does the airport become?")
    text = (
        "The airport becomes a logistics hub, "
        "though whether the railway link passes is unconfirmed."
    )
    assert is_not_specified(text)  # without terms any such phrase counts
    assert not is_not_specified(text, terms)


def test_not_specified_clause_matching_a_translated_term_counts() -> None:
    terms = QuestionTerms("공항 예산은 얼마인가요?", _tokenize, _idf, translations=["budget"])
    assert "budget" in terms.translated
    assert is_not_specified("The budget has not been disclosed.", terms)


def test_question_form_words_are_not_subject_terms() -> None:
    assert set(_terms("How big is the harbour fund?").weights) >= {"harbour", "fund"}
    assert "big" not in _terms("How big is the harbour fund?").weights
    assert "strategy" not in _terms("What does this strategy mean for Jeju?").weights
    assert not any(t.startswith("정책") for t in _terms("이 정책의 목표는 뭐예요?").weights)
    assert any(t.startswith("정책") for t in _terms("교통 정책의 목표는 뭐예요?").weights)


def test_one_alternative_translation_is_enough() -> None:
    terms = QuestionTerms("목표가 뭐예요?", _tokenize, _idf, translations=[["target", "goal"]])
    # "target" alone meets the whole group: "goal" is another wording, not another term
    assert terms.coverage({"target"}) == pytest.approx(1.0)
    assert terms.coverage({"unrelated"}) == pytest.approx(0.0)


def test_region_in_question_is_a_region_term_not_a_word() -> None:
    terms = _terms("What is the budget for Changwon?")
    assert "changwon" not in terms.weights
    assert any("동남권" in names for names in terms.region_terms)
    assert is_not_specified("The budget for the Southeast pole has not been set.", terms)
    assert not is_not_specified(
        "Changwon opens a hydrogen hub in 2027, though the ceremony date is unconfirmed.", terms
    )


# -- in_gaps_section ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "section",
    [
        "5. Gaps in the public record",
        "Overview > 5. Gaps in the public record",
        "예산 > 미공개 사항",
    ],
)
def test_gaps_sections_are_recognised(section: str) -> None:
    assert in_gaps_section(section)


@pytest.mark.parametrize(
    "section", ["", "Overview", "5. Gaps in the public record > Details", "Budget > 2025 plan"]
)
def test_other_sections_are_not_gaps_sections(section: str) -> None:
    assert not in_gaps_section(section)


# -- select_sentences ---------------------------------------------------------------------------


def _cand(passage: int, start: int, text: str, score: float) -> Candidate:
    return Candidate(passage, Span(text, start), score, score, False)


def _ranked(*cands: Candidate) -> list[Candidate]:
    return sorted(cands, key=lambda c: (-c.score, c.passage_index, c.span.start))


def test_select_nothing_from_no_candidates_or_zero_scores() -> None:
    assert select_sentences([], _tokenize, 3) == []
    assert select_sentences([_cand(0, 0, "Budget rose sharply.", 0.0)], _tokenize, 3) == []


def test_select_skips_near_duplicates() -> None:
    cands = _ranked(
        _cand(0, 0, "The block grant budget rose to 5 trillion won.", 1.0),
        _cand(1, 0, "The block grant budget rose to 5 trillion won in total.", 0.95),
        _cand(0, 60, "Gangwon became a special province in 2023.", 0.9),
    )
    chosen = select_sentences(cands, _tokenize, 3)
    assert [c.span.text for c in chosen] == [
        "The block grant budget rose to 5 trillion won.",
        "Gangwon became a special province in 2023.",
    ]


def test_select_respects_max_sentences() -> None:
    cands = _ranked(
        _cand(0, 0, "Alpha beta gamma delta.", 1.0),
        _cand(0, 30, "Epsilon zeta eta theta.", 0.9),
        _cand(0, 60, "Iota kappa lambda mu.", 0.8),
    )
    assert len(select_sentences(cands, _tokenize, 2)) == 2
    assert len(select_sentences(cands, _tokenize, 1)) == 1


def test_select_drops_candidates_far_below_the_best() -> None:
    cands = _ranked(
        _cand(0, 0, "Alpha beta gamma delta.", 1.0),
        _cand(0, 30, "Epsilon zeta eta theta.", 0.5),
    )
    assert [c.span.text for c in select_sentences(cands, _tokenize, 3)] == [
        "Alpha beta gamma delta."
    ]


def test_select_respects_max_chars_after_the_first() -> None:
    long_text = "Epsilon " + "zeta " * 30 + "end."
    cands = _ranked(
        _cand(0, 0, "Alpha beta gamma delta.", 1.0),
        _cand(0, 30, long_text, 0.9),
        _cand(0, 300, "Iota kappa lambda mu.", 0.8),
    )
    chosen = select_sentences(cands, _tokenize, 3, max_chars=60)
    assert [c.span.text for c in chosen] == ["Alpha beta gamma delta.", "Iota kappa lambda mu."]


def test_select_returns_reading_order_grouped_by_passage() -> None:
    cands = _ranked(
        _cand(1, 50, "Block grants reach 5 trillion won.", 1.0),
        _cand(0, 10, "Gangwon became a special province.", 0.9),
        _cand(1, 0, "The committee approved the strategy.", 0.8),
    )
    chosen = select_sentences(cands, _tokenize, 3)
    assert [(c.passage_index, c.span.start) for c in chosen] == [(1, 0), (1, 50), (0, 10)]


# -- complete_sentences -----------------------------------------------------------------------


def _chunk(text: str, ordinal: int, outline: str = "") -> Chunk:
    return Chunk(
        id=f"d.pdf#p1#c{ordinal}",
        doc_id="d.pdf",
        title="D",
        page=1,
        page_label="1",
        section="1. Status",
        language="en",
        text=text,
        content_hash=str(ordinal),
        ordinal=ordinal,
        outline=outline,
    )


def test_sentences_cut_at_chunk_edges_are_completed_from_the_overlap() -> None:
    from policyqa.answering.completion import complete_sentences

    first = _chunk(
        "Jeju has held that status since 1 July 2006. Jeonbuk is the newest of the three "
        "special provinces, after Jeju and Gangwon",
        0,
    )
    second = _chunk(
        "newest of the three special provinces, after Jeju and Gangwon (since 11 June 2023). "
        "It is not part of the Honam pole.",
        1,
    )
    done = complete_sentences(first, None, second)
    assert done.text.endswith("after Jeju and Gangwon (since 11 June 2023).")
    done = complete_sentences(second, first, None)
    assert done.text.startswith("Jeonbuk is the newest of the three special provinces")
    assert done.text.endswith(second.text)
    # a chunk that starts and ends on sentence boundaries is left as it is
    whole = _chunk("It is not part of the Honam pole. It has its own sheet.", 2)
    assert complete_sentences(whole, second, None) is whole


def test_completion_moves_the_outline_with_the_text() -> None:
    import json

    from policyqa.answering.completion import complete_sentences
    from policyqa.ingest.split import section_at

    first = _chunk(
        "Intro sentence here. The launch took place in the harbour town of Seogwipo in the south",
        0,
    )
    text = (
        "took place in the harbour town of Seogwipo in the south in 2006.\n2. Later\n"
        "More text follows here."
    )
    outline = json.dumps([[0, "1. Status"], [text.index("2. Later"), "2. Later"]])
    second = _chunk(text, 1, outline=outline)
    done = complete_sentences(second, first, None)
    assert done.text.startswith("The launch took place")
    assert section_at(done, done.text.index("Seogwipo")) == "1. Status"
    assert section_at(done, done.text.index("More text")) == "2. Later"


def test_a_sentence_before_the_chunks_last_section_is_under_its_own() -> None:
    from policyqa.answering.sentences import span_section

    # packed from two sections; the chunk is filed under the second, a list of what is not given
    text = (
        "○ 핵심 목표: 잠재성장률 3% 이상\n## 3. 날짜가 특정되지 않은 사항\n- 시기는 기록되지 않음"
    )
    outline = '[[0, "2. 회의 요약 > ○ 핵심 목표"], [20, "3. 날짜가 특정되지 않은 사항"]]'
    chunk = _chunk(text, 0, outline)
    chunk = dataclasses.replace(chunk, section="3. 날짜가 특정되지 않은 사항")
    assert span_section(chunk, Span(text[:19], 0)) == "2. 회의 요약 > ○ 핵심 목표"
    assert not in_gaps_section(span_section(chunk, Span(text[:19], 0)))
    last = text.index("- 시기")
    assert in_gaps_section(span_section(chunk, Span(text[last:], last)))


def test_question_terms_without_a_translation_count_against_other_language_text() -> None:
    # "budget" translates, "defence" does not: a Korean sentence on a budget is not taken to
    # meet all of the question; a term written alike ("defence" in the text) meets it.
    terms = QuestionTerms(
        "defence budget GDP", _tokenize, _idf, translations=["예산"], untranslated=["defence"]
    )
    # "defence" is a third of the question: credited at the two thirds that translate
    assert terms.coverage({"예산"}) == pytest.approx((1 + 2 / 3) / 2)
    assert terms.coverage({"예산", "defence"}) == pytest.approx(1.0)
    # of the translated part only, as whether the documents speak of the subject is judged
    assert terms.coverage({"예산"}, whole=False) == pytest.approx(1.0)
    unknown = QuestionTerms("defence budget GDP", _tokenize, _idf, translations=["예산"])
    assert unknown.coverage({"예산"}) == pytest.approx(1.0)  # as before when nothing is known


def test_untranslated_words_are_those_whose_blanking_loses_no_translation() -> None:
    from types import SimpleNamespace

    from policyqa.answering.analysis import untranslated_words

    lexicon = {"special account": "특별계정", "budget": "예산"}

    def groups(text: str) -> tuple[tuple[str, ...], ...]:
        return tuple((ko,) for en, ko in lexicon.items() if en in text.lower())

    searcher = SimpleNamespace(translation_groups=groups)
    found = untranslated_words("How big is the special account budget in Jeju?", searcher)  # type: ignore[arg-type]
    assert found == ["How", "big", "is", "the", "in", "Jeju"]


def test_a_numbered_paragraphs_long_first_line_is_no_heading() -> None:
    from policyqa.answering.sentences import without_heading

    text = (
        "75.The request for a review will be initially considered by a Public Health\n"
        "Consultant/Specialist not involved in the original IFR application."
    )
    assert without_heading(Span(text, 0), text).text == text
    short = "2. Funding\nThe fund lends up to half of the cost of each project."
    assert without_heading(Span(short, 0), short).text.startswith("The fund lends")


def test_support_is_judged_on_the_sentences_shown() -> None:
    from types import SimpleNamespace

    from policyqa.answering.analysis import analyse
    from policyqa.answering.answerability import shown_support

    searcher = SimpleNamespace(tokenize=_tokenize, idf=_idf, translation_groups=lambda text: ())
    question = "Did regional GRDP rise by the end of 2026?"
    analysis = analyse(question, question, "en", searcher, load_domain("none"))  # type: ignore[arg-type]

    def shown(*texts: str) -> float:
        return shown_support([Candidate(0, Span(t, 0), 1.0, 1.0, False) for t in texts], analysis)

    # a passage may hold every word somewhere; the sentence shown holds one of them
    assert shown("In February 2026 the council announced fiscal measures.") < SHOWN_SUPPORT
    assert shown("Regional GRDP did rise by 2% by the end of 2026.") == pytest.approx(1.0)


def test_a_chunk_ending_with_a_lead_in_gets_the_items_that_follow_it() -> None:
    from policyqa.answering.completion import complete_sentences

    first = _chunk(
        "When will NHS England consider funding?\n"
        "NHS England will only provide funding if the case meets the following criteria:",
        0,
    )
    second = _chunk(
        "provide funding if the case meets the following criteria:\n"
        "• There is evidence of exceptional clinical circumstances;\n"
        "• the treatment is likely to be clinically effective.\n"
        "IFRs can be made for services NHS England commissions.",
        1,
    )
    done = complete_sentences(first, None, second)
    assert done.text.endswith(
        "criteria:\n• There is evidence of exceptional clinical circumstances;\n"
        "• the treatment is likely to be clinically effective."
    )
    # a chunk that ends with a full sentence gets nothing
    plain = _chunk("IFRs can be made for services NHS England commissions.", 2)
    assert complete_sentences(plain, None, second) is plain


def test_a_field_whose_label_is_what_is_asked_carries_the_detail() -> None:
    from policyqa.answering.sentences import _field_asked

    def tokenize(text: str) -> list[str]:
        return re.findall(r"사업|기간|시행|주체|수혜자|목적|\w+", text)

    terms = QuestionTerms("두 사업의 사업기간은 어떻게 되는가?", tokenize, _idf)
    assert _field_asked("- 사업기간 : ’22년~‘24년(3년 한시사업)", terms)
    assert not _field_asked("- 사업시행주체 : 한국토지주택공사, 지방공사", terms)
    assert not _field_asked("사업기간이 끝나면 평가한다.", terms)  # no label
    # a label followed by a statement is a sentence like any other
    assert not _field_asked("- 사업기간: 보도에 따르면 사업기간은 3년으로 제시되었다.", terms)


def test_select_keeps_other_documents_only_when_about_the_question_as_much() -> None:
    def passage(doc: str) -> Passage:
        return Passage(Chunk(f"{doc}-1", doc, doc, 1, "1", "", "en", "", "h"), 1.0, 1)

    passages = [passage("budget-ko"), passage("speech-en"), passage("budget-ko")]
    best = Candidate(0, Span("| 청년일자리 | 2024년 확정: 657,680 |", 0), 1.0, 0.4, True)
    unrelated = Candidate(1, Span("We built a stronger pool of startups.", 0), 0.8, 0.1, False)
    same_doc = Candidate(2, Span("| 청년일자리 | 사업기간: 2018년~ |", 0), 0.7, 0.1, True)
    related = Candidate(1, Span("Youth job support was cut in 2024.", 50), 0.7, 0.3, False)
    chosen = select_sentences([best, unrelated, same_doc, related], _tokenize, 4, passages=passages)
    assert [c.span.text for c in chosen] == [
        best.span.text,
        same_doc.span.text,
        related.span.text,
    ]
    # without the passages (no documents to compare) every close sentence is kept
    assert unrelated in select_sentences([best, unrelated], _tokenize, 4)
