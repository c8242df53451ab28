"""Evaluation: page-level retrieval metrics as plain functions; a benchmark runner that builds
a throw-away index from a `pages.jsonl` + `questions.jsonl` set (no PDF step); and `policyqa
eval`, which scores the live system on a question file (the curated set, or any file of
real-docs-dev's shape against an index of its documents). Answer scoring is in `metrics`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from policyqa.core.language import detect_language
from policyqa.core.models import Document, Page, Passage
from policyqa.evaluation.metrics import (
    GoldQuestion,
    PageKey,
    PageText,
    Shown,
    ShownCitation,
    read_question,
    score_answer,
    slice_labels,
)
from policyqa.ingest.load import file_sha256

log = logging.getLogger(__name__)

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


# -- evaluation on a question file: retrieval, answers, citations, refusals --------------------

# Groupings of the report, in order; a grouping no question has a value for is left out.
GROUPINGS = ("languages", "slice", "origin", "language", "persona")


@dataclass
class CitationCheck:
    n: int
    doc: str
    page: int
    page_label: str
    quote: str
    on_page: bool  # the quote, normalised, is in the page's text as pypdf extracts it
    gold_page: bool  # (doc, page) is one of the question's gold pages


@dataclass
class EvalRow:
    id: str
    question: str
    language: str
    answerable: bool
    slices: dict[str, str]
    gold: list[PageKey]
    gold_docs: list[str]
    standalone_question: str = ""
    ranked: list[PageKey] = field(default_factory=list)
    rank: int | None = None  # first gold page among the retrieved pages
    doc_rank: int | None = None  # first gold document among the retrieved documents
    answered: bool | None = None
    answer: str = ""
    notes: list[str] = field(default_factory=list)
    citations: list[CitationCheck] = field(default_factory=list)
    key_facts: list[list[str]] = field(default_factory=list)
    facts_in_answer: list[bool] = field(default_factory=list)
    facts_in_notes_only: list[bool] = field(default_factory=list)
    gold_page_cited: bool | None = None
    quotes_on_page: bool | None = None  # every quote on its page; None without citations
    control_chars: list[str] = field(default_factory=list)  # "U+0007", once each
    support: float | None = None
    refusal: str = ""
    latency_ms: float = 0.0


def _rate(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def summarise(rows: Sequence[EvalRow], answers: bool = True) -> dict[str, Any]:
    """Metrics for a set of rows; answer metrics are None when answering was not run, and any
    metric is None when the rows hold no question it applies to."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    pages = [r.rank for r in answerable if r.gold]
    docs = [r.doc_rank for r in answerable if r.gold_docs]
    by_page = retrieval_metrics(pages)
    by_doc = retrieval_metrics(docs)
    latencies = [r.latency_ms for r in rows]
    out: dict[str, Any] = {
        "questions": len(rows),
        "hit@1": round(by_page.hit[1], 3) if pages else None,
        "hit@5": round(by_page.hit[5], 3) if pages else None,
        "mrr@10": round(by_page.mrr10, 3) if pages else None,
        "doc_hit@1": round(by_doc.hit[1], 3) if docs else None,
        "doc_hit@5": round(by_doc.hit[5], 3) if docs else None,
        "doc_mrr@10": round(by_doc.mrr10, 3) if docs else None,
        "answered_rate": None,
        "key_fact_recall": None,
        "facts_only_in_notes": None,
        "all_facts_rate": None,
        "gold_page_citation": None,
        "citation_accuracy": None,
        "refusal_rate": None,
        "false_refusal_rate": None,
        "control_char_rate": None,
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
    }
    if not answers:
        return out
    out["answered_rate"] = _rate([r.answered is True for r in rows])
    out["key_fact_recall"] = _rate([hit for r in answerable for hit in r.facts_in_answer])
    out["facts_only_in_notes"] = _rate([hit for r in answerable for hit in r.facts_in_notes_only])
    out["all_facts_rate"] = _rate([all(r.facts_in_answer) for r in answerable if r.key_facts])
    out["gold_page_citation"] = _rate(
        [r.gold_page_cited for r in answerable if r.gold_page_cited is not None]
    )
    out["citation_accuracy"] = _rate([c.on_page for r in rows for c in r.citations])
    out["refusal_rate"] = _rate([r.answered is False for r in unanswerable])
    out["false_refusal_rate"] = _rate([r.answered is False for r in answerable])
    out["control_char_rate"] = _rate([bool(r.control_chars) for r in rows])
    return out


def summarise_groups(rows: Sequence[EvalRow], answers: bool = True) -> dict[str, Any]:
    """{"overall": metrics, grouping: {value: metrics}} for each grouping the rows have."""
    report: dict[str, Any] = {"overall": summarise(rows, answers)}
    for grouping in GROUPINGS:
        values = sorted({r.slices[grouping] for r in rows if grouping in r.slices})
        if values:
            report[grouping] = {
                v: summarise([r for r in rows if r.slices.get(grouping) == v], answers)
                for v in values
            }
    return report


METRIC_COLUMNS = (
    "questions",
    "hit@1",
    "hit@5",
    "mrr@10",
    "doc_hit@1",
    "doc_hit@5",
    "doc_mrr@10",
    "answered_rate",
    "key_fact_recall",
    "facts_only_in_notes",
    "all_facts_rate",
    "gold_page_citation",
    "citation_accuracy",
    "refusal_rate",
    "false_refusal_rate",
    "control_char_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)
_HEADERS = {
    "questions": "n",
    "doc_hit@1": "doc hit@1",
    "doc_hit@5": "doc hit@5",
    "doc_mrr@10": "doc mrr@10",
    "answered_rate": "answered",
    "key_fact_recall": "key facts",
    "facts_only_in_notes": "facts only in notes",
    "all_facts_rate": "all facts",
    "gold_page_citation": "gold-page citation",
    "citation_accuracy": "quote on page",
    "refusal_rate": "refusals (unanswerable)",
    "false_refusal_rate": "false refusals",
    "control_char_rate": "control chars",
    "latency_p50_ms": "p50 ms",
    "latency_p95_ms": "p95 ms",
}

DEFINITIONS = """\
- hit@k, mrr@10: page level, over answerable questions with gold pages: the first retrieved
  (doc, page) that is a gold page (chunks of one page merge at the best rank). doc hit@k,
  doc mrr@10: the same for documents.
- answered: share of the group's questions that got an answer, not a refusal.
- key facts (`key_fact_recall`): share of the key facts of answerable questions found in the
  answer text alone (citation markers removed; spacing, case, quote marks, thousands separators
  and date forms normalised). A refusal holds none. facts only in notes: share of key facts the
  notes under the answer hold and its text does not. all facts: share of answerable questions
  whose answer text holds every key fact.
- gold-page citation: share of answered answerable questions with at least one citation on a
  gold (doc, page).
- quote on page (`citation_accuracy`): share of citations whose quote, normalised (NFKC; no
  whitespace, control or format characters), occurs in the text pypdf extracts from the cited
  page of the document file (a Markdown or text file is one page), not in the index's chunks.
- refusals (unanswerable): share of unanswerable questions refused. false refusals: share of
  answerable questions refused.
- control chars: share of questions whose answer, notes or quotes hold a control character
  (Unicode Cc) other than newline and tab.
- p50/p95: time to answer in process (to retrieve, with --retrieval-only), after one warm-up.
- n/a: no question of the group the metric applies to, or answers not run."""


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.0f}"
    return str(value)


def _flat(text: str, limit: int) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def missed(row: EvalRow) -> list[str]:
    """What went wrong for one question, in words (empty when nothing did)."""
    problems = []
    if row.answerable and row.gold and (row.rank is None or row.rank > 5):
        problems.append("gold page not in top 5")
    if row.answered is not None and row.answered != row.answerable:
        problems.append("answered an unanswerable question" if row.answered else "false refusal")
    if row.answerable and row.answered and not all(row.facts_in_answer or [True]):
        problems.append("key facts missing")
    if row.gold_page_cited is False:
        problems.append("no citation on a gold page")
    if row.quotes_on_page is False:
        problems.append("quote not on its page")
    if row.control_chars:
        problems.append("control characters " + " ".join(row.control_chars))
    return problems


def markdown_report(summary: Mapping[str, Any], rows: Sequence[EvalRow], header: str) -> str:
    heads = [_HEADERS.get(c, c) for c in METRIC_COLUMNS]
    lines = [header, "", "| group | " + " | ".join(heads) + " |"]
    lines.append("|---" * (len(METRIC_COLUMNS) + 1) + "|")

    def add(name: str, metrics: Mapping[str, Any]) -> None:
        lines.append(f"| {name} | " + " | ".join(_cell(metrics[c]) for c in METRIC_COLUMNS) + " |")

    add("overall", summary["overall"])
    for grouping in GROUPINGS:
        for value, metrics in summary.get(grouping, {}).items():
            add(f"{grouping}={value}", metrics)
    lines += ["", DEFINITIONS, "", "## Questions that missed", ""]
    lines += [
        "| id | group | rank | answered | facts (answer / notes only / all) | what went wrong "
        "| question | answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        problems = missed(r)
        if problems:
            facts = (
                f"{sum(r.facts_in_answer)} / {sum(r.facts_in_notes_only)} / {len(r.key_facts)}"
                if r.key_facts
                else "-"
            )
            lines.append(
                f"| {r.id} | {r.slices.get('languages', '')} | {r.rank or '-'} | {r.answered} "
                f"| {facts} | {'; '.join(problems)} | {_flat(r.question, 80)} "
                f"| {_flat(r.answer, 160)} |"
            )
    return "\n".join(lines) + "\n"


def write_chart(summary: Mapping[str, Any], path: Path) -> bool:
    """Bar chart of the main metrics per question × document language; False without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    metrics = ("hit@5", "key_fact_recall", "citation_accuracy", "refusal_rate")
    groups = [("overall", summary["overall"])]
    groups += [(f"{k}", v) for k, v in summary.get("languages", {}).items()]
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


def shown_answer(answer: Any) -> Shown:
    """What the user is shown of an `answer.Answer`, as a plain record."""
    return Shown(
        answered=bool(answer.answered),
        text=str(answer.text),
        notes=tuple(str(n) for n in answer.notes),
        citations=tuple(
            ShownCitation(int(c.n), str(c.doc), int(c.page), str(c.page_label), str(c.quote))
            for c in answer.citations
        ),
    )


def scored_row(row: EvalRow, question: GoldQuestion, shown: Shown, page_text: PageText) -> None:
    """Fill the answer columns of `row` from what was shown."""
    score = score_answer(question, shown, page_text)
    row.answered = shown.answered
    row.answer = shown.text
    row.notes = list(shown.notes)
    row.citations = [
        CitationCheck(c.n, c.doc, c.page, c.page_label, c.quote, on_page, gold)
        for c, on_page, gold in zip(
            shown.citations, score.quotes_on_page, score.gold_pages_cited, strict=True
        )
    ]
    row.facts_in_answer = score.facts_in_answer
    row.facts_in_notes_only = score.facts_in_notes_only
    row.gold_page_cited = score.gold_page_cited
    row.quotes_on_page = all(score.quotes_on_page) if score.quotes_on_page else None
    row.control_chars = list(dict.fromkeys(f"U+{ord(ch):04X}" for ch in score.control_chars))


def run_eval(
    questions: Sequence[GoldQuestion],
    search: Callable[[str], list[Passage]],
    ask: Ask | None,
    page_text: PageText,
    doc_languages: Mapping[str, str] | None = None,
    condense: Callable[[str, Sequence[Mapping[str, str]]], str] | None = None,
) -> list[EvalRow]:
    """Score each question: with `ask`, what the answer shows (key facts, quotes on their pages
    as `page_text` gives them, citations on gold pages, refusals, control characters); then
    page- and document-level retrieval for the (condensed) question."""
    rows: list[EvalRow] = []
    for q in questions:
        history = [dict(turn) for turn in q.history]
        row = EvalRow(
            id=q.id,
            question=q.question,
            language=q.language,
            answerable=q.answerable,
            slices=slice_labels(q, doc_languages or {}),
            gold=list(q.pages),
            gold_docs=list(q.docs),
            standalone_question=q.question,
            key_facts=[list(f) for f in q.key_facts],
        )
        started = time.perf_counter()
        if ask is not None:
            answer = ask(q.question, history)
            row.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            row.standalone_question = str(answer.standalone_question)
            row.support = round(float(answer.support), 3)
            row.refusal = str(answer.refusal)
            scored_row(row, q, shown_answer(answer), page_text)
        elif condense is not None and history:
            row.standalone_question = condense(q.question, history)
        passages = search(row.standalone_question)
        if ask is None:
            row.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        row.ranked = merge_pages(passages)[:10]
        row.rank = first_hit_rank(row.ranked, set(q.pages))
        documents = list(dict.fromkeys(p.chunk.doc_id for p in passages))[:10]
        row.doc_rank = first_hit_rank(documents, set(q.docs))
        rows.append(row)
    return rows


# -- the runner's edges: files, the index, the pipeline ------------------------------------------


class SourcePages:
    """The text of each page of a folder's files as pypdf extracts it, read once per file (a
    Markdown or text file is one page): what quotes are checked against, independent of the
    product's loading, cleaning and chunking."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pages: dict[str, list[str] | None] = {}

    def pages(self, doc: str) -> list[str] | None:
        if doc not in self._pages:
            self._pages[doc] = self._read(self.folder / doc)
        return self._pages[doc]

    def text(self, doc: str, page: int) -> str | None:
        pages = self.pages(doc)
        return pages[page - 1] if pages is not None and 1 <= page <= len(pages) else None

    def language(self, doc: str) -> str:
        pages = self.pages(doc)
        return detect_language("\n".join(pages)) if pages else "?"

    @staticmethod
    def _read(path: Path) -> list[str] | None:
        if not path.is_file():
            return None
        if path.suffix.lower() != ".pdf":
            from policyqa.ingest.load import decode_text

            return [decode_text(path.read_bytes())]
        from pypdf import PdfReader

        try:
            reader = PdfReader(str(path), strict=False)
            if reader.is_encrypted:
                reader.decrypt("")
            return [page.extract_text() or "" for page in reader.pages]
        except Exception as exc:  # a file pypdf cannot read has no page to quote from
            log.warning("%s: pypdf cannot read it (%s)", path, exc)
            return None


def docs_index_settings(settings: Any, docs: Path) -> Any:
    """Settings for an index of the folder `docs` alone, under POLICYQA_HOME/eval-index/<key>,
    embedded Chroma: the key digests the folder's files (names and contents, as ingest finds
    them) and the settings that shape an index, so an unchanged folder reuses its index."""
    from policyqa.ingest.indexer import discover
    from policyqa.ingest.load import file_sha256

    if not docs.is_dir():
        raise ValueError(f"--docs {docs}: not a folder")
    exclude = [p.strip() for p in settings.exclude.split(",") if p.strip()]
    files, _ = discover([docs], exclude)
    if not files:
        raise ValueError(f"--docs {docs}: no PDF, Markdown or text files")
    digest = hashlib.sha256(
        f"{settings.embedder}\n{settings.chunk_words}\n{settings.chunk_overlap}\n".encode()
    )
    for source in files:
        digest.update(f"{source.doc_id}\0{file_sha256(source.path)}\n".encode())
    home = Path(settings.home) / "eval-index" / digest.hexdigest()[:16]
    return settings.replace(home=home, corpus=docs, chroma_url="", collection="eval")


def git_commit(where: Path) -> dict[str, Any] | None:
    """The checkout's commit and whether tracked files differ from it; None outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _settings_record(settings: Any) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name == "llm_api_key" and value:
            value = "(set)"
        record[f.name] = str(value) if isinstance(value, Path) else value
    return record


def run_curated_eval(
    settings: Any,
    questions_path: Path,
    out_dir: Path,
    answers: bool = True,
    slices: Sequence[str] = (),
    docs: Path | None = None,
    make_pipeline: Callable[[Any], Any] | None = None,
) -> str:
    """`policyqa eval`: ingest the documents (the corpus into the main index, or with `docs`
    that folder into an index of its own; a no-op when unchanged), score every question of
    the file, write report.md, report.json and metrics.png under `out_dir`, return the
    Markdown summary. `make_pipeline` builds the pipeline from the settings (tests: fakes)."""
    from policyqa.answering.condense import condense
    from policyqa.pipeline import Pipeline

    started = time.perf_counter()
    questions = [read_question(row, n) for n, row in enumerate(read_jsonl(questions_path), 1)]
    duplicates = sorted(qid for qid, n in Counter(q.id for q in questions).items() if n > 1)
    if duplicates:
        raise ValueError(f"{questions_path}: duplicate ids {', '.join(duplicates[:5])}")
    if docs is not None:
        settings = docs_index_settings(settings, docs)
    folder = Path(settings.corpus)
    pipeline = (make_pipeline or Pipeline)(settings)
    ingest_report = pipeline.ingest([folder])
    index_seconds = time.perf_counter() - started
    sources = SourcePages(folder)
    gold_docs = sorted({d for q in questions for d in q.docs})
    absent = [d for d in gold_docs if sources.pages(d) is None]
    if absent:
        raise ValueError(f"gold documents not readable in {folder}: {', '.join(absent[:5])}")
    doc_languages = {d: sources.language(d) for d in gold_docs}
    if slices:
        wanted = set(slices)
        questions = [q for q in questions if wanted & set(slice_labels(q, doc_languages).values())]
    if not questions:
        raise ValueError(f"no questions to score in {questions_path}")

    searcher = pipeline.searcher
    k = max(settings.top_k, 30)  # enough chunks for 10 distinct pages
    if answers:  # models and lexical state load before the first timed question
        pipeline.ask("warm-up")
    else:
        searcher.search("warm-up", 1)
    searcher.forget_questions()
    answering = time.perf_counter()
    rows = run_eval(
        questions,
        search=lambda q: searcher.search(q, k),
        ask=(lambda q, h: pipeline.ask(q, h)) if answers else None,
        page_text=sources.text,
        doc_languages=doc_languages,
        condense=condense,
    )
    answer_seconds = time.perf_counter() - answering
    summary = summarise_groups(rows, answers)
    digest = file_sha256(questions_path)
    commit = git_commit(Path(__file__).resolve().parent)
    answerer = pipeline.answerer_name() if answers else None
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = f"index of {folder} under {settings.home}" if docs is not None else "main index"
    header = (
        f"# policyqa evaluation ({stamp})\n\n{len(rows)} questions from {questions_path} "
        f"(sha256 {digest}); documents: {folder} ({where}, {pipeline.store.count_chunks()} "
        f"chunks, {len(ingest_report.rejected)} files rejected); embedders {settings.embedder}; "
        f"answerer {answerer or 'not run (retrieval only)'}; commit "
        f"{(commit or {}).get('commit', 'unknown')}"
        f"{' with uncommitted changes' if commit and commit['dirty'] else ''}; "
        f"{answer_seconds:.0f} s for the questions, {index_seconds:.0f} s to check the index."
    )
    report = markdown_report(summary, rows, header)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(report, encoding="utf-8")
    payload = {
        "summary": summary,
        "rows": [asdict(r) for r in rows],
        "questions": {"path": str(questions_path), "sha256": digest, "count": len(rows)},
        "git": commit,
        "index": {
            "documents": str(folder),
            "home": str(settings.home),
            "own_index": docs is not None,
            "chunks": pipeline.store.count_chunks(),
            "embedded": ingest_report.embedded,
            "rejected": [{"path": r.path, "reason": r.reason} for r in ingest_report.rejected],
        },
        "settings": {
            **_settings_record(settings),
            "answerer": answerer,
            "retrieval_k": k,
            "slices": list(slices),
        },
        "seconds": {"index": round(index_seconds, 1), "questions": round(answer_seconds, 1)},
    }
    (out_dir / "report.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    charted = write_chart(summary, out_dir / "metrics.png")
    return report.split("\n\n- hit@k")[0].rstrip() + (
        f"\n\nReport: {out_dir / 'report.md'}, {out_dir / 'report.json'}"
        + (f", {out_dir / 'metrics.png'}" if charted else "")
    )
