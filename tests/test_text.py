"""Plain text helpers: sentence spans, normalisation, numbers."""

from policyqa.core.text import (
    Span,
    clean_question,
    collapse,
    normalise_for_match,
    number_supported,
    numbers_in,
    sentence_spans,
)

MIXED = (
    "The committee approved the plan\n"
    "for regional growth in 2025.\n"
    "- First bullet item here\n"
    "- Second bullet item here\n"
    "| Region | Budget 1,400 |\n"
    "| Gangwon | 300 won |\n"
    "Short.\n"
    "\n"
    "Another paragraph sentence one. Sentence two follows here!"
)


def _texts(text: str, **kwargs: int) -> list[str]:
    return [span.text for span in sentence_spans(text, **kwargs)]


# -- sentence_spans ----------------------------------------------------------------------------


def test_sentence_spans_are_exact_substrings_at_their_offsets() -> None:
    spans = sentence_spans(MIXED)
    assert spans
    for span in spans:
        assert MIXED[span.start : span.start + len(span.text)] == span.text


def test_sentence_spans_offsets_correct_for_korean_and_indented_text() -> None:
    text = (
        "  가. 추진 배경\n   지방시대위원회는 균형발전을 위해\n"
        "새로운 전략을 발표했다.  \n\n  - 포괄보조 확대 추진\n"
    )
    spans = sentence_spans(text)
    assert spans
    for span in spans:
        assert text[span.start : span.start + len(span.text)] == span.text
        assert span.text == span.text.strip()


def test_wrapped_pdf_lines_are_joined_into_one_sentence() -> None:
    spans = sentence_spans(MIXED)
    assert spans[0] == Span("The committee approved the plan\nfor regional growth in 2025.", 0)


def test_wrapped_korean_lines_are_joined_and_short_heading_dropped() -> None:
    text = (
        "가. 추진 배경\n지방시대 위원회는 균형발전을 위해\n새로운 전략을 발표했다.\n나. 주요 내용"
    )
    assert _texts(text) == ["지방시대 위원회는 균형발전을 위해\n새로운 전략을 발표했다."]


def test_bullets_and_table_rows_stay_separate_units() -> None:
    texts = _texts(MIXED)
    assert "- First bullet item here" in texts
    assert "- Second bullet item here" in texts
    assert "| Region | Budget 1,400 |" in texts
    assert "| Gangwon | 300 won |" in texts


def test_numbered_list_items_are_not_joined_to_the_previous_line() -> None:
    text = (
        "The strategy has three parts\n"
        "1. Expand block grants to provinces\n"
        "2) Relocate public institutions"
    )
    texts = _texts(text)
    assert texts[0] == "The strategy has three parts"
    # "1." followed by a space is also a sentence break, so the item may lose its number prefix
    assert texts[1].endswith("Expand block grants to provinces")
    assert "three parts" not in texts[1]
    assert texts[2] == "2) Relocate public institutions"
    assert len(texts) == 3


def test_sentences_within_a_paragraph_are_split() -> None:
    texts = _texts(MIXED)
    assert "Another paragraph sentence one." in texts
    assert "Sentence two follows here!" in texts


def test_short_fragments_are_dropped_unless_min_chars_lowered() -> None:
    assert "Short." not in _texts(MIXED)
    assert "Short." in _texts(MIXED, min_chars=1)


def test_sentence_spans_of_empty_text_is_empty() -> None:
    assert sentence_spans("") == []
    assert sentence_spans("\n\n   \n") == []


# -- collapse / clean_question / normalise_for_match --------------------------------------------


def test_collapse_joins_whitespace_runs_and_strips() -> None:
    assert collapse("  a \n b\t\tc\r\n") == "a b c"
    assert collapse("") == ""


def test_clean_question_removes_control_and_zero_width_characters() -> None:
    # control characters become spaces; invisible ones join what they split ("포괄\u200b보조")
    assert clean_question("a\x00b\u200bc\x7fd\ufeffe") == "a bc de"
    assert clean_question("포괄\u200b보조") == "포괄보조"


def test_clean_question_collapses_whitespace() -> None:
    assert clean_question("  What   is\n\tthe budget?  ") == "What is the budget?"


def test_clean_question_normalises_to_nfc() -> None:
    assert clean_question("\u1100\u1161") == "가"  # conjoining jamo -> precomposed syllable
    assert clean_question("cafe\u0301") == "caf\u00e9"


def test_normalise_for_match_ignores_case_spaces_separators_and_quotes() -> None:
    assert normalise_for_match("Total 1,400 Won") == normalise_for_match("total1400won")
    assert normalise_for_match("“Big·Data” – ‘AI’") == "\"bigdata\"'ai'"


def test_normalise_for_match_applies_nfkc_to_fullwidth_digits() -> None:
    assert normalise_for_match("１，４００억원") == normalise_for_match("1400억원")


# -- numbers ------------------------------------------------------------------------------------


def test_numbers_in_drops_thousands_separators() -> None:
    assert numbers_in("Budget of 1,400 billion won") == ["1400"]
    assert numbers_in("1,234,567 people") == ["1234567"]


def test_numbers_in_keeps_decimals_and_strips_trailing_stop() -> None:
    assert numbers_in("Growth was 10.6% in 2025.") == ["10.6", "2025"]


def test_numbers_in_ignores_citation_markers() -> None:
    assert numbers_in("The plan passed [3].") == []
    assert numbers_in("It cost 5 won [1, 2][4] and took 2 years [1-3]") == ["5", "2"]


def test_number_supported_matches_written_variants() -> None:
    assert number_supported("1400", "총 1,400억원 규모")
    assert number_supported("10.60", "rate of 10.6 percent")
    assert number_supported("3", "3.0 trillion")
    assert number_supported("007", "case 7")


def test_number_supported_does_not_match_inside_other_numbers() -> None:
    assert not number_supported("5", "15 projects in 2025")
    assert not number_supported("1400", "1,500 billion")
    assert not number_supported("3", "see passage [3]")


def test_a_table_row_is_one_span_even_with_full_stops_inside() -> None:
    row = "| 2019-01-29 | 계획 의결. 총 175조원(국비 113조) | 공개 보도 |"
    spans = sentence_spans(f"앞 문장입니다.\n{row}\n")
    assert [s.text for s in spans][-1] == row


def test_table_cells_extracted_one_per_line_are_not_joined_into_one_sentence() -> None:
    page = (
        "3. Summary table\n Measure\n What it does\n Figures\nRegional unions\n"
        "Support for unions\nof 2 to 3 governments\n2 to 3\n"
        "The table lists what the reports give, and\nnothing else.\n"
    )
    texts = [s.text for s in sentence_spans(page)]
    assert all("What it does" not in t or len(t) < 40 for t in texts), texts
    # a wrapped prose sentence is still joined
    assert any(t.startswith("The table lists") and t.endswith("nothing else.") for t in texts)


def test_a_colon_inside_an_open_parenthesis_ends_no_sentence() -> None:
    from policyqa.core.text import sentence_spans

    text = (
        'Area. "economic sphere: growth" (경제권:\n성장과 집중), the first of three areas.\n'
        "Next one."
    )
    spans = [s.text for s in sentence_spans(text)]
    assert '"economic sphere: growth" (경제권:\n성장과 집중), the first of three areas.' in spans


def test_topic_particle_follows_the_last_syllable() -> None:
    from policyqa.core.text import with_topic_particle

    assert with_topic_particle("춘천") == "춘천은"
    assert with_topic_particle("목포") == "목포는"
    assert with_topic_particle("수원시") == "수원시는"
    assert with_topic_particle("Jeju") == "Jeju은(는)"


def test_a_label_cell_and_its_date_or_figure_cell_stay_one_record() -> None:
    page = (
        "Status of the province.\n Item\n Detail\nFounding law\nEnacted in December 2022\n"
        "Launch as special province\n18 January 2024\n"
        "The four fields are not listed.\n"
    )
    texts = [s.text for s in sentence_spans(page)]
    assert "Launch as special province\n18 January 2024" in texts, texts
    assert "Founding law\nEnacted in December 2022" in texts, texts
    # prose is untouched
    assert "The four fields are not listed." in texts
    korean = "추진 시기\n2026년 상반기\n담당 부처\n행정안전부\n"
    assert "추진 시기\n2026년 상반기" in [s.text for s in sentence_spans(korean)]


def test_a_two_column_table_reads_as_label_and_value_records() -> None:
    page = (
        "1. 한눈에 보기\n 항목\n 내용\n명칭\n5극3특 국가균형성장 추진전략 설계도\n"
        "의결\n2025년 9월 30일 지방시대위원회 전체회의\n"
        "공간 구상\n수도권 일극 체제를 5개 초광역권(5극)과 3개 특별자치도(3특)로 재편\n"
        "2. 제1차 전체회의\n"
    )
    texts = [s.text for s in sentence_spans(page)]
    assert "의결\n2025년 9월 30일 지방시대위원회 전체회의" in texts, texts
    assert "공간 구상\n수도권 일극 체제를 5개 초광역권(5극)과 3개 특별자치도(3특)로 재편" in texts
    # a short last cell before a paragraph does not swallow the paragraph's first line
    after = (
        "Item\nDetail\nStatus\nNone reported\nThe four fields of the special provisions are "
        "not listed in the reports used for\nthis sheet.\n"
    )
    texts = [s.text for s in sentence_spans(after)]
    assert any(t.startswith("The four fields") and t.endswith("this sheet.") for t in texts), texts


def test_question_language_is_the_language_of_most_words() -> None:
    from policyqa.core.language import question_language

    assert question_language("What is 초광역특별협약?") == "en"
    assert question_language("What is the 2024 budget for the basic pension (기초연금)?") == "en"
    assert question_language("RISE 사업 예산은 얼마인가요?") == "ko"
    assert question_language("Gangwon 예산은?") == "ko"  # a tie: the predicate is Korean
    assert question_language("포괄보조 block grants?") == "en"
    assert question_language("2026?") == "ko"


def test_table_and_title_structure_helpers() -> None:
    from policyqa.core.structure import (
        has_letters,
        is_contents_entry,
        is_figure_row,
        is_letter_spaced,
        is_value_cell,
        is_year_heading,
        reads_as_sentence,
        unit_note,
    )

    assert all(is_value_cell(t) for t in ["1,477,009", "△26.0", "(63.6)", "[341,802]", "100%", "-"])
    assert not any(is_value_cell(t) for t in ["2024년 확정", "공개 자료에 없음", "○"])
    assert all(is_year_heading(t) for t in ["2024", "2024년", "’21년(실적)", "2024(안)", "FY2025"])
    assert not is_year_heading("657,680")
    assert is_figure_row("국세감면액 (A) 570,248 635,776 693,155")
    assert not is_figure_row("The plenary session of 30 September 2025")
    assert is_letter_spaced("사   업   명") and not is_letter_spaced("사업 명칭")
    assert is_contents_entry("A. Introduction ..................... 3")
    assert not is_contents_entry("The figures are final...")
    assert reads_as_sentence("세종특별자치시는 3특에 포함되지 않는다.")
    assert not reads_as_sentence("사업 지원 형태 및 지원율 (한 개는 반드시 선택하시오. 해당사항)")
    assert unit_note("3. 예산 총괄표 (단위: 백만원, %)") == "(단위: 백만원, %)"
    assert unit_note("Table 2 (in millions of dollars)") == "(in millions of dollars)"
    assert unit_note("단위가 크다") == ""
    assert has_letters("2024년") and not has_letters("71.7 73.0")
