"""Page-level retrieval evaluation: metrics as plain functions, and a benchmark runner that
builds a throw-away index from a `pages.jsonl` + `questions.jsonl` set (no PDF step)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from policyqa.core.language import detect_language
from policyqa.core.models import Document, Page, Passage

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


# -- the curated evaluation set: retrieval, answers, citations, refusals ------------------------

GROUPINGS = ("slice", "language", "persona")


@dataclass
class EvalRow:
    id: str
    slice: str
    language: str
    persona: str
    answerable: bool
    question: str
    standalone_question: str
    gold: list[PageKey]
    ranked: list[PageKey]
    rank: int | None
    answered: bool | None = None
    answer: str = ""
    notes: list[str] = field(default_factory=list)
    key_facts: list[str | list[str]] = field(default_factory=list)
    facts_found: list[bool] = field(default_factory=list)
    citations: int = 0
    citations_ok: int = 0
    citation_errors: list[str] = field(default_factory=list)
    support: float | None = None
    refusal: str = ""
    latency_ms: float = 0.0


def key_fact_hits(text: str, facts: Sequence[str | Sequence[str]]) -> list[bool]:
    """Whether each key fact occurs in the answer (spacing, case and separators ignored; a full
    date matches in any of its written forms). A fact given as a list of wordings (the same
    fact in Korean and in English) is found when any of them is."""
    from policyqa.core.text import canonical_dates, normalise_for_match

    def normal(value: str) -> str:
        return normalise_for_match(canonical_dates(value))

    haystack = normal(text)
    return [any(normal(w) in haystack for w in ([f] if isinstance(f, str) else f)) for f in facts]


def citation_problems(
    sentence: str,
    quote: str,
    page_text: str | None,
    supports: Callable[[str, str], bool],
) -> list[str]:
    """Mechanical citation check: the quote is on the cited page and supports the sentence."""
    from policyqa.core.text import normalise_for_match

    problems = []
    if page_text is None:
        problems.append("cited page does not exist")
    elif normalise_for_match(quote) not in normalise_for_match(page_text):
        problems.append("quote is not on the cited page")
    if not supports(sentence, quote):
        problems.append("quote does not support the sentence")
    return problems


def _rate(values: Sequence[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(rows: Sequence[EvalRow], answers: bool = True) -> dict[str, Any]:
    """Metrics for a set of rows; answer metrics are None when answering was not run."""
    with_gold = [r for r in rows if r.answerable and r.gold]
    metrics = retrieval_metrics([r.rank for r in with_gold])
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    facts = [hit for r in answerable for hit in r.facts_found]
    cited = sum(r.citations for r in rows)
    latencies = [r.latency_ms for r in rows]
    out: dict[str, Any] = {
        "questions": len(rows),
        "hit@1": round(metrics.hit[1], 3) if with_gold else None,
        "hit@5": round(metrics.hit[5], 3) if with_gold else None,
        "mrr@10": round(metrics.mrr10, 3) if with_gold else None,
        "key_fact_recall": None,
        "citation_accuracy": None,
        "refusal_rate": None,
        "false_refusal_rate": None,
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
    }
    if answers:
        recall = _rate(facts)
        out["key_fact_recall"] = round(recall, 3) if recall is not None else None
        out["citation_accuracy"] = (
            round(sum(r.citations_ok for r in rows) / cited, 3) if cited else None
        )
        refused = _rate([r.answered is False for r in unanswerable])
        false_refused = _rate([r.answered is False for r in answerable])
        out["refusal_rate"] = round(refused, 3) if refused is not None else None
        out["false_refusal_rate"] = round(false_refused, 3) if false_refused is not None else None
    return out


def summarise_groups(rows: Sequence[EvalRow], answers: bool = True) -> dict[str, Any]:
    report: dict[str, Any] = {"overall": summarise(rows, answers)}
    for grouping in GROUPINGS:
        values = sorted({str(getattr(r, grouping)) for r in rows})
        report[grouping] = {
            v: summarise([r for r in rows if str(getattr(r, grouping)) == v], answers)
            for v in values
        }
    return report


METRIC_COLUMNS = (
    "questions",
    "hit@1",
    "hit@5",
    "mrr@10",
    "key_fact_recall",
    "citation_accuracy",
    "refusal_rate",
    "false_refusal_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.0f}"
    return str(value)


def markdown_report(summary: Mapping[str, Any], rows: Sequence[EvalRow], header: str) -> str:
    lines = [header, "", "| group | " + " | ".join(METRIC_COLUMNS) + " |"]
    lines.append("|---" * (len(METRIC_COLUMNS) + 1) + "|")

    def add(name: str, metrics: Mapping[str, Any]) -> None:
        lines.append(f"| {name} | " + " | ".join(_cell(metrics[c]) for c in METRIC_COLUMNS) + " |")

    add("overall", summary["overall"])
    for grouping in GROUPINGS:
        for value, metrics in summary[grouping].items():
            add(f"{grouping}={value}", metrics)
    lines += [
        "",
        "n/a: not applicable to the group (e.g. refusal rate without unanswerable questions), or",
        "answer metrics when answering was not run.",
        "",
        "## Questions that missed",
        "",
        "| id | rank | answered | facts | citations ok | question |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        missed_fact = r.answerable and not all(r.facts_found or [False])
        wrong_refusal = r.answered is not None and r.answered != r.answerable
        bad_citation = r.citations_ok < r.citations
        retrieval_miss = r.answerable and bool(r.gold) and (r.rank is None or r.rank > 5)
        if missed_fact or wrong_refusal or bad_citation or retrieval_miss:
            facts = f"{sum(r.facts_found)}/{len(r.facts_found)}" if r.facts_found else "-"
            question = r.question.replace("|", "/")[:90]
            lines.append(
                f"| {r.id} | {r.rank or '-'} | {r.answered} | {facts} | "
                f"{r.citations_ok}/{r.citations} | {question} |"
            )
    return "\n".join(lines) + "\n"


def write_chart(summary: Mapping[str, Any], path: Path) -> bool:
    """Bar chart of the main metrics per language and persona; False if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    metrics = ("hit@5", "key_fact_recall", "citation_accuracy", "refusal_rate")
    groups = [("overall", summary["overall"])]
    for grouping in ("language", "persona"):
        groups += [(f"{grouping}={k}", v) for k, v in summary[grouping].items()]
    fig, ax = plt.subplots(figsize=(max(8, len(groups) * 1.4), 4.5))
    width = 0.8 / len(metrics)
    for i, metric in enumerate(metrics):
        values = [float(g[1].get(metric) or 0.0) for g in groups]
        positions = [x + i * width for x in range(len(groups))]
        ax.bar(positions, values, width, label=metric)
    ax.set_xticks([x + width * (len(metrics) - 1) / 2 for x in range(len(groups))])
    ax.set_xticklabels([g[0] for g in groups], rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("policyqa evaluation")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


Ask = Callable[[str, Sequence[Mapping[str, str]]], Any]  # -> answer.Answer
PageText = Callable[[str, int], "str | None"]


def run_eval(
    questions: Sequence[Mapping[str, Any]],
    search: Callable[[str], list[Passage]],
    ask: Ask | None,
    page_text: PageText,
    supports: Callable[[str, str], bool],
    condense: Callable[[str, Sequence[Mapping[str, str]]], str] | None = None,
) -> list[EvalRow]:
    """Score each question: page-level retrieval for the (condensed) question, then, with `ask`,
    the answer's key facts, its citations (mechanically) and whether it refused."""
    rows: list[EvalRow] = []
    for q in questions:
        history = list(q.get("history") or [])
        question = str(q["question"])
        gold = sorted({(str(s["doc"]), int(s["page"])) for s in q.get("sources", [])})
        row = EvalRow(
            id=str(q["id"]),
            slice=str(q.get("slice", "")),
            language=str(q.get("language", "")),
            persona=str(q.get("persona", "")),
            answerable=bool(q.get("answerable", True)),
            question=question,
            standalone_question=question,
            gold=gold,
            ranked=[],
            rank=None,
            key_facts=[
                [str(w) for w in f] if isinstance(f, list) else str(f)
                for f in q.get("key_facts", [])
            ],
        )
        started = time.perf_counter()
        if ask is not None:
            answer = ask(question, history)
            row.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            row.standalone_question = answer.standalone_question
            row.answered = bool(answer.answered)
            row.answer = answer.text
            row.notes = list(answer.notes)
            row.support = round(float(answer.support), 3)
            row.refusal = str(answer.refusal)
            if row.answerable:
                # what the user is shown: the answer and its notes (e.g. the province a
                # city is in), not the refusal message
                shown = "\n".join([answer.text, *answer.notes]) if answer.answered else ""
                row.facts_found = key_fact_hits(shown, row.key_facts)
            _check_citations(row, answer, page_text, supports)
        elif condense is not None and history:
            row.standalone_question = condense(question, history)
        passages = search(row.standalone_question)
        if ask is None:
            row.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        row.ranked = merge_pages(passages)[:10]
        row.rank = first_hit_rank(row.ranked, set(gold))
        rows.append(row)
    return rows


def _check_citations(row: EvalRow, answer: Any, page_text: PageText, supports: Any) -> None:
    by_number = {c.n: c for c in answer.citations}
    for checked in answer.sentences:
        for n in checked.citations:
            citation = by_number.get(n)
            row.citations += 1
            if citation is None:
                row.citation_errors.append(f"[{n}] points at no citation")
                continue
            problems = citation_problems(
                checked.text, citation.quote, page_text(citation.doc, citation.page), supports
            )
            if problems:
                row.citation_errors.append(f"[{n}] {'; '.join(problems)}")
            else:
                row.citations_ok += 1


def run_curated_eval(
    settings: Any,
    questions_path: Path,
    out_dir: Path,
    answers: bool = True,
    slices: Sequence[str] = (),
) -> str:
    """`policyqa eval`: ingest the corpus (a no-op when unchanged), score every question, write
    report.md, report.json and metrics.png under `out_dir`, return the Markdown report."""
    from datetime import datetime

    from policyqa.answering.condense import condense
    from policyqa.ingest.load import load_file
    from policyqa.pipeline import Pipeline

    questions = read_jsonl(questions_path)
    if slices:
        questions = [q for q in questions if q.get("slice") in set(slices)]
    if not questions:
        raise ValueError(f"no questions to score in {questions_path}")
    pipeline = Pipeline(settings)
    pipeline.ingest()
    pages: dict[tuple[str, int], str] = {}
    corpus = Path(settings.corpus)
    for doc_id in {str(s["doc"]) for q in questions for s in q.get("sources", [])}:
        path = corpus / doc_id
        if not path.exists():
            raise ValueError(f"gold source {doc_id} is not in the corpus folder {corpus}")
        for page in load_file(path, doc_id).pages:
            pages[(doc_id, page.page)] = page.text
    for chunk in pipeline.store.all_chunks():  # cited pages outside the gold sources
        pages.setdefault((chunk.doc_id, chunk.page), "")
        if chunk.text not in pages[(chunk.doc_id, chunk.page)]:
            pages[(chunk.doc_id, chunk.page)] += "\n" + chunk.text

    searcher = pipeline.searcher
    checker = pipeline.assistant.checker
    k = max(settings.top_k, 30)
    rows = run_eval(
        questions,
        search=lambda q: searcher.search(q, k),
        ask=(lambda q, h: pipeline.ask(q, h)) if answers else None,
        page_text=lambda doc, page: pages.get((doc, page)),
        supports=lambda sentence, quote: checker.check(sentence, quote)[0],
        condense=lambda q, h: condense(q, h, pipeline.domain),
    )
    summary = summarise_groups(rows, answers)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"# policyqa evaluation ({stamp})\n\n{len(rows)} questions from {questions_path}; "
        f"embedders {settings.embedder}; answerer "
        f"{pipeline.answerer_name() if answers else 'not run (retrieval only)'}; "
        f"{pipeline.store.count_chunks()} chunks."
    )
    report = markdown_report(summary, rows, header)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(report, encoding="utf-8")
    payload = {
        "summary": summary,
        "rows": [asdict(r) for r in rows],
        "settings": {
            "embedder": settings.embedder,
            "answerer": pipeline.answerer_name() if answers else None,
            "min_support": settings.min_support,
            "questions": str(questions_path),
        },
    }
    (out_dir / "report.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    charted = write_chart(summary, out_dir / "metrics.png")
    return report.split("## Questions that missed")[0].rstrip() + (
        f"\n\nReport: {out_dir / 'report.md'}, {out_dir / 'report.json'}"
        + (f", {out_dir / 'metrics.png'}" if charted else "")
    )
