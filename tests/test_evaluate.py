import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from policyqa.evaluate import (
    EvalRow,
    citation_problems,
    first_hit_rank,
    key_fact_hits,
    merge_pages,
    percentile,
    retrieval_metrics,
    run_retrieval,
    summarise,
)
from policyqa.metrics import (
    GoldQuestion,
    Shown,
    ShownCitation,
    control_chars,
    facts_found,
    language_slice,
    normalise_answer,
    quote_on_page,
    read_question,
    score_answer,
    slice_labels,
)
from policyqa.models import Chunk, Passage

REAL_DOCS_DEV = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "real-docs-dev"


def _p(doc: str, page: int, rank: int) -> Passage:
    chunk = Chunk(f"{doc}#{page}#{rank}", doc, "t", page, str(page), "", "ko", "x", "h")
    return Passage(chunk=chunk, score=1.0 / rank, rank=rank)


def test_pages_merge_at_best_rank() -> None:
    passages = [_p("a", 1, 1), _p("a", 1, 2), _p("b", 2, 3), _p("a", 3, 4)]
    assert merge_pages(passages) == [("a", 1), ("b", 2), ("a", 3)]


def test_metrics_by_hand() -> None:
    ranks = [1, 2, None, 5, 11]
    m = retrieval_metrics(ranks)
    assert m.hit[1] == 0.2
    assert m.hit[3] == 0.4
    assert m.hit[5] == 0.6
    assert m.hit[10] == 0.6
    assert abs(m.mrr10 - (1 + 0.5 + 0.2) / 5) < 1e-9
    assert first_hit_rank([("a", 1), ("b", 2)], {("b", 2)}) == 2
    assert percentile([1.0, 2.0, 3.0, 4.0, 100.0], 50) == 3.0


def test_run_retrieval_rows() -> None:
    questions = [
        {"id": "q1", "question": "x", "sources": [{"doc": "b", "page": 2}]},
        {"id": "q2", "question": "y", "sources": [{"doc": "z", "page": 9}]},
    ]
    report = run_retrieval(questions, lambda q: [_p("a", 1, 1), _p("b", 2, 2)])
    assert [r.rank for r in report.results] == [2, None]
    assert report.metrics.hit[5] == 0.5
    assert "hit@1" in report.table()


def test_key_facts_ignore_spacing_case_and_separators_and_take_either_wording() -> None:
    answer = "포괄보조는 10.6 조원으로 늘고, 동남권(부산 울산 경남)은 5극의 하나다. Block GRANTS."
    assert key_fact_hits(answer, ["10.6조원", "부산·울산·경남", "block grants", "3.8조원"]) == [
        True,
        True,
        True,
        False,
    ]
    # a fact given in both languages is found in either
    assert key_fact_hits("It is in the Southeast pole.", [["동남권", "Southeast"]]) == [True]
    assert key_fact_hits("It is in Honam.", [["동남권", "Southeast"]]) == [False]
    assert key_fact_hits("1,400조원 투자", ["1400조"]) == [True]


def test_key_fact_dates_match_in_any_written_form() -> None:
    for written in (
        "launched on 10 July 2023",
        "on July 10, 2023",
        "2023년 7월 10일 출범",
        "2023. 7. 10. 출범",
        "since 2023-07-10",
    ):
        assert key_fact_hits(written, ["2023-07-10"]) == [True], written
        assert key_fact_hits(written, ["2023년 7월 10일"]) == [True], written
    # another day, month or year is another date
    assert key_fact_hits("launched on 11 July 2023", ["2023-07-10"]) == [False]
    assert key_fact_hits("launched on 10 June 2023", ["2023-07-10"]) == [False]
    assert key_fact_hits("2024년 7월 10일", ["10 July 2023"]) == [False]
    assert key_fact_hits("1,400조원", ["1400조"]) == [True]


def test_citation_problems_by_hand() -> None:
    def supports(sentence: str, quote: str) -> bool:
        return sentence.split()[0] in quote

    page = "Block grants rise to KRW 10.6 trillion in 2026."
    quote = "Block grants rise to KRW 10.6 trillion"
    assert citation_problems("Block grants rise.", quote, page, supports) == []
    assert citation_problems("Block grants rise.", "Block grants fall", page, supports) == [
        "quote is not on the cited page"
    ]
    assert "cited page does not exist" in citation_problems("x", "y", None, supports)
    assert citation_problems("Taxes fall.", quote, page, supports) == [
        "quote does not support the sentence"
    ]


def _row(answerable: bool, answered: bool, facts: list[bool], rank: int | None) -> EvalRow:
    row = EvalRow("q", "ko", "ko", "citizen", answerable, "?", "?", [("d", 1)], [], rank)
    row.answered, row.facts_found, row.latency_ms = answered, facts, 10.0
    return row


def test_answer_metrics_by_hand() -> None:
    rows = [
        _row(True, True, [True, False], 1),
        _row(True, False, [False], 3),
        _row(False, False, [], None),
        _row(False, True, [], None),
        _row(False, False, [], None),
    ]
    rows[2].gold = rows[3].gold = rows[4].gold = []
    out = summarise(rows)
    assert out["key_fact_recall"] == round(1 / 3, 3)
    assert out["refusal_rate"] == round(2 / 3, 3)
    assert out["false_refusal_rate"] == 0.5
    assert out["hit@1"] == 0.5 and out["hit@5"] == 1.0
    assert summarise(rows, answers=False)["key_fact_recall"] is None


def test_run_eval_scores_what_the_user_is_shown_answer_and_notes() -> None:
    from policyqa.answer import Answer
    from policyqa.evaluate import run_eval

    def ask(question: str, history: object) -> Answer:
        answered = "refuse" not in question
        return Answer(
            question=question,
            standalone_question=question,
            text="Gangwon is a special province. [1]" if answered else "Not in the documents.",
            answered=answered,
            language="en",
            notes=["Gangneung city is in Gangwon Special Self-Governing Province."],
        )

    questions = [
        {
            "id": "a",
            "question": "What about Gangneung?",
            "answerable": True,
            "key_facts": ["Gangwon Special Self-Governing Province", "block grants"],
        },
        {
            "id": "b",
            "question": "refuse Gangneung?",
            "answerable": True,
            "key_facts": ["Gangwon Special Self-Governing Province"],
        },
    ]
    rows = run_eval(questions, lambda q: [], ask, lambda d, p: None, lambda s, q: True)
    assert rows[0].facts_found == [True, False]
    assert rows[0].notes == ["Gangneung city is in Gangwon Special Self-Governing Province."]
    # a refusal shows no facts, notes or not
    assert rows[1].facts_found == [False]


# -- key facts ----------------------------------------------------------------------------------


def test_key_facts_normalised_like_real_docs_dev() -> None:
    def found(text: str, *facts: str) -> list[bool]:
        return facts_found(text, [(f,) for f in facts])

    # spacing, case, thousands separators and quote marks do not matter
    assert found("예산은 657,680 백만원 이다. Block GRANTS", "657680백만원", "block grants") == [
        True,
        True,
    ]
    assert found("‘22년~‘24년", "'22년~'24년") == [True]
    # a two-digit year is its century's year; Korean and abbreviated dates are one form
    assert found("(’18) 시행", "2018") == [True]
    assert found("‘07.1.1시행", "2007년 1월 1일") == [True]
    assert found("2007년 1월 1일 시행", "2007.1.1") == [True]
    assert found("2019.05월", "2019년 5월") == [True]
    # another figure is another figure
    assert found("657,681백만원", "657680백만원") == [False]
    assert found("2008년 1월 1일", "2007.1.1") == [False]
    # a middle dot is not a space (as in real-docs-dev's scoring)
    assert found("부산 울산 경남", "부산·울산·경남") == [False]
    # control characters and line breaks inside the answer do not split a fact
    assert found("조세\x07지출\n연계", "조세지출연계") == [True]


def test_key_fact_dates_match_in_english_and_iso_forms() -> None:
    for written in (
        "launched on 10 July 2023",
        "on July 10, 2023",
        "on Jul. 10, 2023",
        "2023년 7월 10일 출범",
        "since 2023-07-10",
        "2023.7.10",
    ):
        for fact in ("2023-07-10", "2023년 7월 10일", "10 July 2023"):
            assert facts_found(written, [(fact,)]) == [True], (written, fact)
    assert facts_found("launched on 11 July 2023", [("2023-07-10",)]) == [False]
    assert facts_found("launched on 10 June 2023", [("2023-07-10",)]) == [False]
    assert facts_found("2024년 7월 10일", [("10 July 2023",)]) == [False]
    # a month and year
    assert facts_found("in December 2022", [("2022년 12월",)]) == [True]
    assert facts_found("2022년 12월 5일", [("December 2022",)]) == [True]
    assert facts_found("in November 2022", [("December 2022",)]) == [False]
    # a word that begins like a month is no month
    assert normalise_answer("decided 2023") == "decided2023"


def test_a_fact_with_several_wordings_is_found_by_any() -> None:
    assert facts_found("It is in the Southeast pole.", [("동남권", "Southeast")]) == [True]
    assert facts_found("It is in Honam.", [("동남권", "Southeast")]) == [False]


def _check_module() -> ModuleType:
    path = REAL_DOCS_DEV / "check.py"
    if not path.exists():
        pytest.skip(f"{path} is not here")
    spec = importlib.util.spec_from_file_location("real_docs_dev_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_normalisation_agrees_with_real_docs_dev_check() -> None:
    """On the set's key facts and reference answers, the evaluator's normalisation finds a fact
    in a text exactly when check.py's norm_answer() does (every fact against every text), and
    gives the same string wherever no English date is involved."""
    check = _check_module()
    rows = [
        json.loads(line)
        for line in (REAL_DOCS_DEV / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    facts = [f for row in rows for f in row["key_facts"]]
    texts = [row["reference_answer"] for row in rows if row["reference_answer"]] + facts
    assert len(facts) > 150 and len(texts) > 250
    english_month = re.compile(r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
    for text in texts:
        if not english_month.search(text):
            assert normalise_answer(text) == check.norm_answer(text), text
        assert facts_found(text, [(f,) for f in facts]) == check.facts_found(text, facts), text
    for row in rows:
        ours = facts_found(row["reference_answer"], [(f,) for f in row["key_facts"]])
        assert ours == check.facts_found(row["reference_answer"], row["key_facts"]), row["id"]


# -- quotes, control characters, one answer's score -----------------------------------------------


def test_quote_on_page_ignores_layout_not_wording() -> None:
    page = "1. 예산\n포괄보조를 3.8조원에서\n10.6조원으로 늘린다.\x07끝"
    assert quote_on_page("포괄보조를 3.8조원에서 10.6조원으로 늘린다.", page)
    assert quote_on_page("늘린다. 끝", page)  # a BEL between words is layout
    assert not quote_on_page("포괄보조를 3.9조원에서 10.6조원으로 늘린다.", page)
    assert not quote_on_page("포괄보조를", None)
    assert not quote_on_page("  ", page)


def test_control_chars_are_cc_other_than_newline_and_tab() -> None:
    assert control_chars("a\tb\nc") == []
    assert control_chars("a\x07b\x00c\x7f\x85") == ["\x07", "\x00", "\x7f", "\x85"]
    assert control_chars("zero\u200bwidth") == []  # a format character, not a control one


def _question(**changes: Any) -> GoldQuestion:
    values: dict[str, Any] = {
        "id": "q",
        "question": "How much?",
        "language": "en",
        "answerable": True,
        "pages": (("a.pdf", 2),),
        "docs": ("a.pdf",),
        "key_facts": (("10.6 trillion",), ("Gangwon",)),
    }
    values.update(changes)
    return GoldQuestion(**values)


PAGES = {
    ("a.pdf", 1): "Block grants were KRW 3.8 trillion in 2025.",
    ("a.pdf", 2): "Block grants rise to KRW 10.6\ntrillion in 2026.",
}


def _shown(answered: bool = True, **changes: Any) -> Shown:
    values: dict[str, Any] = {
        "answered": answered,
        "text": "Block grants rise to KRW 10.6 trillion in 2026. [1]",
        "notes": ("Gangneung is in Gangwon.",),
        "citations": (
            ShownCitation(1, "a.pdf", 2, "2", "Block grants rise to KRW 10.6 trillion in 2026."),
        ),
    }
    values.update(changes)
    return Shown(**values)


def test_score_answer_counts_the_answer_text_and_the_notes_apart() -> None:
    notes = ("Gangneung is in Gangwon.", "Grants: 10.6 trillion.")
    score = score_answer(_question(), _shown(notes=notes), lambda d, p: PAGES.get((d, p)))
    assert score.facts_in_answer == [True, False]
    assert score.facts_in_notes_only == [False, True]  # a fact in both counts for the answer
    assert score.quotes_on_page == [True]
    assert score.gold_pages_cited == [True]
    assert score.gold_page_cited is True
    assert score.control_chars == []


def test_score_answer_markers_are_no_facts_and_a_refusal_shows_none() -> None:
    question = _question(key_facts=(("1",),))
    shown = _shown(text="Block grants rise. [1]")
    assert score_answer(question, shown, lambda d, p: None).facts_in_answer == [False]  # "[1]"
    shown = _shown(text="Block grants rise 1 point. [1]")
    assert score_answer(question, shown, lambda d, p: None).facts_in_answer == [True]
    refused = score_answer(_question(), _shown(answered=False), lambda d, p: None)
    assert refused.facts_in_answer == [False, False]
    assert refused.facts_in_notes_only == [False, False]
    assert refused.gold_page_cited is None


def test_score_answer_quotes_are_checked_on_the_page_they_cite() -> None:
    elsewhere = ShownCitation(1, "a.pdf", 1, "1", "Block grants rise to KRW 10.6 trillion in 2026.")
    score = score_answer(_question(), _shown(citations=(elsewhere,)), lambda d, p: PAGES[(d, p)])
    assert score.quotes_on_page == [False]
    assert score.gold_page_cited is False
    missing = ShownCitation(1, "a.pdf", 9, "9", "Block grants rise")
    score = score_answer(_question(), _shown(citations=(missing,)), lambda d, p: PAGES.get((d, p)))
    assert score.quotes_on_page == [False]


def test_score_answer_finds_control_characters_in_text_and_quotes() -> None:
    bell = ShownCitation(1, "a.pdf", 2, "2", "Block\x07grants rise")
    score = score_answer(_question(), _shown(citations=(bell,)), lambda d, p: None)
    assert score.control_chars == ["\x07"]
    score = score_answer(_question(), _shown(text="a\x0cb [1]", citations=()), lambda d, p: None)
    assert score.control_chars == ["\x0c"]


# -- question files and slices ------------------------------------------------------------------


def test_read_question_of_either_shape() -> None:
    curated = read_question(
        {
            "id": "x-001",
            "question": "강원은?",
            "language": "ko",
            "persona": "citizen",
            "answerable": True,
            "sources": [{"doc": "b-en.pdf", "page": 3}, {"doc": "a-ko.pdf", "page": 1}],
            "key_facts": ["2023-07-10", ["동남권", "Southeast"]],
            "why_unanswerable": "",
            "slice": "cross",
            "history": [{"role": "user", "content": "?"}],
        },
        1,
    )
    assert curated.pages == (("a-ko.pdf", 1), ("b-en.pdf", 3))
    assert curated.docs == ("b-en.pdf", "a-ko.pdf")
    assert curated.key_facts == (("2023-07-10",), ("동남권", "Southeast"))
    assert curated.labels == {"slice": "cross", "persona": "citizen"}
    assert len(curated.history) == 1
    dev = read_question(
        {
            "id": "xl-01",
            "question": "How much is the budget?",
            "language": "en",
            "answerable": True,
            "doc": "고용노동부.pdf",
            "pages": [2, 3],
            "key_facts": ["657,680"],
            "reference_answer": "657,680 million won",
            "origin": "written",
        },
        2,
    )
    assert dev.pages == (("고용노동부.pdf", 2), ("고용노동부.pdf", 3))
    assert dev.docs == ("고용노동부.pdf",)
    assert dev.labels == {"origin": "written"}
    unanswerable = read_question(
        {"id": "un-1", "question": "몇 명?", "answerable": False, "doc": None, "pages": []}, 3
    )
    assert unanswerable.pages == () and unanswerable.docs == ()
    assert unanswerable.language == "ko"  # detected
    with pytest.raises(ValueError, match="no question"):
        read_question({"id": "e", "question": " "}, 4)


def test_slices_come_from_the_data() -> None:
    languages = {"a-ko.pdf": "ko", "b-en.pdf": "en"}
    assert language_slice(_question(docs=("a-ko.pdf",)), languages) == "en→ko"
    assert language_slice(_question(docs=("b-en.pdf", "a-ko.pdf")), languages) == "en→en+ko"
    assert language_slice(_question(docs=()), languages) == "en→?"
    assert language_slice(_question(answerable=False, docs=("a-ko.pdf",)), languages) == (
        "unanswerable"
    )
    labels = slice_labels(_question(docs=("a-ko.pdf",), labels={"origin": "written"}), languages)
    assert labels == {"languages": "en→ko", "language": "en", "origin": "written"}
