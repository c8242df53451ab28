"""Page-level retrieval evaluation: metrics as plain functions, and a benchmark runner that
builds a throw-away index from a `pages.jsonl` + `questions.jsonl` set (no PDF step)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .load import detect_language
from .models import Document, Page, Passage

PageKey = tuple[str, int]
CUTOFFS = (1, 3, 5, 10)


def merge_pages(passages: Iterable[Passage]) -> list[PageKey]:
    """Ranked (doc, page) list: chunks of the same page merge at the rank of the best one."""
    pages: list[PageKey] = []
    seen: set[PageKey] = set()
    for passage in passages:
        key = (passage.chunk.doc_id, passage.chunk.page)
        if key not in seen:
            seen.add(key)
            pages.append(key)
    return pages


def first_hit_rank(ranked: Sequence[PageKey], gold: set[PageKey]) -> int | None:
    """1-based rank of the first gold page, or None."""
    for index, key in enumerate(ranked, start=1):
        if key in gold:
            return index
    return None


@dataclass
class RetrievalMetrics:
    questions: int
    hit: dict[int, float]
    mrr10: float
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0

    def as_row(self) -> dict[str, float]:
        row: dict[str, float] = {f"hit@{k}": round(v, 3) for k, v in self.hit.items()}
        row["mrr@10"] = round(self.mrr10, 3)
        return row


def retrieval_metrics(
    ranks: Sequence[int | None], cutoffs: Sequence[int] = CUTOFFS
) -> RetrievalMetrics:
    n = len(ranks)
    if n == 0:
        return RetrievalMetrics(0, {k: 0.0 for k in cutoffs}, 0.0)
    hit = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in cutoffs}
    mrr = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    return RetrievalMetrics(n, hit, mrr)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class QuestionResult:
    id: str
    question: str
    gold: list[PageKey]
    ranked: list[PageKey]
    rank: int | None
    latency_ms: float


@dataclass
class BenchmarkReport:
    metrics: RetrievalMetrics
    results: list[QuestionResult] = field(default_factory=list)
    index_seconds: float = 0.0
    chunks: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.metrics.questions,
            "chunks": self.chunks,
            "index_seconds": round(self.index_seconds, 2),
            **self.metrics.as_row(),
            "latency_p50_ms": round(self.metrics.latency_p50_ms, 1),
            "latency_p95_ms": round(self.metrics.latency_p95_ms, 1),
            "per_question": [asdict(r) for r in self.results],
        }

    def table(self) -> str:
        row = self.metrics.as_row()
        head = " | ".join(row)
        values = " | ".join(f"{v:.3f}" for v in row.values())
        return (
            f"questions: {self.metrics.questions}, chunks: {self.chunks}, "
            f"index built in {self.index_seconds:.1f} s, query p50 "
            f"{self.metrics.latency_p50_ms:.0f} ms, p95 {self.metrics.latency_p95_ms:.0f} ms\n"
            f"| {head} |\n|{'---|' * len(row)}\n| {values} |"
        )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
    return rows


def documents_from_pages(rows: Sequence[dict[str, Any]]) -> list[Document]:
    """Group `{doc, page, text}` rows into Documents (title: the file name without extension)."""
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_doc.setdefault(str(row["doc"]), []).append(row)
    docs = []
    for doc_id, doc_rows in by_doc.items():
        doc_rows.sort(key=lambda r: int(r["page"]))
        pages = tuple(Page(int(r["page"]), str(r["page"]), str(r["text"])) for r in doc_rows)
        text = "\n".join(p.text for p in pages)
        title = doc_id.rsplit(".", 1)[0] if "." in doc_id else doc_id
        docs.append(
            Document(
                doc_id=doc_id,
                title=title,
                language=detect_language(text),
                pages=pages,
                page_count=max(p.page for p in pages),
            )
        )
    return docs


Search = Callable[[str], list[Passage]]


def run_retrieval(questions: Sequence[dict[str, Any]], search: Search) -> BenchmarkReport:
    results: list[QuestionResult] = []
    for row in questions:
        gold = {(str(s["doc"]), int(s["page"])) for s in row.get("sources", [])}
        started = time.perf_counter()
        passages = search(str(row["question"]))
        latency = (time.perf_counter() - started) * 1000
        ranked = merge_pages(passages)[:10]
        results.append(
            QuestionResult(
                id=str(row.get("id", len(results))),
                question=str(row["question"]),
                gold=sorted(gold),
                ranked=ranked,
                rank=first_hit_rank(ranked, gold),
                latency_ms=round(latency, 2),
            )
        )
    metrics = retrieval_metrics([r.rank for r in results])
    latencies = [r.latency_ms for r in results]
    metrics.latency_p50_ms = statistics.median(latencies) if latencies else 0.0
    metrics.latency_p95_ms = percentile(latencies, 95)
    return BenchmarkReport(metrics=metrics, results=results)


def eval_retrieval(
    pages_path: Path,
    questions_path: Path,
    build: Callable[[Path, list[Document]], tuple[Search, int]],
) -> BenchmarkReport:
    """Index the pages into a temporary home with `build`, then score the questions."""
    docs = documents_from_pages(read_jsonl(pages_path))
    questions = read_jsonl(questions_path)
    with tempfile.TemporaryDirectory(prefix="policyqa-eval-") as tmp:
        started = time.perf_counter()
        search, chunks = build(Path(tmp), docs)
        index_seconds = time.perf_counter() - started
        report = run_retrieval(questions, search)
    report.index_seconds = index_seconds
    report.chunks = chunks
    return report
