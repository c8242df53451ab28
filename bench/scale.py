"""Scale benchmark: ingest throughput against the raw embedders, no-op re-ingest, query latency
(retrieve and ask) against raw Chroma and raw BM25, memory and disk, on the bundled corpus and on
synthetic corpora of about 1k / 10k / 100k chunks; embedded vs server Chroma on the bundled corpus.

    .venv/bin/python bench/scale.py                          # bundled + 1000 + 10000 chunks
    .venv/bin/python bench/scale.py --sizes 1000             # quick run: a few minutes
    .venv/bin/python bench/scale.py --sizes 100000 --no-bundled --raw-sample 1000   # hours

Each corpus runs in its own subprocess (`--one NAME`), so memory figures are per corpus. Progress
goes to stderr; the Markdown table to stdout; every figure to --json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO / "bench" / "results" / "scale.json"
DEFAULT_QUESTIONS = REPO / "eval" / "questions.jsonl"
DEFAULT_CORPUS = REPO / "corpus"
COLLECTION = "scale"
SHUFFLE_SHARE = 0.5  # share of a synthetic page's body lines taken from other documents
SWAP_SHARE = 0.5  # share of numbers replaced by another number of as many digits
_NUMBER = re.compile(r"\d+")
_STARTED = time.perf_counter()


class BenchError(RuntimeError):
    """A problem the user can act on; printed without a traceback."""


def log(message: str) -> None:
    print(f"[scale {time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# -- corpora -------------------------------------------------------------------------------------
def load_bundled(corpus: Path, settings: Any) -> tuple[list[Any], float]:
    """The corpus folder as `policyqa ingest` sees it (same exclusions and doc ids)."""
    from policyqa.ingest.indexer import discover
    from policyqa.ingest.load import LoadError, load_file

    if not corpus.is_dir():
        raise BenchError(f"corpus folder {corpus} not found (use --corpus)")
    started = time.perf_counter()
    exclude = [p.strip() for p in settings.exclude.split(",") if p.strip()]
    files, rejected = discover([corpus], exclude)
    docs = []
    for source in files:
        try:
            docs.append(load_file(source.path, source.doc_id))
        except LoadError as exc:
            log(f"skipping {source.path}: {exc}")
    for rejection in rejected:
        log(f"skipping {rejection.path}: {rejection.reason}")
    if not docs:
        raise BenchError(f"no loadable documents under {corpus}")
    return docs, time.perf_counter() - started


def synthetic_corpus(
    base: Sequence[Any], target_chunks: int, chunk_words: int, overlap: int, seed: int
) -> list[Any]:
    """The bundled documents plus variants of them until about `target_chunks` chunks.

    A variant of document T (number i) keeps T's pages, headings and language; half of each
    page's body lines are replaced by lines of other documents in the same language (so texts
    are shuffled across documents, and the Korean/English mix stays that of the corpus), half of
    the numbers in body lines are swapped for others of as many digits, the title gets "#i" and
    every page ends with a line naming the copy, so no two chunks have the same text.
    """
    from policyqa.core.language import detect_language
    from policyqa.core.models import Document, Page
    from policyqa.ingest.split import heading_style, split_document

    rng = random.Random(seed)
    pools: dict[str, list[str]] = {}
    for doc in base:
        for page in doc.pages:
            for line in page.text.splitlines():
                if line.strip() and heading_style(line) is None:
                    pools.setdefault(doc.language, []).append(line)
    everything = [line for lines in pools.values() for line in lines]

    def swap(match: re.Match[str]) -> str:
        digits = match.group(0)
        if rng.random() >= SWAP_SHARE:
            return digits
        n = len(digits)
        return str(rng.randrange(10 ** (n - 1), 10**n)) if n > 1 else str(rng.randrange(10))

    docs = list(base)  # the real documents stay in: the eval questions keep their answers
    total = sum(len(split_document(d, chunk_words, overlap)) for d in base)
    index = 0
    while total < target_chunks:
        template = base[index % len(base)]
        index += 1
        pool = pools.get(template.language) or everything
        mark = f"사본 문서 번호 {index}" if template.language == "ko" else f"Copy no. {index}"
        pages = []
        for page in template.pages:
            lines = []
            for line in page.text.splitlines():
                if line.strip() and heading_style(line) is None:
                    if rng.random() < SHUFFLE_SHARE:
                        line = rng.choice(pool)
                    line = _NUMBER.sub(swap, line)
                lines.append(line)
            lines.append(mark)
            pages.append(Page(page.page, page.page_label, "\n".join(lines)))
        text = "\n".join(p.text for p in pages)
        doc = Document(
            doc_id=f"synthetic/{index:06d}-{template.doc_id}",
            title=f"{template.title} #{index}",
            language=detect_language(text),
            pages=tuple(pages),
            page_count=template.page_count,
            file_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )
        docs.append(doc)
        total += len(split_document(doc, chunk_words, overlap))
    return docs


def select_questions(path: Path, n: int) -> list[dict[str, Any]]:
    """n questions without conversation history, half Korean and half English, evenly spread
    over the file (so every slice - own language, cross-language, region, unanswerable - is in)."""
    from policyqa.evaluation.retrieval import read_jsonl

    if not path.exists():
        raise BenchError(f"questions file {path} not found (use --questions-file)")
    rows = [r for r in read_jsonl(path) if not r.get("history") and r.get("question")]
    picked: list[list[dict[str, Any]]] = []
    for language, share in (("ko", n - n // 2), ("en", n // 2)):
        pool = [r for r in rows if r.get("language") == language]
        if pool and share:
            step = len(pool) / min(share, len(pool))
            picked.append([pool[int(i * step)] for i in range(min(share, len(pool)))])
    # Korean and English alternate, so the warm-up and the profiled subset have both.
    chosen = [row for pair in zip_longest(*picked) for row in pair if row is not None]
    if not chosen:
        raise BenchError(f"no usable questions in {path}")
    return chosen


# -- measuring helpers -------------------------------------------------------------------------
def pct(values: Sequence[float], q: float) -> float | None:
    """Percentile by linear interpolation (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency(values_ms: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(values_ms),
        "p50_ms": pct(values_ms, 50),
        "p95_ms": pct(values_ms, 95),
        "mean_ms": sum(values_ms) / len(values_ms) if values_ms else None,
        "max_ms": max(values_ms) if values_ms else None,
    }


def timed_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


def memory() -> dict[str, float]:
    """Peak RSS (getrusage ru_maxrss, KiB on Linux) and current / peak RSS from /proc."""
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                name = "current_rss_mb" if key == "VmRSS" else "proc_peak_rss_mb"
                out[name] = int(value.split()[0]) / 1024
    return out


def disk_usage(path: Path) -> dict[str, float]:
    """Like `du`: allocated blocks, and the apparent size, in MB."""
    blocks = apparent = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(root, name))
                blocks += st.st_blocks * 512
                apparent += st.st_size
    return {"disk_mb": blocks / 1e6, "disk_apparent_mb": apparent / 1e6}


def environment() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("chromadb", "bm25s", "kiwipiepy", "torch", "sentence-transformers", "numpy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": versions,
    }


@contextlib.contextmanager
def profiled(enabled: bool, target: Path | None, label: str) -> Iterator[None]:
    """cProfile the block into target/<label>.prof and a readable target/<label>.txt."""
    if not enabled or target is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        target.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(str(target / f"{label}.prof"))
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(30)
        (target / f"{label}.txt").write_text(text.getvalue(), encoding="utf-8")
        log(f"profile written to {target / label}.prof / .txt")


def raw_embed(
    embedders: Sequence[tuple[Any, Any]], chunks: Sequence[Any], batch_size: int
) -> dict[str, dict[str, float]]:
    """Seconds each embedder's embed_documents takes on the chunk texts it covers, in batches
    of the pipeline's batch size (what the pipeline would embed, without anything else)."""
    out = {}
    for spec, embeddings in embedders:
        texts = [c.context_text for c in chunks if spec.covers(c.language)]
        started = time.perf_counter()
        for start in range(0, len(texts), batch_size):
            embeddings.embed_documents(texts[start : start + batch_size])
        out[spec.slug] = {"texts": len(texts), "seconds": time.perf_counter() - started}
    return out


class TimedEmbeddings:
    """Passes every call to the pipeline's own embedder and adds up the time spent in
    embed_documents: how much of the ingest is embedding, measured inside the ingest itself
    (so the machine's load drifting between two measurements does not enter)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)  # type: ignore[no-any-return]
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)
            self.calls += 1

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# -- one corpus, in its own process --------------------------------------------------------------
def base_settings(args: argparse.Namespace, home: Path) -> Any:
    """Settings from the environment (POLICYQA_EMBEDDER etc. apply), with a temporary home,
    embedded Chroma and the default extractive answerer whatever the environment says."""
    from policyqa.core.settings import Settings

    if not hasattr(Settings, "replace"):
        raise BenchError("policyqa.core.settings.Settings has no replace() method")
    return Settings.from_env().replace(
        home=home, chroma_url="", collection=COLLECTION, llm_url="", llm_gguf=""
    )


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    from policyqa.ingest.split import split_document

    name = args.one
    result: dict[str, Any] = {"corpus": name, "load_avg_start": os.getloadavg()}
    tmp_parent = Path(args.tmp_dir) if args.tmp_dir else None
    profile_dir = Path(args.profile) if args.profile else None
    with tempfile.TemporaryDirectory(
        prefix=f"policyqa-scale-{name}-", dir=tmp_parent, ignore_cleanup_errors=True
    ) as tmp:
        home = Path(tmp) / "home"
        settings = base_settings(args, home)
        bundled, load_s = load_bundled(Path(args.corpus), settings)
        if name == "bundled":
            docs, gen_s = bundled, 0.0
        else:
            target = int(name)
            started = time.perf_counter()
            docs = synthetic_corpus(
                bundled, target, settings.chunk_words, settings.chunk_overlap, args.seed
            )
            gen_s = time.perf_counter() - started
        chunks = [
            c for d in docs for c in split_document(d, settings.chunk_words, settings.chunk_overlap)
        ]
        result.update(
            documents=len(docs),
            pages=sum(d.page_count for d in docs),
            chunks=len(chunks),
            chunk_languages=dict(Counter(c.language for c in chunks)),
            document_languages=dict(Counter(d.language for d in docs)),
            load_seconds=load_s,
            generate_seconds=gen_s,
            settings={
                "embedder": settings.embedder,
                "chunk_words": settings.chunk_words,
                "chunk_overlap": settings.chunk_overlap,
                "batch_size": settings.batch_size,
                "candidates": settings.candidates,
                "top_k": settings.top_k,
            },
        )
        log(f"{name}: {len(docs)} documents, {result['pages']} pages, {len(chunks)} chunks")
        questions = select_questions(Path(args.questions_file), args.questions)
        measure(name, docs, chunks, questions, settings, args, result, profile_dir)
        if name == "bundled" and not args.no_server:
            result["server"] = server_check(docs, questions, settings, Path(tmp), result)
        result["memory_end"] = memory()
        result["disk"] = disk_usage(home)
        result["load_avg_end"] = os.getloadavg()
    return result


def measure(
    name: str,
    docs: Sequence[Any],
    chunks: Sequence[Any],
    questions: Sequence[dict[str, Any]],
    settings: Any,
    args: argparse.Namespace,
    result: dict[str, Any],
    profile_dir: Path | None,
) -> None:
    from policyqa.core.language import detect_language
    from policyqa.index.embed import load_embeddings, parse_embedders
    from policyqa.index.lexical import shared_kiwi
    from policyqa.pipeline import Pipeline

    specs = parse_embedders(settings.embedder)
    timers = {spec.name: TimedEmbeddings(load_embeddings(spec)) for spec in specs}
    pipeline = Pipeline(settings, embedder_overrides=timers)  # type: ignore[arg-type]

    # Models load once per process; timed apart so that neither figure below includes it.
    started = time.perf_counter()
    for _, embeddings in pipeline.embedders:
        embeddings.embed_documents(["모델 준비 warm-up"])
    result["model_load_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    shared_kiwi()  # Kiwi's model, loaded by the first Korean text the lexical index sees
    result["kiwi_load_seconds"] = time.perf_counter() - started
    log(
        f"{name}: embedders loaded in {result['model_load_seconds']:.1f} s, "
        f"Kiwi in {result['kiwi_load_seconds']:.1f} s"
    )

    # Raw embedder throughput on the same chunk texts: half the sample before the ingest, half
    # after (the difference shows how much the machine's load drifted meanwhile).
    rng = random.Random(args.seed + 1)
    sampled = len(chunks) > args.raw_sample > 0
    sample = rng.sample(list(chunks), args.raw_sample) if sampled else list(chunks)
    before, after = sample[: len(sample) // 2], sample[len(sample) // 2 :]
    log(f"{name}: raw embedding {len(before)} of {len(sample)} sampled chunks (before ingest)")
    raw_before = raw_embed(pipeline.embedders, before, settings.batch_size)
    for timer in timers.values():
        timer.seconds, timer.texts, timer.calls = 0.0, 0, 0

    # Ingest with a fresh pipeline (the store and its Chroma client are created here).
    log(f"{name}: ingesting {len(chunks)} chunks")
    with profiled(bool(args.profile), profile_dir, f"ingest-{name}"):
        started = time.perf_counter()
        report = pipeline.index_documents(docs)
        ingest_s = time.perf_counter() - started
    embed_inside = sum(t.seconds for t in timers.values())
    result["ingest"] = {
        "seconds": ingest_s,
        "report_seconds": report.seconds,
        "pages_per_s": report.pages / ingest_s,
        "chunks_per_s": len(chunks) / ingest_s,
        "embedded": report.embedded,
        "added": report.added,
        "profiled": bool(args.profile),
        "embedding_seconds": embed_inside,
        "embedding_calls": {n: (t.calls, t.texts) for n, t in timers.items()},
        "over_embedding_inside": ingest_s / embed_inside if embed_inside else None,
    }
    result["memory_after_ingest"] = memory()
    log(f"{name}: ingest {ingest_s:.1f} s ({len(chunks) / ingest_s:.1f} chunks/s)")

    log(f"{name}: raw embedding {len(after)} of {len(sample)} sampled chunks (after ingest)")
    raw_after = raw_embed(pipeline.embedders, after, settings.batch_size)
    per_spec = {}
    estimate = 0.0
    for spec, _ in pipeline.embedders:
        a, b = raw_before[spec.slug], raw_after[spec.slug]
        texts, seconds = a["texts"] + b["texts"], a["seconds"] + b["seconds"]
        all_texts = sum(1 for c in chunks if spec.covers(c.language))
        rate = texts / seconds if seconds > 0 else None
        full = all_texts / rate if rate else 0.0
        estimate += full
        per_spec[spec.slug] = {
            "texts_measured": texts,
            "texts_all": all_texts,
            "seconds_measured": seconds,
            "texts_per_s": rate,
            "texts_per_s_before_ingest": a["texts"] / a["seconds"] if a["seconds"] else None,
            "texts_per_s_after_ingest": b["texts"] / b["seconds"] if b["seconds"] else None,
            "seconds_all": full,
        }
    result["raw_embed"] = {
        "sampled": sampled,
        "chunks_measured": len(sample),
        "batch_size": settings.batch_size,
        "embedders": per_spec,
        "seconds": estimate,
        "ingest_over_raw": ingest_s / estimate if estimate else None,
    }
    log(f"{name}: raw embed {estimate:.1f} s; ingest / raw = {ingest_s / estimate:.2f}")

    # The lexical index is built on first use; a no-op re-ingest touches the state token, so
    # the next search rebuilds it (tokens come from the on-disk cache).
    started = time.perf_counter()
    searcher = pipeline.searcher
    searcher.lexical()
    result["lexical_build_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    again = pipeline.index_documents(docs)
    result["reingest"] = {
        "seconds": time.perf_counter() - started,
        "embedded": again.embedded,
        "skipped": again.skipped,
    }
    if again.embedded:
        log(f"{name}: WARNING: re-ingest of the unchanged corpus embedded {again.embedded} chunks")
    if name == "bundled":
        report_files = pipeline.ingest([Path(args.corpus)])
        result["reingest_files"] = {
            "seconds": report_files.seconds,
            "embedded": report_files.embedded,
            "unchanged_files": report_files.unchanged_files,
            "files": report_files.files,
        }
    searcher.invalidate()
    started = time.perf_counter()
    searcher.lexical()
    result["lexical_rebuild_seconds"] = time.perf_counter() - started
    # What a restarted process pays on its first search: a new pipeline on the same home builds
    # the lexical state from Chroma with the tokens cached on disk.
    fresh = Pipeline(settings)
    started = time.perf_counter()
    with profiled(bool(args.profile), profile_dir, f"lexical-new-process-{name}"):
        fresh.searcher.lexical()
    result["lexical_new_process_seconds"] = time.perf_counter() - started
    del fresh
    log(
        f"{name}: re-ingest {result['reingest']['seconds']:.1f} s, embedded "
        f"{again.embedded}; lexical build {result['lexical_build_seconds']:.1f} s, "
        f"rebuild {result['lexical_rebuild_seconds']:.1f} s"
    )

    # Query latency, in-process, after a warm-up.
    texts = [q["question"] for q in questions]
    for text in texts[: args.warmup]:
        # Not the timed questions themselves: their vectors would then come from the cache.
        pipeline.search(f"{text} (warm-up)")
        pipeline.ask(f"{text} (warm-up)")
    search_ms, ask_ms, ids = [], [], {}
    log(f"{name}: timing {len(texts)} retrievals and {len(texts)} answers")
    for q in questions:
        ms, passages = timed_ms(lambda q=q: pipeline.search(q["question"]))
        search_ms.append(ms)
        ids[q["id"]] = [p.chunk.id for p in passages]
    answered = 0
    for text in texts:
        # cold: the question's vector, translations and analysis from its search are dropped
        pipeline.searcher.forget_questions()
        ms, answer = timed_ms(lambda text=text: pipeline.ask(text))
        ask_ms.append(ms)
        answered += bool(answer.answered)
    result["retrieve"] = latency(search_ms)
    result["ask"] = {**latency(ask_ms), "answered": answered}
    result["result_ids"] = ids

    # The parts of a retrieval, each on its own: query embedding, tokenizing, raw Chroma, raw BM25.
    spec0, embed0 = pipeline.embedders[0]
    embed0_ms, embed_all_ms, tokenize_ms, chroma_ms, bm25_ms = [], [], [], [], []
    vectors, tokens = [], []
    for text in texts:
        ms, vector = timed_ms(lambda text=text: embed0.embed_query(text))
        embed0_ms.append(ms)
        vectors.append(vector)
        language = detect_language(text)
        total = ms
        for spec, embeddings in pipeline.embedders[1:]:
            if spec.covers(language):
                total += timed_ms(lambda e=embeddings, text=text: e.embed_query(text))[0]
        embed_all_ms.append(total)
        # " " makes another string: the question's analysis from the searches above is cached
        ms, toks = timed_ms(lambda text=text: searcher.tokenizer.tokenize(text + " "))
        tokenize_ms.append(ms)
        tokens.append(toks)
    index = searcher.lexical().index
    store = pipeline.store
    for _ in range(args.raw_repeats):
        for vector, toks in zip(vectors, tokens, strict=True):
            chroma_ms.append(
                timed_ms(lambda v=vector: store.query(spec0, v, settings.candidates, None))[0]
            )
            bm25_ms.append(timed_ms(lambda t=toks: raw_bm25_top(index, t, settings.candidates))[0])
    result["query_embed_first"] = latency(embed0_ms)
    result["query_embed_all"] = latency(embed_all_ms)
    result["tokenize"] = latency(tokenize_ms)
    result["raw_chroma"] = latency(chroma_ms)
    result["raw_bm25"] = latency(bm25_ms)
    raw = (result["raw_chroma"]["p50_ms"] or 0) + (result["raw_bm25"]["p50_ms"] or 0)
    result.update(retrieve_ratios(result, "query_embed_all"))
    # What retrieval costs besides embedding the question: per question, retrieve time minus
    # the same question's embedding time (measured in separate passes, so noisy).
    rest = [s - e for s, e in zip(search_ms, embed_all_ms, strict=True)]
    result["retrieve_minus_query_embed"] = latency(rest)
    result["retrieve_minus_embed_over_raw"] = (
        result["retrieve_minus_query_embed"]["p50_ms"] / raw if raw else None
    )
    log(
        f"{name}: retrieve p50 {result['retrieve']['p50_ms']:.0f} ms, ask p50 "
        f"{result['ask']['p50_ms']:.0f} ms, raw chroma p50 {result['raw_chroma']['p50_ms']:.1f} "
        f"ms, raw bm25 p50 {result['raw_bm25']['p50_ms']:.1f} ms"
    )

    if args.profile:
        subset = texts[: args.profile_queries]
        with profiled(True, profile_dir, f"search-{name}"):
            for text in subset:
                pipeline.search(text)
        with profiled(True, profile_dir, f"ask-{name}"):
            for text in subset:
                pipeline.ask(text)


# -- Chroma server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def chroma_server(data: Path, log_path: Path) -> Iterator[str]:
    exe = Path(sys.executable).parent / "chroma"
    command = str(exe) if exe.exists() else shutil.which("chroma")
    if not command:
        raise BenchError("the chroma CLI was not found next to this Python nor on PATH")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [command, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise BenchError(
                        f"chroma server did not start on {url} (exit code {proc.poll()}):\n{tail}"
                    ) from None
                time.sleep(0.3)
        log(f"chroma server up at {url} (pid {proc.pid})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log("chroma server stopped")


def server_check(
    docs: Sequence[Any],
    questions: Sequence[dict[str, Any]],
    settings: Any,
    tmp: Path,
    result: dict[str, Any],
) -> dict[str, Any]:
    """Index the same documents into a Chroma server; the same questions must give the same
    chunk ids in the same order as the embedded index."""
    from policyqa.pipeline import Pipeline

    out: dict[str, Any] = {}
    with chroma_server(tmp / "server-data", tmp / "chroma-server.log") as url:
        pipeline = Pipeline(settings.replace(home=tmp / "client-home", chroma_url=url))
        started = time.perf_counter()
        report = pipeline.index_documents(docs)
        out["ingest_seconds"] = time.perf_counter() - started
        out["embedded"] = report.embedded
        pipeline.searcher.lexical()
        for q in questions[:5]:
            pipeline.search(q["question"])
        times, differing = [], []
        for q in questions:
            ms, passages = timed_ms(lambda q=q: pipeline.search(q["question"]))
            times.append(ms)
            got = [p.chunk.id for p in passages]
            want = result["result_ids"][q["id"]]
            if got != want:
                differing.append({"id": q["id"], "embedded": want, "server": got})
        out["retrieve"] = latency(times)
        out["questions"] = len(questions)
        out["identical"] = len(questions) - len(differing)
        out["differing"] = differing
    log(f"server mode: {out['identical']}/{out['questions']} result lists identical")
    return out


# -- driver --------------------------------------------------------------------------------------
def child_command(args: argparse.Namespace, name: str, out: Path) -> list[str]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        name,
        "--child-json",
        str(out),
        "--questions",
        str(args.questions),
        "--questions-file",
        str(args.questions_file),
        "--corpus",
        str(args.corpus),
        "--warmup",
        str(args.warmup),
        "--raw-sample",
        str(args.raw_sample),
        "--raw-repeats",
        str(args.raw_repeats),
        "--seed",
        str(args.seed),
        "--profile-queries",
        str(args.profile_queries),
    ]
    if args.profile:
        command += ["--profile", str(args.profile)]
    if args.no_server:
        command.append("--no-server")
    if args.tmp_dir:
        command += ["--tmp-dir", str(args.tmp_dir)]
    return command


def run_all(args: argparse.Namespace) -> int:
    names = ([] if args.no_bundled else ["bundled"]) + [str(s) for s in args.sizes]
    output: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "environment": environment(),
        "corpora": {},
    }
    failures = 0
    args.json.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="policyqa-scale-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            log(f"=== corpus {name}: starting a subprocess")
            env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
            started = time.perf_counter()
            try:
                code = subprocess.run(child_command(args, name, out), env=env).returncode
            except KeyboardInterrupt:
                log("interrupted")
                return 130
            wall = time.perf_counter() - started
            if code == 0 and out.exists():
                data = json.loads(out.read_text(encoding="utf-8"))
            else:
                failures += 1
                data = {"corpus": name, "error": f"subprocess exited with code {code}"}
                log(f"=== corpus {name} FAILED (exit code {code}); see the messages above")
            data["wall_seconds"] = wall
            output["corpora"][name] = data
            log(f"=== corpus {name}: {wall:.0f} s")
            args.json.write_text(json.dumps(output, indent=2, ensure_ascii=False), encoding="utf-8")
    output["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.json.write_text(json.dumps(output, indent=2, ensure_ascii=False), encoding="utf-8")
    print(markdown(output))
    log(f"figures written to {args.json}")
    return 1 if failures else 0


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _get(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


ROWS: list[tuple[str, Callable[[dict[str, Any]], Any], int]] = [
    ("documents", lambda d: d.get("documents"), 0),
    ("pages", lambda d: d.get("pages"), 0),
    ("chunks (ko / en / mixed)", lambda d: _languages(d), 0),
    ("load PDFs / generate corpus, s", lambda d: _pair(d, "load_seconds", "generate_seconds"), 1),
    ("embedders / Kiwi load (once per process), s", lambda d: _kiwi(d), 1),
    ("**ingest**, s", lambda d: _get(d, "ingest.seconds"), 1),
    ("ingest pages/s", lambda d: _get(d, "ingest.pages_per_s"), 2),
    ("ingest chunks/s", lambda d: _get(d, "ingest.chunks_per_s"), 2),
    ("raw embed texts/s, USE (all chunks)", lambda d: _rate(d, 0), 2),
    ("raw embed texts/s, MiniLM (English chunks)", lambda d: _rate(d, 1), 2),
    ("raw embed, all chunks, s (sampled: estimate)", lambda d: _raw(d), 1),
    ("**ingest / raw embed**", lambda d: _get(d, "raw_embed.ingest_over_raw"), 2),
    ("embedding inside the ingest, s (calls)", lambda d: _inside(d), 1),
    ("ingest / embedding inside the ingest", lambda d: _get(d, "ingest.over_embedding_inside"), 2),
    ("re-ingest unchanged, s", lambda d: _get(d, "reingest.seconds"), 2),
    ("re-ingest: chunks embedded", lambda d: _get(d, "reingest.embedded"), 0),
    ("re-ingest from files (`ingest`), s / embedded", lambda d: _files(d), 2),
    ("BM25 build on first search, s", lambda d: d.get("lexical_build_seconds"), 2),
    ("BM25 rebuild after no-op re-ingest, s", lambda d: d.get("lexical_rebuild_seconds"), 2),
    (
        "BM25 build in a new process (tokens cached), s",
        lambda d: d.get("lexical_new_process_seconds"),
        2,
    ),
    ("**retrieve** p50 / p95, ms", lambda d: _p(d, "retrieve"), 1),
    ("**ask** p50 / p95, ms", lambda d: _p(d, "ask"), 1),
    ("query embedding p50 / p95, ms (USE)", lambda d: _p(d, "query_embed_first"), 1),
    ("query embedding, all embedders used, p50 / p95 ms", lambda d: _p(d, "query_embed_all"), 1),
    ("query tokenizing p50 / p95, ms", lambda d: _p(d, "tokenize"), 2),
    ("raw Chroma query p50 / p95, ms", lambda d: _p(d, "raw_chroma"), 2),
    ("raw BM25 query (scores + top k) p50 / p95, ms", lambda d: _p(d, "raw_bm25"), 2),
    ("**retrieve p50 / (Chroma p50 + BM25 p50)**", lambda d: d.get("retrieve_over_raw"), 1),
    (
        "**retrieve p50 / raw queries from text** (+ query embedding and tokenizing)",
        lambda d: d.get("retrieve_over_raw_from_text"),
        2,
    ),
    (
        "retrieve − its query embedding, p50 / p95 ms",
        lambda d: _p(d, "retrieve_minus_query_embed"),
        1,
    ),
    (
        "(retrieve − query embedding) p50 / (Chroma + BM25)",
        lambda d: d.get("retrieve_minus_embed_over_raw"),
        1,
    ),
    ("RSS after ingest, MB", lambda d: _get(d, "memory_after_ingest.current_rss_mb"), 0),
    ("peak RSS (ru_maxrss), MB", lambda d: _get(d, "memory_end.peak_rss_mb"), 0),
    ("current RSS at end, MB", lambda d: _get(d, "memory_end.current_rss_mb"), 0),
    ("index on disk, MB", lambda d: _get(d, "disk.disk_mb"), 1),
    ("load average start / end (2 cores)", lambda d: _load(d), 1),
    ("subprocess wall time, s", lambda d: d.get("wall_seconds"), 0),
]


def _languages(d: dict[str, Any]) -> str | None:
    if "chunks" not in d:
        return None
    lang = d.get("chunk_languages", {})
    return (
        f"{d['chunks']:,} ({lang.get('ko', 0):,} / {lang.get('en', 0):,} / {lang.get('mixed', 0)})"
    )


def _inside(d: dict[str, Any]) -> str | None:
    ingest = d.get("ingest") or {}
    if not ingest.get("embedding_seconds"):
        return None
    calls = ", ".join(str(c) for c, _ in ingest["embedding_calls"].values())
    return f"{ingest['embedding_seconds']:.1f} ({calls})"


def _kiwi(d: dict[str, Any]) -> str | None:
    if "model_load_seconds" not in d:
        return None
    return f"{d['model_load_seconds']:.1f} / {d.get('kiwi_load_seconds', 0):.1f}"


def _pair(d: dict[str, Any], a: str, b: str) -> str | None:
    if a not in d:
        return None
    return f"{d[a]:.1f} / {d.get(b, 0):.1f}"


def _rate(d: dict[str, Any], i: int) -> str | None:
    specs = list((_get(d, "raw_embed.embedders") or {}).values())
    if i >= len(specs) or not specs[i]["texts_per_s"]:
        return None
    s = specs[i]
    drift = (
        f" (before {s['texts_per_s_before_ingest']:.1f}, after {s['texts_per_s_after_ingest']:.1f})"
        if s["texts_per_s_before_ingest"] and s["texts_per_s_after_ingest"]
        else ""
    )
    return f"{s['texts_per_s']:.1f}{drift}"


def retrieve_ratios(result: dict[str, Any], embedding_key: str) -> dict[str, float | None]:
    """Retrieve p50 against a raw Chroma query plus a raw BM25 query (p50s): from a vector and
    tokens, and from the question's text (adding its embedding, `embedding_key`, and its
    tokenizing), as a raw query with an embedding function and a tokenizer would start."""

    def p50(key: str) -> float:
        return float(result[key]["p50_ms"] or 0.0)

    retrieve = p50("retrieve")
    raw = p50("raw_chroma") + p50("raw_bm25")
    from_text = raw + p50(embedding_key) + p50("tokenize")
    return {
        "retrieve_over_raw": retrieve / raw if raw else None,
        "retrieve_over_raw_from_text": retrieve / from_text if from_text else None,
    }


def raw_bm25_top(index: Any, tokens: list[str], k: int) -> list[int]:
    """A raw BM25 query: every chunk's score, then the k best (among chunks sharing a term),
    selected as the retriever selects them."""
    from policyqa.index.lexical import top_k

    return [int(i) for i in top_k(index.scores(tokens), k)]


def _raw(d: dict[str, Any]) -> str | None:
    raw = d.get("raw_embed")
    if not raw:
        return None
    note = f" (est. from {raw['chunks_measured']:,} chunks)" if raw["sampled"] else ""
    return f"{raw['seconds']:.1f}{note}"


def _files(d: dict[str, Any]) -> str | None:
    files = d.get("reingest_files")
    return f"{files['seconds']:.2f} / {files['embedded']}" if files else None


def _p(d: dict[str, Any], key: str) -> str | None:
    row = d.get(key)
    if not row or row.get("p50_ms") is None:
        return None
    digits = 2 if row["p50_ms"] < 10 else 1 if row["p50_ms"] < 100 else 0
    return f"{row['p50_ms']:.{digits}f} / {row['p95_ms']:.{digits}f}"


def _load(d: dict[str, Any]) -> str | None:
    a, b = d.get("load_avg_start"), d.get("load_avg_end")
    return f"{a[0]:.1f} / {b[0]:.1f}" if a and b else None


def markdown(output: dict[str, Any]) -> str:
    corpora = output["corpora"]
    names = list(corpora)
    header = ["figure", *(_label(n, corpora[n]) for n in names)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, get, digits in ROWS:
        cells = []
        for n in names:
            data = corpora[n]
            if "error" not in data or label == "subprocess wall time, s":
                cells.append(_fmt(get(data), digits))
            else:
                cells.append("error" if label == ROWS[0][0] else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for n in names:
        server = corpora[n].get("server")
        if server:
            r = server["retrieve"]
            lines += [
                "",
                f"Chroma server vs embedded ({n} corpus): ingest {server['ingest_seconds']:.1f} s, "
                f"result lists identical for {server['identical']}/{server['questions']} questions "
                f"(same chunk ids, same order); server retrieve p50 {r['p50_ms']:.0f} ms, "
                f"p95 {r['p95_ms']:.0f} ms.",
            ]
        if "error" in corpora[n]:
            lines += ["", f"{n}: {corpora[n]['error']}"]
    return "\n".join(lines)


def _label(name: str, data: dict[str, Any]) -> str:
    if name == "bundled":
        return "bundled corpus"
    return f"synthetic ~{int(name):,}"


def dry_run(args: argparse.Namespace) -> int:
    """Only build the corpora and count their chunks (how long generation takes)."""
    from policyqa.ingest.split import split_document

    with tempfile.TemporaryDirectory() as tmp:
        settings = base_settings(args, Path(tmp))
        base, load_s = load_bundled(Path(args.corpus), settings)
        log(f"bundled: {len(base)} documents loaded in {load_s:.1f} s")
        for size in args.sizes:
            started = time.perf_counter()
            docs = synthetic_corpus(
                base, size, settings.chunk_words, settings.chunk_overlap, args.seed
            )
            gen = time.perf_counter() - started
            chunks = [
                c
                for d in docs
                for c in split_document(d, settings.chunk_words, settings.chunk_overlap)
            ]
            languages = Counter(c.language for c in chunks)
            unique = len({c.content_hash for c in chunks})
            print(
                f"~{size}: {len(docs)} documents, {sum(d.page_count for d in docs)} pages, "
                f"{len(chunks)} chunks ({dict(languages)}), {unique} distinct texts, "
                f"generated in {gen:.1f} s"
            )
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default="1000,10000",
        help="synthetic corpus sizes in chunks, comma-separated (default 1000,10000; "
        "100000 takes hours on 2 cores)",
    )
    parser.add_argument("--no-bundled", action="store_true", help="skip the bundled corpus")
    parser.add_argument("--no-server", action="store_true", help="skip the Chroma server check")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="write figures here")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--questions-file", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--questions", type=int, default=50, help="questions timed (half ko)")
    parser.add_argument("--warmup", type=int, default=5, help="questions run before timing")
    parser.add_argument(
        "--raw-sample",
        type=int,
        default=1000,
        help="chunks whose raw embedding is timed; larger corpora are estimated from a random "
        "sample of this many chunks (0: all chunks). Default 1000",
    )
    parser.add_argument("--raw-repeats", type=int, default=3, help="passes of raw Chroma/BM25")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--profile", metavar="DIR", help="cProfile each ingest and 20 queries into DIR"
    )
    parser.add_argument("--profile-queries", type=int, default=20)
    parser.add_argument("--tmp-dir", help="where temporary indexes go (default: $TMPDIR)")
    parser.add_argument(
        "--dry-run", action="store_true", help="only generate the corpora and count chunks"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--child-json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    if any(s <= 0 for s in args.sizes):
        parser.error("--sizes must be positive")
    if args.questions < 1 or args.warmup < 0 or args.raw_sample < 0 or args.raw_repeats < 1:
        parser.error("--questions, --raw-repeats must be >= 1; --warmup, --raw-sample >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.one:
            if not args.child_json:
                raise BenchError("--one needs --child-json")
            result = run_one(args)
            args.child_json.write_text(
                json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8"
            )
            return 0
        if args.dry_run:
            return dry_run(args)
        return run_all(args)
    except BenchError as exc:
        print(f"scale.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
