"""The searcher under concurrency: parallel queries match serial ones, and queries keep working
while an ingest changes the index."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from policyqa.pipeline import Pipeline
from policyqa.retrieval import searcher as retrieve

from .conftest import (
    QUESTIONS,
    SERVED_DOCS,
    _check_index,
    _found_by_words,
)


def _signature(pipeline: Pipeline, question: str, search: bool) -> Any:
    if search:
        return [(p.chunk.id, p.score) for p in pipeline.search(question, 5)]
    answer = pipeline.ask(question)
    return (answer.text, answer.answered, [(c.n, c.chunk_id, c.quote) for c in answer.citations])


def test_concurrent_queries_match_serial_results(served: Pipeline) -> None:
    calls = [(q, i % 2 == 0) for i, q in enumerate(QUESTIONS)]
    serial = {call: _signature(served, *call) for call in calls}

    def worker(offset: int) -> list[tuple[Any, Any]]:
        order = calls[offset:] + calls[:offset]  # every thread in a different order
        return [(call, _signature(served, *call)) for call in order]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [r for rs in pool.map(worker, range(8)) for r in rs]
    assert len(results) == 80
    for call, got in results:
        assert got == serial[call], call


def test_queries_keep_working_while_an_ingest_runs(
    fake_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = fake_pipeline.settings.corpus
    for name, text in SERVED_DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    fake_pipeline.ingest()
    old_docs = {"doc_id": sorted(SERVED_DOCS)}
    probes = QUESTIONS[:4]
    before = {q: [p.chunk.doc_id for p in fake_pipeline.search(q, 3, old_docs)] for q in probes}
    monkeypatch.setattr(retrieve, "_REFRESH_SECONDS", 0.0)  # re-check the index on every query

    new = corpus / "new"
    new.mkdir()
    for i in range(40):
        (new / f"extra-{i:02d}.md").write_text(
            f"# Extra {i}\n\nQuillbridge project {i} adds {i + 2} clinics and a depot.\n",
            encoding="utf-8",
        )
    ingesting = Pipeline(
        fake_pipeline.settings,
        embedder_overrides=dict(fake_pipeline.embedder_overrides),
        client=fake_pipeline.store.client,
    )
    errors: list[BaseException] = []
    finished = threading.Event()

    def run() -> None:
        try:
            ingesting.ingest()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            finished.set()

    known = set(SERVED_DOCS) | {f"new/extra-{i:02d}.md" for i in range(40)}
    thread = threading.Thread(target=run)
    thread.start()
    rounds = 0
    try:
        while not finished.is_set() or rounds < 3:
            for q in probes:
                # Unfiltered: new documents appear one by one; whatever comes back is whole.
                passages = fake_pipeline.search(q, 5)
                assert [p.rank for p in passages] == sorted(p.rank for p in passages)
                assert all(p.chunk.doc_id in known and p.chunk.text for p in passages)
                # Restricted to the documents that were there before: the same as before.
                docs = [p.chunk.doc_id for p in fake_pipeline.search(q, 3, old_docs)]
                assert docs[:1] == before[q][:1], (q, docs)
            answer = fake_pipeline.ask(QUESTIONS[0], filters={"doc_id": "budget-ko.md"})
            assert answer.answered and "10.6" in answer.text
            fake_pipeline.search("Quillbridge clinics depot", 3)
            rounds += 1
    finally:
        thread.join(120)
    assert not errors, errors
    fake_pipeline.searcher.invalidate()
    assert _found_by_words(fake_pipeline, "Quillbridge project 7 clinics", "new/extra-07.md")
    assert len(fake_pipeline.store.manifest()) == len(SERVED_DOCS) + 40
    _check_index(fake_pipeline.store)
