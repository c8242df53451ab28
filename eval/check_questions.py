#!/usr/bin/env python
"""Validate eval/questions.jsonl against the corpus.

Checks: schema and field values, unique ids, id prefix matches slice, minimum
slice counts, every source doc/page exists, and every key fact of an answerable
question occurs (after whitespace normalisation) on at least one of its source
pages. A key fact may list equivalent wordings (the same fact in Korean and English):
one must be on a source page and each must occur in the corpus. Prints a summary; exits 1
if any check fails.

Usage: python eval/check_questions.py [questions.jsonl] [corpus_dir]
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
QFILE = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "eval" / "questions.jsonl"
CORPUS = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "corpus"

FIELDS = [
    "id",
    "question",
    "language",
    "persona",
    "answerable",
    "sources",
    "key_facts",
    "why_unanswerable",
    "slice",
    "history",
]
SLICE_PREFIX = {
    "ko": "ko",
    "en": "en",
    "cross": "x",
    "unanswerable": "un",
    "region": "rg",
    "followup": "fu",
}
MIN_COUNTS = {"ko": 40, "en": 40, "cross": 20, "unanswerable": 25, "region": 15, "followup": 10}
MIN_TOTAL = 125


def norm(text):
    return re.sub(r"\s+", " ", text).strip()


def load_corpus():
    """Return {doc: [page_text, ...]} with whitespace-normalised text."""
    pages = {}
    for path in sorted(CORPUS.iterdir()):
        # same skip rule as ingestion: README*, dotfiles and _files are not documents
        if path.name.startswith(("README", ".", "_")):
            continue
        if path.suffix == ".pdf":
            pages[path.name] = [norm(p.extract_text() or "") for p in PdfReader(path).pages]
        elif path.suffix in (".md", ".txt"):
            pages[path.name] = [norm(path.read_text(encoding="utf-8"))]
    return pages


def check_record(rec, pages, errors):
    qid = rec.get("id", "?")

    def err(msg):
        errors.append(f"{qid}: {msg}")

    missing = [f for f in FIELDS if f not in rec]
    if missing:
        err(f"missing fields {missing}")
        return
    extra = set(rec) - set(FIELDS)
    if extra:
        err(f"unexpected fields {sorted(extra)}")
    if not isinstance(rec["question"], str) or not rec["question"].strip():
        err("empty question")
    if rec["language"] not in ("ko", "en"):
        err(f"bad language {rec['language']!r}")
    elif rec["language"] == "ko" and not re.search(r"[\uac00-\ud7a3]", rec["question"]):
        err("language ko but question has no Hangul")
    elif rec["language"] == "en" and re.search(r"[\uac00-\ud7a3]", rec["question"]):
        err("language en but question contains Hangul")
    if rec["persona"] not in ("official", "citizen", "staff"):
        err(f"bad persona {rec['persona']!r}")
    if rec["slice"] not in SLICE_PREFIX:
        err(f"bad slice {rec['slice']!r}")
    elif not re.fullmatch(SLICE_PREFIX[rec["slice"]] + r"-\d{3}", qid):
        err(f"id does not match slice {rec['slice']}")
    if not isinstance(rec["answerable"], bool):
        err("answerable must be a bool")
    if not isinstance(rec["sources"], list) or not isinstance(rec["key_facts"], list):
        err("sources and key_facts must be lists")
        return

    # history
    hist = rec["history"]
    if not isinstance(hist, list):
        err("history must be a list")
    elif rec["slice"] == "followup":
        if len(hist) < 2:
            err("follow-up needs at least one user/assistant turn in history")
        for i, turn in enumerate(hist):
            want = "user" if i % 2 == 0 else "assistant"
            if (
                not isinstance(turn, dict)
                or turn.get("role") != want
                or not str(turn.get("content", "")).strip()
            ):
                err(f"history turn {i} should be a non-empty {want} turn")
        if hist and hist[-1].get("role") != "assistant":
            err("history should end with an assistant turn")
    elif hist:
        err("history must be empty outside the followup slice")

    # sources exist
    for s in rec["sources"]:
        doc, page = s.get("doc"), s.get("page")
        if doc not in pages:
            err(f"unknown doc {doc!r}")
        elif not isinstance(page, int) or not 1 <= page <= len(pages[doc]):
            err(f"{doc} has no page {page!r} (pages: {len(pages[doc])})")
    if len({(s.get("doc"), s.get("page")) for s in rec["sources"]}) != len(rec["sources"]):
        err("duplicate source entries")

    if rec["answerable"]:
        if rec["slice"] == "unanswerable":
            err("unanswerable slice but answerable=true")
        if not rec["sources"]:
            err("answerable question without sources")
        if not rec["key_facts"]:
            err("answerable question without key_facts")
        if rec["why_unanswerable"]:
            err("why_unanswerable must be empty for answerable questions")
        texts = [
            pages[s["doc"]][s["page"] - 1]
            for s in rec["sources"]
            if s.get("doc") in pages
            and isinstance(s.get("page"), int)
            and 1 <= s["page"] <= len(pages[s["doc"]])
        ]
        everywhere = [t for doc_pages in pages.values() for t in doc_pages]
        for kf in rec["key_facts"]:
            # A key fact is a string, or a list of equivalent wordings (the same fact in
            # Korean and in English): one must be on a source page, each somewhere in the corpus.
            wordings = kf if isinstance(kf, list) else [kf]
            if not wordings or any(
                not isinstance(w, (str, int, float)) or not str(w).strip() for w in wordings
            ):
                err(f"bad key fact {kf!r}")
            elif not any(norm(str(w)) in t for w in wordings for t in texts):
                err(f"key fact {kf!r} not found on any listed source page")
            else:
                for w in wordings:
                    if not any(norm(str(w)) in t for t in everywhere):
                        err(f"key fact wording {w!r} is nowhere in the corpus")
        if rec["slice"] == "cross":
            src_langs = {("ko" if "-ko." in s["doc"] else "en") for s in rec["sources"]}
            if rec["language"] in src_langs:
                err("cross question has a source in its own language")
    else:
        if rec["sources"] or rec["key_facts"]:
            err("unanswerable question must have empty sources and key_facts")
        if not rec["why_unanswerable"].strip():
            err("unanswerable question needs why_unanswerable")


def main():
    pages = load_corpus()
    errors = []
    records = []
    with open(QFILE, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: invalid JSON ({e})")
    ids = Counter(r.get("id") for r in records)
    errors += [f"{i}: duplicate id" for i, c in ids.items() if c > 1]
    for rec in records:
        check_record(rec, pages, errors)

    slices = Counter(r.get("slice") for r in records)
    for sl, need in MIN_COUNTS.items():
        if slices[sl] < need:
            errors.append(f"slice {sl}: {slices[sl]} questions, need >= {need}")
    if len(records) < MIN_TOTAL:
        errors.append(f"total {len(records)} questions, need >= {MIN_TOTAL}")

    n_src = sum(len(r.get("sources", [])) for r in records)
    n_kf = sum(len(r.get("key_facts", [])) for r in records if r.get("answerable"))
    print(f"corpus: {len(pages)} documents, {sum(len(p) for p in pages.values())} pages")
    print(
        f"questions: {len(records)} ({sum(1 for r in records if r.get('answerable'))} answerable, "
        f"{sum(1 for r in records if r.get('answerable') is False)} unanswerable)"
    )
    print("slices:   " + ", ".join(f"{s}={slices[s]}" for s in MIN_COUNTS))
    for key in ("language", "persona"):
        print(
            f"{key + ':':9} "
            + ", ".join(f"{k}={v}" for k, v in sorted(Counter(r.get(key) for r in records).items()))
        )
    print("persona by slice:")
    for sl in MIN_COUNTS:
        c = Counter(r.get("persona") for r in records if r.get("slice") == sl)
        print(f"  {sl:13} " + ", ".join(f"{k}={c[k]}" for k in ("official", "citizen", "staff")))
    print(f"source pages listed: {n_src}; key facts checked: {n_kf}")
    if errors:
        print(f"FAILED: {len(errors)} problem(s)")
        for e in errors:
            print("  - " + e)
        sys.exit(1)
    print("OK: all checks passed")


if __name__ == "__main__":
    main()
