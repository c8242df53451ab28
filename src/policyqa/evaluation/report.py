"""The evaluation's rows and report: per-question records, metrics per group of questions, the
Markdown report with its definitions and the chart."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyqa.evaluation.metrics import PageKey
from policyqa.evaluation.retrieval import percentile, retrieval_metrics

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
