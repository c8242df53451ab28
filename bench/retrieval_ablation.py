"""Retrieval ablation on a pages.jsonl + questions.jsonl set: each retriever alone, equal-weight
RRF, and the default fusion, on the same chunks in one run. Prints a table; --json writes rows.

    .venv/bin/python bench/retrieval_ablation.py \
        --pages ../shared/benchmarks/ko-docs-dev/pages.jsonl \
        --questions ../shared/benchmarks/ko-docs-dev/questions.jsonl \
        [--questions bench/data/ko-docs-dev-questions-en.jsonl]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from policyqa.core.models import Passage
from policyqa.core.settings import Settings
from policyqa.evaluation.retrieval import (
    documents_from_pages,
    first_hit_rank,
    merge_pages,
    read_jsonl,
    retrieval_metrics,
)
from policyqa.pipeline import Pipeline
from policyqa.retrieval.fusion import reciprocal_rank_fusion
from policyqa.retrieval.searcher import LEXICAL_WEIGHT, HybridSearcher

DEPTH = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    docs = documents_from_pages(read_jsonl(args.pages))
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = Pipeline(Settings.from_env(home=Path(tmp), collection="ablation"))
        pipeline.index_documents(docs)
        default = pipeline.searcher

        def variant(weight: float) -> HybridSearcher:
            return HybridSearcher(
                pipeline.store,
                pipeline.embedders,
                default.tokenizer,
                lexical_weight={lang: weight for lang in LEXICAL_WEIGHT},
            )

        searchers = {
            "lexical (BM25)": variant(1.0),
            "dense": variant(0.0),
            "default fusion": default,
        }
        for path in args.questions:
            questions = read_jsonl(path)
            ranks: dict[str, list[int | None]] = {name: [] for name in [*searchers, "RRF equal"]}
            for q in questions:
                gold = {(str(s["doc"]), int(s["page"])) for s in q["sources"]}
                found: dict[str, list[Passage]] = {
                    name: s.search(q["question"], DEPTH) for name, s in searchers.items()
                }
                for name, passages in found.items():
                    ranks[name].append(first_hit_rank(merge_pages(passages)[:10], gold))
                by_id = {p.chunk.id: p for ps in found.values() for p in ps}
                fused = reciprocal_rank_fusion(
                    [
                        [p.chunk.id for p in found["lexical (BM25)"] if p.lexical_score],
                        [p.chunk.id for p in found["dense"] if p.dense_score],
                    ]
                )
                rrf = [by_id[cid] for cid, _ in fused]
                ranks["RRF equal"].append(first_hit_rank(merge_pages(rrf)[:10], gold))
            table = {name: retrieval_metrics(r).as_row() for name, r in ranks.items()}
            results[path.name] = table
            print(f"\n{path} ({len(questions)} questions, {pipeline.store.count_chunks()} chunks)")
            print(
                "| retriever | hit@1 | hit@3 | hit@5 | hit@10 | MRR@10 |\n|---|---|---|---|---|---|"
            )
            for name, row in table.items():
                print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in row.values()) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
