"""Citation verification: answer splitting, support checks, renumbering, removal."""

import re
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from policyqa.answering.verify import SupportChecker, Verification, split_answer, verify
from policyqa.core.models import Chunk, Passage
from policyqa.core.text import collapse


def _tokenize(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _passage(n: int, text: str, doc: str = "doc.pdf") -> Passage:
    chunk = Chunk(f"{doc}#{n}", doc, f"Title {n}", n, str(n), "", "en", text, f"h{n}")
    return Passage(chunk=chunk, score=1.0 / n, rank=n)


BUDGET = (
    "The committee met in Seoul on Monday.\n"
    "It approved a budget of 1,400 billion won for\n"
    "regional projects in 2025. Other unrelated text follows here."
)
GANGWON = "Gangwon became a special self-governing province in June 2023."


_MARKER_IN_OUTPUT = re.compile(r"\[(\d+)\]")


def _checker(**kwargs: object) -> SupportChecker:
    return SupportChecker(_tokenize, **kwargs)  # type: ignore[arg-type]


# -- split_answer -------------------------------------------------------------------------------


def test_split_answer_marker_after_full_stop() -> None:
    assert split_answer("The plan was approved. [1] It costs 5 won. [2]") == [
        ("The plan was approved.", (1,)),
        ("It costs 5 won.", (2,)),
    ]


def test_split_answer_marker_before_full_stop() -> None:
    assert split_answer("The plan was approved [1]. It costs 5 won [2].") == [
        ("The plan was approved.", (1,)),
        ("It costs 5 won.", (2,)),
    ]


def test_split_answer_adjacent_and_comma_separated_markers() -> None:
    assert split_answer("First claim here [1][2]. Second claim here [1, 3].") == [
        ("First claim here.", (1, 2)),
        ("Second claim here.", (1, 3)),
    ]


def test_split_answer_duplicate_markers_are_deduplicated_in_order() -> None:
    assert split_answer("A claim [2][1][2].") == [("A claim.", (2, 1))]


def test_split_answer_final_marker_at_end_of_text() -> None:
    assert split_answer("One sentence [3]") == [("One sentence", (3,))]
    assert split_answer("First one. [1] Last one [2]") == [
        ("First one.", (1,)),
        ("Last one", (2,)),
    ]


def test_split_answer_text_without_markers() -> None:
    assert split_answer("No markers here. Another one!") == [
        ("No markers here.", ()),
        ("Another one!", ()),
    ]


def test_split_answer_splits_on_line_breaks_and_skips_blank_text() -> None:
    assert split_answer("Heading line\nBody sentence [1]") == [
        ("Heading line", ()),
        ("Body sentence", (1,)),
    ]
    assert split_answer("   \n ") == []


def test_split_answer_korean_sentences() -> None:
    assert split_answer("첫째 문장입니다[1]. 둘째 문장입니다. [2]") == [
        ("첫째 문장입니다.", (1,)),
        ("둘째 문장입니다.", (2,)),
    ]


# -- SupportChecker.check -----------------------------------------------------------------------


def test_check_fails_when_a_number_is_not_in_the_passage() -> None:
    ok, quote, reason = _checker().check("It approved a budget of 1,500 billion won.", BUDGET)
    assert not ok
    assert quote == ""
    assert "1500" in reason


def test_check_number_with_separator_matches_passage_number() -> None:
    ok, _, _ = _checker().check("The budget was 1400 billion won for regional projects.", BUDGET)
    assert ok


def test_check_verbatim_sentence_passes_with_collapsed_quote() -> None:
    sentence = "It approved a budget of 1,400 billion won for regional projects in 2025."
    ok, quote, reason = _checker().check(sentence, BUDGET)
    assert ok
    assert reason == ""
    assert quote == sentence
    assert "\n" not in quote


def test_check_paraphrase_quotes_best_matching_passage_sentence() -> None:
    ok, quote, _ = _checker().check("Committee met Seoul Monday, officials said.", BUDGET)
    assert ok
    assert quote == "The committee met in Seoul on Monday."


def test_check_paraphrase_quote_of_wrapped_sentence_is_collapsed() -> None:
    ok, quote, _ = _checker().check("A budget was approved for regional projects.", BUDGET)
    assert ok
    assert quote == "It approved a budget of 1,400 billion won for regional projects in 2025."


def test_check_unrelated_sentence_fails() -> None:
    ok, quote, reason = _checker().check("Bananas are yellow fruits.", BUDGET)
    assert not ok
    assert quote == ""
    assert "does not support" in reason


def test_check_overlap_threshold_is_respected() -> None:
    sentence = "Committee met yesterday about bananas."  # 2 of 5 words in the passage
    assert not _checker(overlap=0.5).check(sentence, BUDGET)[0]
    assert _checker(overlap=0.4).check(sentence, BUDGET)[0]


class _RecordingSimilarity:
    def __init__(self, scores: Sequence[float]) -> None:
        self.scores = list(scores)
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, sentence: str, texts: Sequence[str]) -> list[float]:
        self.calls.append((sentence, list(texts)))
        return self.scores[: len(texts)]


def test_similarity_is_not_called_when_lexical_overlap_passes() -> None:
    similarity = _RecordingSimilarity([0.0, 0.0, 0.0])
    ok, _, _ = _checker(similarity=similarity).check("The committee met in Seoul.", BUDGET)
    assert ok
    assert similarity.calls == []


def test_similarity_is_used_when_lexical_overlap_fails() -> None:
    similarity = _RecordingSimilarity([0.1, 0.9, 0.2])
    checker = _checker(similarity=similarity, min_similarity=0.55)
    ok, quote, _ = checker.check("위원회가 지역 사업 예산을 승인했다.", BUDGET)
    assert ok
    assert len(similarity.calls) == 1
    assert quote == "It approved a budget of 1,400 billion won for regional projects in 2025."


def test_similarity_below_threshold_fails() -> None:
    similarity = _RecordingSimilarity([0.1, 0.5, 0.2])
    checker = _checker(similarity=similarity, min_similarity=0.55)
    ok, quote, _ = checker.check("위원회가 지역 사업 예산을 승인했다.", BUDGET)
    assert not ok
    assert quote == ""


def test_similarity_does_not_rescue_a_wrong_number() -> None:
    similarity = _RecordingSimilarity([1.0, 1.0, 1.0])
    ok, _, reason = _checker(similarity=similarity).check("예산은 999억원이다.", BUDGET)
    assert not ok
    assert "999" in reason
    assert similarity.calls == []


# -- verify -------------------------------------------------------------------------------------


def test_out_of_range_marker_is_removed_with_reason() -> None:
    passages = [_passage(1, BUDGET), _passage(2, GANGWON)]
    result = verify(
        "The committee met in Seoul. [1] Something else entirely [9].", passages, _checker()
    )
    assert [s.text for s in result.kept] == ["The committee met in Seoul."]
    removed = result.removed
    assert len(removed) == 1
    assert removed[0].text == "Something else entirely."
    assert removed[0].cited == (9,)
    assert "9" in removed[0].reason
    assert "[9]" not in result.text()
    assert "Something else" not in result.text()
    assert all(c.n in (1, 2) for c in result.citations)


def test_out_of_range_marker_next_to_valid_one_keeps_only_the_valid_citation() -> None:
    passages = [_passage(1, BUDGET), _passage(2, GANGWON)]
    result = verify("The committee met in Seoul [1][9].", passages, _checker())
    assert result.text() == "The committee met in Seoul. [1]"


def test_citations_renumbered_in_order_of_first_use() -> None:
    passages = [_passage(1, BUDGET), _passage(2, GANGWON)]
    answer = (
        "Gangwon became a special self-governing province in June 2023 [2]. "
        "The committee met in Seoul [1]."
    )
    result = verify(answer, passages, _checker())
    assert [c.n for c in result.citations] == [1, 2]
    assert [c.chunk_id for c in result.citations] == ["doc.pdf#2", "doc.pdf#1"]
    assert result.text() == (
        "Gangwon became a special self-governing province in June 2023. [1] "
        "The committee met in Seoul. [2]"
    )


def test_citation_records_chunk_metadata_and_quote() -> None:
    result = verify("The committee met in Seoul [1].", [_passage(1, BUDGET)], _checker())
    (citation,) = result.citations
    assert citation.doc == "doc.pdf"
    assert citation.title == "Title 1"
    assert citation.page == 1
    assert citation.page_label == "1"
    assert citation.language == "en"
    assert citation.quote == "The committee met in Seoul on Monday."


def test_same_chunk_and_quote_is_one_citation() -> None:
    passages = [_passage(1, BUDGET)]
    answer = "The committee met in Seoul [1]. Committee met Seoul Monday [1]."
    result = verify(answer, passages, _checker())
    assert len(result.citations) == 1
    assert [s.citations for s in result.sentences] == [(1,), (1,)]


def test_different_quotes_from_one_chunk_are_separate_citations() -> None:
    passages = [_passage(1, BUDGET)]
    answer = "The committee met in Seoul [1]. A budget was approved for regional projects [1]."
    result = verify(answer, passages, _checker())
    assert [c.n for c in result.citations] == [1, 2]
    assert {c.chunk_id for c in result.citations} == {"doc.pdf#1"}
    assert [s.citations for s in result.sentences] == [(1,), (2,)]


def test_one_sentence_citing_two_supporting_passages_gets_both() -> None:
    same = _passage(2, "The committee met in Seoul on Monday.", doc="other.pdf")
    result = verify("The committee met in Seoul [1][2].", [_passage(1, BUDGET), same], _checker())
    assert result.sentences[0].citations == (1, 2)
    assert result.text() == "The committee met in Seoul. [1][2]"


def test_unsupported_passage_is_dropped_but_supporting_one_kept() -> None:
    passages = [_passage(1, BUDGET), _passage(2, GANGWON)]
    result = verify("The committee met in Seoul [2][1].", passages, _checker())
    (sentence,) = result.sentences
    assert sentence.supported
    assert sentence.citations == (1,)
    assert result.citations[0].chunk_id == "doc.pdf#1"


def test_sentence_with_wrong_number_is_removed_with_reason() -> None:
    result = verify("The budget was 1,500 billion won [1].", [_passage(1, BUDGET)], _checker())
    assert result.kept == []
    assert "[1]" in result.removed[0].reason
    assert "1500" in result.removed[0].reason
    assert result.citations == []


def test_sentence_without_marker_is_removed() -> None:
    result = verify(
        "Uncited claim. The committee met in Seoul [1].", [_passage(1, BUDGET)], _checker()
    )
    assert result.removed[0].text == "Uncited claim."
    assert result.removed[0].reason == "no citation"
    assert result.text() == "The committee met in Seoul. [1]"


def test_text_mark_unsupported_keeps_removed_sentences_marked() -> None:
    passages = [_passage(1, BUDGET), _passage(2, GANGWON)]
    result = verify("The committee met in Seoul. [1] Bananas are yellow. [2]", passages, _checker())
    assert result.text() == "The committee met in Seoul. [1]"
    assert result.text(mark_unsupported=True) == (
        "The committee met in Seoul. [1] Bananas are yellow. [unverified]"
    )


def test_verify_with_no_passages_keeps_nothing() -> None:
    result = verify("The committee met in Seoul [1].", [], _checker())
    assert result.kept == []
    assert result.citations == []
    assert result.text() == ""


def test_nested_bracket_marker_leaves_no_dangling_citation_number() -> None:
    result = verify("Seoul [[1]2]", [_passage(1, "Seoul city hall")], _checker())
    assert len(result.citations) == 1
    assert [int(n) for n in _MARKER_IN_OUTPUT.findall(result.text())] == [1]


# -- property -----------------------------------------------------------------------------------

_answer_text = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            ["[1]", "[2]", "[3]", "[9]", "[1, 2]", "[1][3]", ". ", "\n", "1,400", "Seoul"]
        ),
        st.sampled_from(["The committee met in Seoul.", GANGWON, "It approved 1,400 billion won."]),
    ),
    max_size=8,
).map("".join)
_passage_text = st.one_of(
    st.text(max_size=120),
    st.sampled_from([BUDGET, GANGWON, "", "  \n ", "1,400 [1] Seoul"]),
)


def _check_invariants(result: Verification, passages: Sequence[Passage]) -> None:
    numbers = [c.n for c in result.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    for n in _MARKER_IN_OUTPUT.findall(result.text()):
        assert 1 <= int(n) <= len(result.citations)
    by_id = {p.chunk.id: p.chunk.text for p in passages}
    for citation in result.citations:
        assert collapse(citation.quote) in collapse(by_id[citation.chunk_id])
    keys = [(c.chunk_id, c.quote) for c in result.citations]
    assert len(keys) == len(set(keys))


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(answer=_answer_text, texts=st.lists(_passage_text, max_size=3))
def test_verify_never_raises_and_output_citations_are_consistent(
    answer: str, texts: list[str]
) -> None:
    passages = [_passage(i, text) for i, text in enumerate(texts, start=1)]
    result = verify(answer, passages, _checker())
    _check_invariants(result, passages)


def test_complete_prefix_waits_for_the_markers_of_the_last_sentence() -> None:
    from policyqa.answering.verify import complete_prefix

    assert complete_prefix("Block grants grow") == 0
    assert complete_prefix("Block grants grow. ") == 0  # "[1]" may still follow
    assert complete_prefix("Block grants grow. [") == 0
    draft = "Block grants grow. [1] They rise"
    assert draft[: complete_prefix(draft)] == "Block grants grow. [1] "
    draft = "Block grants grow [1]. They rise. It"
    assert draft[: complete_prefix(draft)] == "Block grants grow [1]. They rise. "
