from policyqa.evaluate import (
    first_hit_rank,
    merge_pages,
    percentile,
    retrieval_metrics,
    run_retrieval,
)
from policyqa.models import Chunk, Passage


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
