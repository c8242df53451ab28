from policyqa.core.models import Chunk, Passage
from policyqa.evaluation.evaluate import (
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
    from policyqa.answering.answer import Answer
    from policyqa.evaluation.evaluate import run_eval

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
