import hashlib
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from policyqa.answering.assistant import Answer
from policyqa.answering.verify import Citation
from policyqa.core.models import Chunk, Passage
from policyqa.core.settings import Settings
from policyqa.evaluation.evaluate import (
    SourcePages,
    docs_index_settings,
    run_curated_eval,
    run_eval,
)
from policyqa.evaluation.metrics import (
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
from policyqa.evaluation.report import (
    CitationCheck,
    EvalRow,
    markdown_report,
    summarise,
    summarise_groups,
)
from policyqa.evaluation.retrieval import (
    documents_from_folder,
    first_hit_rank,
    gold_pages,
    merge_pages,
    percentile,
    question_slice,
    read_jsonl,
    retrieval_metrics,
    run_retrieval,
)
from policyqa.pipeline import Pipeline

from .conftest import make_fakes, make_pdf, small_settings

REAL_DOCS_DEV = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "real-docs-dev"


def _p(doc: str, page: int, rank: int) -> Passage:
    chunk = Chunk(f"{doc}#{page}#{rank}", doc, "t", page, str(page), "", "ko", "x", "h")
    return Passage(chunk=chunk, score=1.0 / rank, rank=rank)


# -- retrieval ----------------------------------------------------------------------------------


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
    assert first_hit_rank(["a", "b", "c"], {"c"}) == 3
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


def test_a_table_row_quote_counts_when_each_cell_is_on_the_page() -> None:
    # pypdf reads this table column by column: the row's cells are apart on its page text
    page = "사업명\n2024년 확정(B)\n전세임대\n매입임대\n4,546,931\n1,200,000\n(단위: 백만원)"
    assert quote_on_page("| 전세임대 | 2024년 확정(B): 4,546,931 | (단위: 백만원) |", page)
    assert not quote_on_page("| 전세임대 | 2024년 확정(B): 4,546,932 |", page)
    assert not quote_on_page("| 전세임대 | 2023년 확정(B): 4,546,931 |", page)
    assert not quote_on_page("| |", page)
    # outside a table row a colon is part of the wording
    assert not quote_on_page("2024년 확정(B): 4,546,931", page)


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


# -- summaries ----------------------------------------------------------------------------------


def _row(
    answerable: bool,
    answered: bool,
    facts: list[bool],
    rank: int | None,
    **changes: Any,
) -> EvalRow:
    row = EvalRow("q", "?", "ko", answerable, {"languages": "ko→ko"}, [("d", 1)], ["d"], rank=rank)
    row.answered, row.facts_in_answer, row.latency_ms = answered, facts, 10.0
    row.key_facts = [["f"]] * len(facts)
    row.facts_in_notes_only = [False] * len(facts)
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def _cite(on_page: bool, gold: bool = True) -> CitationCheck:
    return CitationCheck(1, "d", 1, "1", "quote", on_page, gold)


def test_answer_metrics_by_hand() -> None:
    rows = [
        _row(
            True,
            True,
            [True, False],
            1,
            doc_rank=1,
            facts_in_notes_only=[False, True],
            citations=[_cite(True), _cite(False, gold=False)],
            gold_page_cited=True,
        ),
        _row(True, True, [True], 3, doc_rank=2, citations=[_cite(True)], gold_page_cited=False),
        _row(True, False, [False], 7, doc_rank=1),
        _row(False, False, [], None, gold=[], gold_docs=[]),
        _row(False, True, [], None, citations=[_cite(True)], control_chars=["U+0007"]),
        _row(False, False, [], None, gold=[], gold_docs=[]),
    ]
    out = summarise(rows)
    assert out["hit@1"] == round(1 / 3, 3) and out["hit@5"] == round(2 / 3, 3)
    assert out["mrr@10"] == round((1 + 1 / 3 + 1 / 7) / 3, 3)
    assert out["doc_hit@1"] == round(2 / 3, 3) and out["doc_mrr@10"] == round(2.5 / 3, 3)
    assert out["answered_rate"] == 0.5
    assert out["key_fact_recall"] == 0.5  # 2 of 4 facts in the answer text
    assert out["facts_only_in_notes"] == 0.25
    assert out["all_facts_rate"] == round(1 / 3, 3)
    assert out["gold_page_citation"] == 0.5  # of the two answered answerable questions
    assert out["citation_accuracy"] == 0.75  # three of four quotes on their pages
    assert out["refusal_rate"] == round(2 / 3, 3)
    assert out["false_refusal_rate"] == round(1 / 3, 3)
    assert out["control_char_rate"] == round(1 / 6, 3)
    assert out["latency_p50_ms"] == 10.0
    retrieval_only = summarise(rows, answers=False)
    assert retrieval_only["key_fact_recall"] is None and retrieval_only["hit@1"] is not None


def test_groups_are_the_slices_the_rows_have() -> None:
    rows = [
        _row(True, True, [True], 1, slices={"languages": "en→ko", "origin": "written"}),
        _row(True, False, [False], 1, slices={"languages": "ko→ko", "origin": "dacon"}),
        _row(False, True, [], None, slices={"languages": "unanswerable", "origin": "written"}),
    ]
    summary = summarise_groups(rows)
    assert set(summary) == {"overall", "languages", "origin"}
    assert summary["languages"]["en→ko"]["key_fact_recall"] == 1.0
    assert summary["origin"]["written"]["questions"] == 2
    assert summary["origin"]["written"]["refusal_rate"] == 0.0
    report = markdown_report(summary, rows, "# title")
    assert "| languages=en→ko |" in report and "| origin=dacon |" in report
    assert "answered an unanswerable question" in report and "false refusal" in report


# -- the runner ---------------------------------------------------------------------------------


def _answer(question: str, text: str, citations: list[Citation], notes: list[str]) -> Answer:
    return Answer(
        question=question,
        standalone_question=question,
        text=text,
        answered=bool(citations),
        language="en",
        citations=citations,
        notes=notes,
    )


def test_run_eval_scores_what_is_shown_against_the_page_text() -> None:
    def ask(question: str, history: object) -> Answer:
        if "refuse" in question:
            return _answer(question, "Not in the documents.", [], [])
        quote = "Block grants rise to KRW 10.6 trillion in 2026."
        cite = Citation(1, "a.pdf#p2#c0", "a.pdf", "A", 2, "ii", "", quote)
        return _answer(question, f"{quote} [1]", [cite], ["Gangneung is in Gangwon."])

    questions = [
        read_question(
            {
                "id": "a",
                "question": "How much are block grants?",
                "language": "en",
                "doc": "a.pdf",
                "pages": [2],
                "key_facts": ["10.6 trillion", "Gangwon"],
            },
            1,
        ),
        read_question(
            {
                "id": "b",
                "question": "refuse this",
                "doc": "a.pdf",
                "pages": [2],
                "key_facts": ["x"],
            },
            2,
        ),
    ]
    passages = [_p("b.pdf", 5, 1), _p("a.pdf", 1, 2), _p("a.pdf", 2, 3)]
    rows = run_eval(
        questions, lambda q: passages, ask, lambda d, p: PAGES.get((d, p)), {"a.pdf": "ko"}
    )
    first, second = rows
    assert first.slices["languages"] == "en→ko"
    assert (first.rank, first.doc_rank) == (3, 2)
    assert first.facts_in_answer == [True, False] and first.facts_in_notes_only == [False, True]
    assert first.citations[0].on_page and first.citations[0].gold_page
    assert first.gold_page_cited is True and first.quotes_on_page is True
    assert second.answered is False and second.facts_in_answer == [False]
    assert second.quotes_on_page is None and second.gold_page_cited is None
    # the same answer, its page's text not holding the quote (only the index's chunk would)
    rows = run_eval(questions[:1], lambda q: passages, ask, lambda d, p: "other text")
    assert rows[0].quotes_on_page is False and rows[0].citations[0].on_page is False


# -- files and the index ------------------------------------------------------------------------


def test_source_pages_are_what_pypdf_extracts(tmp_path: Path) -> None:
    make_pdf(tmp_path / "a.pdf", ["첫 쪽 본문", "둘째 쪽: 포괄보조 10.6조원"])
    (tmp_path / "b.md").write_text("# Title\n\nOne page of text.", encoding="utf-8")
    pages = SourcePages(tmp_path)
    assert quote_on_page("포괄보조 10.6조원", pages.text("a.pdf", 2))
    assert not quote_on_page("포괄보조 10.6조원", pages.text("a.pdf", 1))
    assert pages.text("a.pdf", 3) is None and pages.text("nothing.pdf", 1) is None
    assert pages.text("b.md", 1) == "# Title\n\nOne page of text."
    assert pages.language("a.pdf") == "ko" and pages.language("b.md") == "en"


def test_docs_index_is_keyed_by_the_folder_contents(tmp_path: Path) -> None:
    settings = small_settings(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nText.", encoding="utf-8")
    first = docs_index_settings(settings, docs)
    assert first.home.parent == settings.home / "eval-index"
    assert (first.corpus, first.chroma_url, first.collection) == (docs, "", "eval")
    (docs / "README.md").write_text("not a document", encoding="utf-8")
    assert docs_index_settings(settings, docs).home == first.home  # ingest skips README*
    (docs / "a.md").write_text("# A\n\nOther text.", encoding="utf-8")
    assert docs_index_settings(settings, docs).home != first.home
    assert docs_index_settings(settings.replace(chunk_words=99), docs).home != first.home
    with pytest.raises(ValueError, match="not a folder"):
        docs_index_settings(settings, tmp_path / "missing")


def test_eval_on_a_folder_writes_the_report_and_reuses_its_index(tmp_path: Path) -> None:
    settings: Settings = small_settings(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(
        docs / "budget.pdf",
        ["1. Budget\nBlock grants rise to KRW 10.6 trillion in 2026.", "2. Other\nNothing."],
    )
    questions = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "How much do block grants rise to in 2026?",
            "language": "en",
            "answerable": True,
            "doc": "budget.pdf",
            "pages": [1],
            "key_facts": ["10.6 trillion"],
            "reference_answer": "KRW 10.6 trillion",
            "origin": "written",
        },
        {
            "id": "q2",
            "question": "What is the interest rate on student loans?",
            "language": "en",
            "answerable": False,
            "doc": None,
            "pages": [],
            "key_facts": [],
            "reference_answer": "",
            "origin": "written",
        },
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    built: list[Pipeline] = []

    def make(s: Settings) -> Pipeline:
        built.append(Pipeline(s, embedder_overrides=dict(make_fakes())))
        return built[-1]

    out = tmp_path / "out"
    settings = settings.replace(auth="reader:secret-password")
    text = run_curated_eval(settings, questions, out, docs=docs, make_pipeline=make)
    assert "languages=en→en" in text and "origin=written" in text
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["questions"]["sha256"] == hashlib.sha256(questions.read_bytes()).hexdigest()
    assert report["settings"]["chunk_words"] == settings.chunk_words
    assert report["settings"]["auth"] == "(set)"  # a login never reaches the report
    assert "secret-password" not in (out / "report.json").read_text(encoding="utf-8")
    configuration = report["configuration"]
    assert {row["name"] for row in configuration["settings"]} >= {"chunk_words", "embedder"}
    assert any(row["name"] == "LEXICAL_WEIGHT" for row in configuration["tuning"])
    assert report["index"]["own_index"] is True
    assert Path(report["index"]["home"]).parent == settings.home / "eval-index"
    assert "git" in report
    first = report["rows"][0]
    assert first["rank"] == 1 and first["doc_rank"] == 1
    for key in ("answer", "answered", "citations", "facts_in_answer", "facts_in_notes_only"):
        assert key in first
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# policyqa evaluation")
    # the same folder again: the same index, nothing embedded
    run_curated_eval(settings, questions, tmp_path / "out2", docs=docs, make_pipeline=make)
    assert built[1].settings.home == built[0].settings.home
    assert built[1].store.count_chunks() == built[0].store.count_chunks()
    again = json.loads((tmp_path / "out2" / "report.json").read_text(encoding="utf-8"))
    assert report["index"]["embedded"] > 0 and again["index"]["embedded"] == 0
    # retrieval only: the same retrieval figures, no answer figures
    run_curated_eval(
        settings, questions, tmp_path / "out3", answers=False, docs=docs, make_pipeline=make
    )
    only = json.loads((tmp_path / "out3" / "report.json").read_text(encoding="utf-8"))
    assert only["summary"]["overall"]["hit@1"] == report["summary"]["overall"]["hit@1"]
    assert only["summary"]["overall"]["key_fact_recall"] is None
    assert only["rows"][0]["answered"] is None and only["settings"]["answerer"] is None


def test_gold_pages_from_sources_or_doc_and_pages() -> None:
    assert gold_pages({"sources": [{"doc": "a.pdf", "page": 3}]}) == {("a.pdf", 3)}
    assert gold_pages({"doc": "b.pdf", "pages": [1, 4]}) == {("b.pdf", 1), ("b.pdf", 4)}
    assert gold_pages({"doc": None, "pages": [], "answerable": False}) == set()


def test_question_slices_by_question_and_document_language() -> None:
    languages = {"ko.pdf": "ko", "en.pdf": "en"}
    assert question_slice("생계급여는 언제부터?", {("ko.pdf", 1)}, languages) == "ko"
    assert question_slice("Since when is it paid?", {("ko.pdf", 1)}, languages) == "en->ko"
    assert question_slice("Since when is it paid?", {("en.pdf", 2)}, languages) == "en"


def test_benchmark_reads_gzip_and_folders_and_reports_slices(tmp_path: Path) -> None:
    import gzip

    rows = [{"doc": "a.pdf", "page": 1, "text": "x"}]
    with gzip.open(tmp_path / "pages.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r) for r in rows))
    assert read_jsonl(tmp_path / "pages.jsonl.gz") == rows
    folder = tmp_path / "docs"
    folder.mkdir()
    korean = "# 생계급여\n\n생계급여는 1961년부터 지급되었다.\n"
    (folder / "ko.md").write_text(korean, encoding="utf-8")
    (folder / "en.md").write_text("# Budget\n\nThe budget grows in 2025.\n", encoding="utf-8")
    (folder / "README.txt").write_bytes(b"")  # an empty file is an error, not a skip
    with pytest.raises(ValueError, match="README"):
        documents_from_folder(folder)
    (folder / "README.txt").unlink()
    docs = {d.doc_id: d.language for d in documents_from_folder(folder)}
    assert docs == {"ko.md": "ko", "en.md": "en"}
    questions = [
        {"id": "k", "question": "생계급여는 언제부터?", "doc": "ko.md", "pages": [1]},
        {"id": "x", "question": "Since when is the benefit paid?", "doc": "ko.md", "pages": [1]},
        {"id": "u", "question": "What is the loan rate?", "doc": None, "answerable": False},
    ]
    report = run_retrieval(questions, lambda q: [_p("ko.md", 1, 1)], docs)
    assert [r.id for r in report.results] == ["k", "x"]  # no gold: not scored
    assert set(report.slices()) == {"ko", "en->ko"}
    assert "en->ko (1)" in report.table() and report.to_json()["slices"]["ko"]["hit@1"] == 1.0
