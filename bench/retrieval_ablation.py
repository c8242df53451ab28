"""Retrieval ablation: each retriever alone, equal-weight RRF, the previous fusion and the
default fusion, on the same chunks of each benchmark, in one run. Prints one Markdown table;
--json writes every figure and each question's first-hit rank.

    .venv/bin/python bench/retrieval_ablation.py --work /tmp/ablation \
        [--sets en-filings,ko-docs,real-docs] [--benchmarks ../shared/benchmarks] \
        [--old-src DIR] [--json bench/results/retrieval-ablation.json] \
        [--markdown bench/results/retrieval-ablation.md]

Sets: en-filings (en-filings-dev: pages.jsonl.gz, English questions), ko-docs (ko-docs-dev:
Korean questions, and their English translation in bench/data/ko-docs-dev-questions-en.jsonl),
real-docs (real-docs-dev: the PDFs read with the product's loader; Korean, English and
English-on-Korean questions; unanswerable ones have no gold page and are left out).

Each set is indexed once under --work/<set> with the settings from POLICYQA_* (embeddings are
kept by text hash under --work/embeddings, so a second run embeds nothing), then calibrated
(`Pipeline.calibrate`). "previous fusion" runs the code of --old-src (a `src` folder of an
earlier commit of this layout, e.g. from `git archive <commit> src | tar -x -C DIR`) in a
subprocess on the same index. Retrievers alone: "BM25" ranks on the question's own words (Kiwi
morphemes / English stems); "BM25 + translated terms" adds, for the other language's chunks,
the glossary, mined and term-table translations; "USE" / "MiniLM" one embedder's ranking.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

REPO = Path(__file__).resolve().parents[1]
SETS = ("en-filings", "ko-docs", "real-docs")
RETRIEVERS = (
    ("BM25 alone", "bm25"),
    ("BM25 + translated terms", "lexical"),
    ("USE alone", "dense:use-multilingual"),
    ("MiniLM alone", "dense:all-minilm-l6-v2-en"),
    ("RRF, equal weights", "rrf"),
    ("previous fusion", "old"),
    ("default", "default"),
)
DEPTH = 50  # chunks asked for: enough for 10 distinct pages


class CachedEmbeddings(Embeddings):
    """Another embedder's vectors, kept on disk by sha1 of the text in append-only shard files
    (several processes may share the folder)."""

    def __init__(self, inner: Embeddings, folder: Path) -> None:
        self.inner = inner
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.vectors: dict[str, np.ndarray] = {}
        for shard in sorted(folder.glob("shard-*.npz")):
            with np.load(shard) as data:
                self.vectors.update(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self._written = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            new = np.asarray(self.inner.embed_documents([by_key[k] for k in missing]), "float32")
            self.vectors.update(zip(missing, new, strict=True))
            self._written += 1
            tmp = self.folder / f".tmp-{os.getpid()}-{self._written}.npz"
            np.savez(tmp, keys=np.array(missing), vectors=new)
            tmp.rename(self.folder / f"shard-{time.time():.6f}-{os.getpid()}-{self._written}.npz")
        return [self.vectors[k].tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def load_set(name: str, benchmarks: Path) -> tuple[list[Any], dict[str, list[dict[str, Any]]]]:
    """The set's documents and its questions per slice, gold pages as (doc, page) sets."""
    from policyqa.evaluation.retrieval import (
        documents_from_folder,
        documents_from_pages,
        gold_pages,
        question_slice,
        read_jsonl,
    )

    if name == "en-filings":
        root = benchmarks / "en-filings-dev"
        docs = documents_from_pages(read_jsonl(root / "pages.jsonl.gz"))
        files = {"": root / "questions.jsonl"}
    elif name == "ko-docs":
        root = benchmarks / "ko-docs-dev"
        docs = documents_from_pages(read_jsonl(root / "pages.jsonl"))
        files = {
            "ko": root / "questions.jsonl",
            "en->ko": REPO / "bench/data/ko-docs-dev-questions-en.jsonl",
        }
    elif name == "real-docs":
        root = benchmarks / "real-docs-dev"
        docs = documents_from_folder(root / "pdfs")
        files = {"": root / "questions.jsonl"}
    else:
        raise SystemExit(f"unknown set {name!r}; choose from {', '.join(SETS)}")
    languages = {d.doc_id: d.language for d in docs}
    slices: dict[str, list[dict[str, Any]]] = {}
    for named, path in files.items():
        for row in read_jsonl(path):
            gold = gold_pages(row)
            if gold:  # a file's slice is its name; else the question and document languages
                key = named or question_slice(str(row["question"]), gold, languages)
                slices.setdefault(key, []).append({**row, "gold": sorted(gold)})
    return docs, slices


def pipeline_for(name: str, work: Path) -> Any:
    from policyqa.core.settings import Settings
    from policyqa.index.embed import load_embeddings
    from policyqa.pipeline import Pipeline

    settings = Settings.from_env().replace(
        home=work / name, chroma_url="", collection="bench", llm_url="", llm_gguf=""
    )
    pipeline = Pipeline(settings)
    pipeline.embedder_overrides = {
        spec.name: CachedEmbeddings(load_embeddings(spec), work / "embeddings" / spec.slug)
        for spec in pipeline.specs
    }
    return pipeline


def ranks(pipeline: Any, slices: dict[str, list[dict[str, Any]]]) -> dict[str, list[int | None]]:
    try:
        from policyqa.evaluation.retrieval import first_hit_rank, merge_pages
    except ImportError:  # --old-src of a commit before evaluation.retrieval
        from policyqa.evaluation.evaluate import (  # type: ignore[attr-defined,no-redef]
            first_hit_rank,
            merge_pages,
        )

    out: dict[str, list[int | None]] = {}
    for key, questions in slices.items():
        out[key] = []
        for row in questions:
            passages = pipeline.searcher.search(str(row["question"]), DEPTH)
            gold = {(str(d), int(p)) for d, p in row["gold"]}
            out[key].append(first_hit_rank(merge_pages(passages)[:10], gold))
    return out


def run_set(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Index, calibrate, and rank every question with each retriever (this code)."""
    docs, slices = load_set(name, Path(args.benchmarks))
    pipeline = pipeline_for(name, Path(args.work))
    started = time.perf_counter()
    report = pipeline.index_documents(docs)  # calibrates the index too
    index_s = time.perf_counter() - started
    calibration = pipeline.searcher.calibration
    info = {
        "chunks": pipeline.store.count_chunks(),
        "embedded": report.embedded,
        "page_heads_embedded": report.page_heads_embedded,
        "index_seconds": round(index_s, 1),
        "calibration_seconds": calibration.seconds if calibration else None,
        "calibration": calibration.to_json() if calibration else None,
        "questions": {k: len(v) for k, v in slices.items()},
    }
    specs = {f"dense:{s.slug}" for s in pipeline.specs}
    results: dict[str, dict[str, list[int | None]]] = {}
    for _, retriever in RETRIEVERS:
        if retriever == "old" or (retriever.startswith("dense:") and retriever not in specs):
            continue
        pipeline.searcher.retriever = retriever
        results[retriever] = ranks(pipeline, slices)
    return {"info": info, "ranks": results}


def run_old(
    args: argparse.Namespace, name: str, slices: dict[str, list[dict[str, Any]]]
) -> dict[str, list[int | None]]:
    """The previous fusion: --old-src's code on the same index, in its own process (the
    questions are handed over in a file: the old code need not know the benchmark formats)."""
    handover = Path(args.work) / name / "ablation-questions.json"
    plain = {
        k: [{"question": r["question"], "gold": r["gold"]} for r in v] for k, v in slices.items()
    }
    handover.write_text(json.dumps(plain, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(args.old_src).resolve())}
    command = [sys.executable, __file__, "--work", args.work, "--old-child", name]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the previous fusion failed on {name}")
    result: dict[str, list[int | None]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def old_child(args: argparse.Namespace) -> None:
    name = args.old_child
    handover = Path(args.work) / name / "ablation-questions.json"
    slices = json.loads(handover.read_text(encoding="utf-8"))
    pipeline = pipeline_for(name, Path(args.work))
    print(json.dumps(ranks(pipeline, slices)))


def metrics(values: list[int | None]) -> dict[str, float]:
    from policyqa.evaluation.retrieval import retrieval_metrics

    m = retrieval_metrics(values)
    return {"hit@1": m.hit[1], "hit@5": m.hit[5], "mrr@10": m.mrr10}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--work", required=True, help="indexes and embedding cache")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--benchmarks", default=str(REPO.parent / "shared" / "benchmarks"))
    parser.add_argument("--old-src", help="src folder of the previous code (previous fusion)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--markdown", type=Path, help="write the table here, with the command")
    parser.add_argument("--old-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.old_child:
        old_child(args)
        return
    output: dict[str, Any] = {"sets": {}}
    lines = [
        "| set | questions | retriever | hit@1 | hit@5 | MRR@10 |",
        "|---|---|---|---|---|---|",
    ]
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        print(f"[ablation] {name}", file=sys.stderr, flush=True)
        result = run_set(args, name)
        if args.old_src:
            _, slices = load_set(name, Path(args.benchmarks))
            result["ranks"]["old"] = run_old(args, name, slices)
        output["sets"][name] = result
        for key, count in result["info"]["questions"].items():
            for label, retriever in RETRIEVERS:
                if retriever not in result["ranks"]:
                    continue
                m = metrics(result["ranks"][retriever][key])
                result.setdefault("metrics", {}).setdefault(key, {})[retriever] = m
                lines.append(
                    f"| {name} {key} | {count} | {label} | {m['hit@1']:.3f} | "
                    f"{m['hit@5']:.3f} | {m['mrr@10']:.3f} |"
                )
        print(f"[ablation] {name}: {json.dumps(result['info'])[:300]}", file=sys.stderr)
    print("\n".join(lines))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        command = " ".join(["bench/retrieval_ablation.py", *sys.argv[1:]])
        args.markdown.write_text(
            f"# Retrieval ablation\n\nOne run of `{command}` "
            f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}); hit@k and MRR@10 on gold "
            "pages, every row on the same chunks of its set.\n\n" + "\n".join(lines) + "\n",
            encoding="utf-8",
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(output, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
