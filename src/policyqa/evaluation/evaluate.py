"""`policyqa eval`: scores the live system on a question file (the curated set, or any file of
real-docs-dev's shape against an index of its documents). Answer scoring is in `metrics`,
rows and the report in `report`, page-level retrieval metrics and `eval-retrieval` in
`retrieval`."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policyqa.core.language import detect_language
from policyqa.core.models import Passage
from policyqa.core.settings import effective_configuration
from policyqa.evaluation.metrics import (
    GoldQuestion,
    PageText,
    Shown,
    ShownCitation,
    read_question,
    score_answer,
    slice_labels,
)
from policyqa.evaluation.report import (
    CitationCheck,
    EvalRow,
    markdown_report,
    summarise_groups,
    write_chart,
)
from policyqa.evaluation.retrieval import first_hit_rank, merge_pages, read_jsonl
from policyqa.ingest.load import file_sha256

log = logging.getLogger(__name__)

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
    # every setting with its source, the declared environment variables and the tuning
    # constants, as `policyqa stats --json` prints them; secrets show only that they are set
    configuration = effective_configuration(settings)
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
            "page_heads_embedded": ingest_report.page_heads_embedded,
            "rejected": [{"path": r.path, "reason": r.reason} for r in ingest_report.rejected],
        },
        "settings": {
            **{row["name"]: row["value"] for row in configuration["settings"]},
            "answerer": answerer,
            "retrieval_k": k,
            "slices": list(slices),
        },
        "configuration": configuration,
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
