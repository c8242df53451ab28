"""`policyqa` command line: parse, call the library, print."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyqa.answering.condense import is_history
from policyqa.app.stats import stats_json
from policyqa.core.models import Filters, Passage
from policyqa.core.settings import Settings, SettingsError, add_setting_flags, settings_from_args
from policyqa.index.embed import EmbedderError
from policyqa.index.store import IndexDamagedError, IndexMismatchError
from policyqa.ingest.indexer import IngestLockedError
from policyqa.llm.backends import LLMError

if TYPE_CHECKING:
    from policyqa.answering.answer import Answer
    from policyqa.pipeline import Pipeline

log = logging.getLogger("policyqa")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policyqa",
        description="Question answering with citations over policy documents (Korean/English).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    add_setting_flags(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="index files (PDF, Markdown, text); incremental")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (default: corpus)")
    ingest.add_argument("--prune", action="store_true", help="remove documents no longer found")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar")

    retrieve = commands.add_parser("retrieve", help="show the passages retrieved for a question")
    retrieve.add_argument("question")
    retrieve.add_argument("--k", type=int, default=None, help="passages to show")
    retrieve.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata filter, e.g. doc_id=overview-en.pdf or language=ko "
        "(repeatable; a|b for any)",
    )
    retrieve.add_argument("--json", action="store_true", help="print JSON")

    ask = commands.add_parser("ask", help="answer a question with verified citations")
    ask.add_argument("question")
    ask.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata filter as for retrieve; region=<id> keeps that region and nationwide text",
    )
    ask.add_argument(
        "--history",
        type=Path,
        default=None,
        help='JSON file with the conversation so far: [{"role": "user", "content": ...}]',
    )
    ask.add_argument("--briefing", action="store_true", help="print a Markdown briefing note")
    ask.add_argument("--json", action="store_true", help="print JSON")

    evaluate = commands.add_parser(
        "eval", help="score the system on a question file (default: the curated evaluation set)"
    )
    evaluate.add_argument(
        "--questions",
        type=Path,
        default=Path("eval/questions.jsonl"),
        help="JSONL questions: the curated set's shape (sources) or doc/pages/key_facts",
    )
    evaluate.add_argument(
        "--docs",
        type=Path,
        default=None,
        metavar="DIR",
        help="the questions' documents: indexed (or reused, keyed by the files' contents) in an "
        "index of their own under POLICYQA_HOME; default: the corpus and the main index",
    )
    evaluate.add_argument("--out", type=Path, default=Path("results"), help="report directory")
    evaluate.add_argument("--retrieval-only", action="store_true", help="skip answering")
    evaluate.add_argument(
        "--slice",
        action="append",
        default=[],
        help="only questions in this group (a slice, origin or language pair such as en→ko)",
    )

    stats = commands.add_parser("stats", help="documents, chunks, embedders and index location")
    stats.add_argument("--json", action="store_true", help="JSON, with the full configuration")
    reset = commands.add_parser("reset", help="delete the index (collections and caches)")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    bench = commands.add_parser(
        "eval-retrieval", help="page-level retrieval benchmark on pages.jsonl + questions.jsonl"
    )
    bench.add_argument(
        "--pages",
        type=Path,
        required=True,
        help="pages.jsonl[.gz] ({doc, page, text} rows), or a folder of PDF/Markdown/text files",
    )
    bench.add_argument(
        "--questions",
        type=Path,
        required=True,
        help="questions.jsonl: gold as sources [{doc, page}] or as doc + pages (real-docs-dev)",
    )
    bench.add_argument(
        "--retriever",
        default="default",
        help="default (the fusion), bm25 (BM25 on the question's words alone), lexical (BM25 "
        "with translated terms for the other language's passages), dense:<embedder slug> (one "
        "embedder alone, e.g. dense:use-multilingual), or rrf (equal-weight reciprocal rank "
        "fusion of all lists)",
    )
    bench.add_argument("--json", action="store_true", help="print JSON with per-question rows")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = settings_from_args(args)
        handler = _COMMANDS[args.command]
        return handler(args, settings)
    except (
        SettingsError,
        EmbedderError,
        IndexMismatchError,
        IndexDamagedError,
        IngestLockedError,
        LLMError,
        ValueError,
    ) as exc:
        print(f"policyqa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("policyqa: interrupted", file=sys.stderr)
        return 130


def _pipeline(settings: Settings) -> Pipeline:
    from policyqa.pipeline import Pipeline

    return Pipeline(settings)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    pipeline = _pipeline(settings)
    show = not args.no_progress and sys.stderr.isatty()
    report = pipeline.ingest(args.paths or None, prune=args.prune, show_progress=show)
    for rejection in report.rejected:
        print(f"rejected: {rejection.path}: {rejection.reason}", file=sys.stderr)
    for doc_id in report.removed_docs:
        print(f"removed: {doc_id}")
    print(report.summary())
    calibration = pipeline.searcher.calibration
    if calibration is not None:
        print(
            f"calibrated: term tables {calibration.terms}, "
            f"{sum(calibration.questions.values())} pseudo-questions, {calibration.seconds:.1f} s"
        )
    return 0


def _filters(args: argparse.Namespace, settings: Settings) -> Filters | None:
    from policyqa.domain import load_domain
    from policyqa.retrieval.filters import parse_filters

    return parse_filters(args.filter, load_domain(settings.domain).areas) if args.filter else None


def cmd_retrieve(args: argparse.Namespace, settings: Settings) -> int:
    from policyqa.domain import load_domain
    from policyqa.retrieval.filters import parse_filters

    filters = (
        parse_filters(args.filter, load_domain(settings.domain).areas) if args.filter else None
    )
    passages = _pipeline(settings).search(args.question, args.k, filters)
    if args.json:
        print(json.dumps([passage_json(p) for p in passages], ensure_ascii=False, indent=2))
        return 0
    if not passages:
        print(
            "no passages found" + (" (index empty? run `policyqa ingest`)" if not filters else "")
        )
        return 0
    for p in passages:
        c = p.chunk
        where = f"{c.title} ({c.doc_id}), p. {c.page_label}"
        if c.section:
            where += f", {c.section}"
        print(f"[{p.rank}] {p.score:.3f}  {where}")
        print("    " + c.text.replace("\n", " ")[:400])
    return 0


def passage_json(p: Passage) -> dict[str, Any]:
    c = p.chunk
    return {
        "rank": p.rank,
        "chunk_id": c.id,
        "doc": c.doc_id,
        "title": c.title,
        "page": c.page,
        "page_label": c.page_label,
        "section": c.section,
        "score": p.score,
        "text": c.text,
    }


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    pipeline = _pipeline(settings)
    store = pipeline.store
    store.check_compatible()
    manifest = store.manifest()
    location = settings.chroma_url or str((settings.home / "chroma").resolve())
    if args.json:
        print(json.dumps(stats_json(settings, args, store, location), ensure_ascii=False, indent=1))
        return 0
    print(f"index: {location} (collections {settings.collection}-*)")
    print(f"embedders: {settings.embedder}")
    print(f"documents: {len(manifest)}, chunks: {store.count_chunks()}")
    for entry in sorted(manifest.values(), key=lambda e: e.doc_id):
        print(
            f"  {entry.doc_id}: {entry.pages} pages, {entry.chunks} chunks, "
            f"{entry.language}, {entry.title}"
        )
    return 0


def cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes and sys.stdin.isatty():
        answer = input(f"Delete the index '{settings.collection}'? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            print("nothing deleted")
            return 1
    from policyqa.ingest.indexer import ingest_lock

    # Under the ingest lock: a reset in the middle of an ingest would leave half an index.
    with ingest_lock(settings.home):
        # The lexical caches of the collection, one per domain pack (.pkl: older versions').
        for cache in (settings.home / "lexical").glob(f"{settings.collection}*"):
            if cache.suffix in (".jsonl", ".pkl"):
                cache.unlink(missing_ok=True)
        folder = settings.home / "chroma"
        if not settings.chroma_url and not _chroma_opens(folder):
            # A damaged index cannot be opened to delete its collections: remove its files.
            shutil.rmtree(folder, ignore_errors=True)
            print(f"deleted the damaged index folder {folder}")
            return 0
        deleted = _pipeline(settings).store.reset()
    print(f"deleted {len(deleted)} collections" + (f": {', '.join(deleted)}" if deleted else ""))
    return 0


def _chroma_opens(folder: Path) -> bool:
    """Whether the embedded Chroma database in `folder` can be read (checked without Chroma:
    opening a damaged one can fail in many ways)."""
    from policyqa.index.store import check_embedded

    try:
        check_embedded(folder)
    except Exception:
        return False
    return True


def cmd_eval_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    from policyqa.evaluation.retrieval import eval_retrieval
    from policyqa.pipeline import Pipeline

    k = max(settings.top_k, 30)  # enough chunks for 10 distinct pages
    from policyqa.index.embed import parse_embedders
    from policyqa.retrieval.weighing import RETRIEVERS

    choices = set(RETRIEVERS) | {f"dense:{s.slug}" for s in parse_embedders(settings.embedder)}
    if args.retriever not in choices:
        raise ValueError(f"--retriever must be one of {', '.join(sorted(choices))}")

    def build(home: Path, docs: list[Any]) -> tuple[Any, int]:
        pipeline = Pipeline(settings.replace(home=home, chroma_url="", collection="bench"))
        pipeline.index_documents(docs)  # calibrates the index too
        searcher = pipeline.searcher
        searcher.retriever = args.retriever
        return (lambda q: searcher.search(q, k)), pipeline.store.count_chunks()

    report = eval_retrieval(args.pages, args.questions, build)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.table())
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from policyqa.domain import load_domain
    from policyqa.retrieval.filters import parse_filters

    filters = (
        parse_filters(args.filter, load_domain(settings.domain).areas) if args.filter else None
    )
    history = _read_history(args.history) if args.history else []
    pipeline = _pipeline(settings)
    answer = pipeline.ask(args.question, history, filters, briefing=args.briefing)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    elif args.briefing:
        print(pipeline.brief(answer))
    else:
        print(format_answer(answer))
    return 0 if answer.answered else 1


def _read_history(path: Path) -> list[dict[str, str]]:
    try:
        turns = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read history {path}: {exc}") from exc
    if not is_history(turns):
        raise ValueError(f"{path}: history must be a list of {{role, content}} objects")
    return [{"role": str(t.get("role", "user")), "content": t["content"]} for t in turns]


def format_answer(answer: Answer) -> str:
    lines = [answer.text]
    lines += [f"({note})" if not note.startswith("(") else note for note in answer.notes]
    if answer.citations:
        lines.append("")
        lines.append("Sources:" if answer.language != "ko" else "출처:")
        for c in answer.citations:
            where = f"{c.title} ({c.doc}), p. {c.page_label}" + (
                f", {c.section}" if c.section else ""
            )
            lines.append(f"[{c.n}] {where}")
            lines.append(f"    \u201c{' '.join(c.quote.split())}\u201d")
    elif not answer.answered and answer.passages:
        lines.append("")
        lines.append("Closest passages:" if answer.language != "ko" else "가장 가까운 구절:")
        for p in answer.passages[:3]:
            chunk = p.chunk
            lines.append(
                f"- {chunk.title} ({chunk.doc_id}), p. {chunk.page_label}: {chunk.text[:160]}"
            )
    return "\n".join(lines)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from policyqa.evaluation.evaluate import run_curated_eval

    report = run_curated_eval(
        settings,
        args.questions,
        args.out,
        answers=not args.retrieval_only,
        slices=args.slice,
        docs=args.docs,
    )
    print(report)
    return 0


_COMMANDS = {
    "ask": cmd_ask,
    "eval": cmd_eval,
    "ingest": cmd_ingest,
    "retrieve": cmd_retrieve,
    "stats": cmd_stats,
    "reset": cmd_reset,
    "eval-retrieval": cmd_eval_retrieval,
}


if __name__ == "__main__":
    raise SystemExit(main())
