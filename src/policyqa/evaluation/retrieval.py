"""Page-level retrieval evaluation: metrics as plain functions, and a benchmark runner that
builds a throw-away index from a `pages.jsonl[.gz]` + `questions.jsonl` set (no PDF step), or
from a folder of documents read with the product's own loader (`policyqa eval-retrieval`)."""

from __future__ import annotations

import gzip
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from policyqa.core.language import detect_language
from policyqa.core.models import Document, Page, Passage
from policyqa.evaluation.metrics import PageKey

CUTOFFS = (1, 3, 5, 10)
Key = TypeVar("Key")


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


def first_hit_rank(ranked: Sequence[Key], gold: Container[Key]) -> int | None:
    """1-based rank of the first gold page (or document), or None."""
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
    slice: str = ""  # the question's language, or "en->ko" when it asks about the other one


@dataclass
class BenchmarkReport:
    metrics: RetrievalMetrics
    results: list[QuestionResult] = field(default_factory=list)
    index_seconds: float = 0.0
    chunks: int = 0

    def slices(self) -> dict[str, RetrievalMetrics]:
        """Metrics per slice, when the questions fall into more than one."""
        names = sorted({r.slice for r in self.results})
        if len(names) < 2:
            return {}
        return {
            name: retrieval_metrics([r.rank for r in self.results if r.slice == name])
            for name in names
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.metrics.questions,
            "chunks": self.chunks,
            "index_seconds": round(self.index_seconds, 2),
            **self.metrics.as_row(),
            "latency_p50_ms": round(self.metrics.latency_p50_ms, 1),
            "latency_p95_ms": round(self.metrics.latency_p95_ms, 1),
            "slices": {
                name: {"questions": m.questions, **m.as_row()} for name, m in self.slices().items()
            },
            "per_question": [asdict(r) for r in self.results],
        }

    def table(self) -> str:
        row = self.metrics.as_row()
        head = " | ".join(row)
        lines = [
            f"questions: {self.metrics.questions}, chunks: {self.chunks}, "
            f"index built in {self.index_seconds:.1f} s, query p50 "
            f"{self.metrics.latency_p50_ms:.0f} ms, p95 {self.metrics.latency_p95_ms:.0f} ms",
            f"| questions | {head} |",
            f"|---|{'---|' * len(row)}",
            f"| all ({self.metrics.questions}) | "
            + " | ".join(f"{v:.3f}" for v in row.values())
            + " |",
        ]
        for name, metrics in self.slices().items():
            values = " | ".join(f"{v:.3f}" for v in metrics.as_row().values())
            lines.append(f"| {name} ({metrics.questions}) | {values} |")
        return "\n".join(lines)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file; `.gz` files are read compressed."""
    rows = []
    with (
        gzip.open(path, "rt", encoding="utf-8")
        if path.suffix == ".gz"
        else path.open(encoding="utf-8") as handle
    ):
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


def documents_from_folder(folder: Path) -> list[Document]:
    """Every supported file directly in `folder`, read with the product's loader (doc id: the
    file name); a file that cannot be read is an error here, not a skip."""
    from policyqa.ingest.load import SUPPORTED_SUFFIXES, LoadError, load_file

    docs = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith((".", "_")):
            try:
                docs.append(load_file(path, path.name))
            except LoadError as exc:
                raise ValueError(f"{path}: {exc}") from exc
    if not docs:
        raise ValueError(f"no PDF, Markdown or text files in {folder}")
    return docs


def gold_pages(row: Mapping[str, Any]) -> set[PageKey]:
    """A question's gold pages: `sources: [{doc, page}]`, or `doc` with `pages` (real-docs-dev)."""
    if row.get("sources"):
        return {(str(s["doc"]), int(s["page"])) for s in row["sources"]}
    if row.get("doc") and row.get("pages"):
        return {(str(row["doc"]), int(p)) for p in row["pages"]}
    return set()


def question_slice(question: str, gold: set[PageKey], doc_language: Mapping[str, str]) -> str:
    """The question's language, or "<question>-><documents>" when its gold documents are all in
    another one (an English question about a Korean document: "en->ko")."""
    asked = detect_language(question)
    languages = {doc_language.get(doc, "") for doc, _ in gold} - {"", "mixed"}
    if asked != "mixed" and len(languages) == 1 and asked not in languages:
        return f"{asked}->{languages.pop()}"
    return asked


Search = Callable[[str], list[Passage]]


def run_retrieval(
    questions: Sequence[dict[str, Any]],
    search: Search,
    doc_language: Mapping[str, str] | None = None,
) -> BenchmarkReport:
    """Score the questions that have gold pages (unanswerable ones have none and are left out)."""
    results: list[QuestionResult] = []
    for row in questions:
        gold = gold_pages(row)
        if not gold:
            continue
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
                slice=question_slice(str(row["question"]), gold, doc_language or {}),
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
    """Index the pages (a pages.jsonl[.gz] file, or a folder of documents) into a temporary
    home with `build`, then score the questions."""
    if pages_path.is_dir():
        docs = documents_from_folder(pages_path)
    else:
        docs = documents_from_pages(read_jsonl(pages_path))
    questions = read_jsonl(questions_path)
    doc_language = {d.doc_id: d.language for d in docs}
    with tempfile.TemporaryDirectory(prefix="policyqa-eval-") as tmp:
        started = time.perf_counter()
        search, chunks = build(Path(tmp), docs)
        index_seconds = time.perf_counter() - started
        report = run_retrieval(questions, search, doc_language)
    report.index_seconds = index_seconds
    report.chunks = chunks
    return report
