"""What the lexical side costs on an existing index, and how queries perform on it.

Run against an index built by `bench/scale.py` (or any POLICYQA_HOME); it never re-embeds the
index, so a 100k-chunk index built once can be measured again after code changes:

    POLICYQA_EMBEDDER=use-multilingual .venv/bin/python bench/lexical_refresh.py \
        --home /tmp/bench100k/home-copy --collection scale --json bench/results/x.json

Each step runs in its own subprocess so that "a new process" is a new process:

- cold: a new process builds the lexical state with an empty analysis cache (Kiwi tokenizes every
  chunk, glosses and regions are found anew) - what the first start after an upgrade pays;
- warm: a new process builds it with the cache on disk - what every restart pays;
- refresh: in one process, after the warm build, one new document is ingested (a few chunks,
  embedded for real) and the state is refreshed - what the first query after an ingest pays;
- queries: retrieve and ask (extractive) p50/p95 over `--questions` eval questions, the raw
  Chroma query and raw BM25 scores on the same index, and peak RSS of that process.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # bench/scale.py: question selection and measuring helpers

NEW_DOCUMENT = (
    "# 새 공지\n\n해오름시는 2027년 3월부터 수소버스 40대를 도입한다 (hydrogen bus).\n\n"
    "## Notice\n\nHaeoreum City introduces 40 hydrogen buses from March 2027.\n"
)


def settings_for(args: argparse.Namespace) -> Any:
    from policyqa.core.settings import Settings

    return Settings.from_env().replace(
        home=Path(args.home), chroma_url="", collection=args.collection, llm_url="", llm_gguf=""
    )


def step(args: argparse.Namespace) -> dict[str, Any]:
    from policyqa.pipeline import Pipeline

    settings = settings_for(args)
    cache = settings.home / "lexical" / f"{settings.collection}.jsonl"
    out: dict[str, Any] = {"step": args.step}
    if args.step == "cold" and cache.exists():
        cache.unlink()
    pipeline = Pipeline(settings)
    started = time.perf_counter()
    state = pipeline.searcher.lexical()
    out["build_seconds"] = time.perf_counter() - started
    out["chunks"] = len(state.chunks)
    if args.step == "refresh":
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "bench-new-notice.md"
            source.write_text(NEW_DOCUMENT, encoding="utf-8")
            started = time.perf_counter()
            report = pipeline.ingest([source])
            out["ingest_seconds"] = time.perf_counter() - started
            out["ingest_embedded"] = report.embedded
            pipeline.searcher.invalidate()
            started = time.perf_counter()
            refreshed = pipeline.searcher.lexical()
            out["refresh_seconds"] = time.perf_counter() - started
            out["chunks_after"] = len(refreshed.chunks)
            hits = pipeline.search("해오름시 수소버스")
            out["new_document_found"] = bool(hits) and hits[0].chunk.doc_id.endswith(
                "bench-new-notice.md"
            )
            # Leave the index as it was for the query step.
            pipeline.store.remove_document(report_doc_id(pipeline, "bench-new-notice.md"))
    if args.step == "queries":
        out.update(queries(pipeline, args))
    out["memory"] = scale.memory()
    return out


def report_doc_id(pipeline: Any, name: str) -> str:
    """The doc id the ingest gave the new file (its name, relative to the folder it was in)."""
    for chunk in pipeline.searcher.lexical().chunks:
        if chunk.doc_id.endswith(name):
            return str(chunk.doc_id)
    return name


def queries(pipeline: Any, args: argparse.Namespace) -> dict[str, Any]:
    questions = scale.select_questions(Path(args.questions_file), args.questions)
    texts = [q["question"] for q in questions]
    for text in texts[:5]:
        # Not the timed questions themselves: their vectors would then come from the cache.
        pipeline.search(f"{text} (warm-up)")
        pipeline.ask(f"{text} (warm-up)")
    search_ms, ask_ms = [], []
    for text in texts:
        pipeline.searcher.forget_questions()  # each question timed cold, also the answer
        search_ms.append(scale.timed_ms(lambda t=text: pipeline.search(t))[0])
    for text in texts:
        pipeline.searcher.forget_questions()
        ask_ms.append(scale.timed_ms(lambda t=text: pipeline.ask(t))[0])
    searcher = pipeline.searcher
    state = searcher.lexical()
    spec, embeddings = searcher.embedders[0]
    vectors = [embeddings.embed_query(t) for t in texts]
    tokens = [searcher.tokenizer.tokenize(t) for t in texts]
    chroma_ms = [
        scale.timed_ms(lambda v=v: pipeline.store.query(spec, v, searcher.candidates, None))[0]
        for v in vectors
    ]
    bm25_ms = [
        scale.timed_ms(lambda t=t: scale.raw_bm25_top(state.index, t, searcher.candidates))[0]
        for t in tokens
    ]
    embed_ms = [scale.timed_ms(lambda t=t: embeddings.embed_query(t + " "))[0] for t in texts]
    tokenizer = searcher.tokenizer
    tokenize_ms = [scale.timed_ms(lambda t=t: tokenizer.tokenize(t + " "))[0] for t in texts]
    result: dict[str, Any] = {
        "questions": len(texts),
        "retrieve": scale.latency(search_ms),
        "ask": scale.latency(ask_ms),
        "raw_chroma": scale.latency(chroma_ms),
        "raw_bm25": scale.latency(bm25_ms),
        "query_embedding": scale.latency(embed_ms),
        "tokenize": scale.latency(tokenize_ms),
    }
    result.update(scale.retrieve_ratios(result, "query_embedding"))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--collection", default="scale")
    parser.add_argument("--json", type=Path, default=Path("bench/results/lexical-refresh.json"))
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--questions-file", default=str(scale.DEFAULT_QUESTIONS))
    parser.add_argument("--copy", action="store_true", help="work on a copy of --home")
    parser.add_argument("--steps", default="cold,warm,refresh,queries", help="which, in order")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args)))
        return 0
    home = Path(args.home)
    work = Path(tempfile.mkdtemp(prefix="policyqa-lexbench-")) / "home" if args.copy else home
    if args.copy:
        shutil.copytree(home, work)
    results: dict[str, Any] = {"home": str(home), "steps": {}}
    try:
        for name in [n.strip() for n in args.steps.split(",") if n.strip()]:
            command = [sys.executable, __file__, "--home", str(work), "--step", name]
            command += ["--collection", args.collection, "--questions", str(args.questions)]
            command += ["--questions-file", args.questions_file]
            scale.log(f"step {name}")
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                return done.returncode
            results["steps"][name] = json.loads(done.stdout.strip().splitlines()[-1])
            scale.log(json.dumps(results["steps"][name])[:400])
    finally:
        if args.copy:
            shutil.rmtree(work.parent, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
