from pathlib import Path

import pytest

from policyqa.core.settings import Settings
from policyqa.index.store import IndexMismatchError
from policyqa.ingest.indexer import IngestLockedError, discover, ingest_lock
from policyqa.pipeline import Pipeline

from .conftest import CountingFake, make_pdf, write_small_corpus

KO = (
    "# 생활권\n\n1. 교통\n광역 60분 생활권을 만들고 광역철도와 BRT를 늘린다.\n\n"
    "2. 의료\n지역의사제를 도입한다.\n"
)
EN = "# Living sphere\n\n1. Transport\nA 60-minute commuting zone in every mega region.\n"


def _write_corpus(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "living-ko.md").write_text(KO, encoding="utf-8")
    (root / "living-en.md").write_text(EN, encoding="utf-8")
    (root / "README.md").write_text("# not a document", encoding="utf-8")
    make_pdf(
        root / "report.pdf",
        [
            "1. 예산\n포괄보조를 3.8조원에서 10.6조원으로 늘린다.",
            "2. 특별회계\n초광역특별계정 신설",
        ],
    )


def test_discover_skips_excluded_and_unsupported(tmp_path: Path) -> None:
    _write_corpus(tmp_path / "c")
    (tmp_path / "c" / "sheet.xlsx").write_bytes(b"x")
    files, rejected = discover([tmp_path / "c"], ["README*", ".*"])
    assert sorted(f.doc_id for f in files) == ["living-en.md", "living-ko.md", "report.pdf"]
    assert rejected == []


def test_ingest_is_incremental_and_idempotent(
    fake_pipeline: Pipeline, fakes: dict[str, CountingFake], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the embedder calls counted here are the indexer's: calibration's own (term tables,
    # pseudo-questions) are pinned in test_retrieve
    monkeypatch.setattr(fake_pipeline, "calibrate", lambda force=False: None)
    corpus = fake_pipeline.settings.corpus
    _write_corpus(corpus)
    first = fake_pipeline.ingest()
    assert first.files == 3 and first.pages == 4 and first.added > 0 and not first.rejected
    use = fakes["use-multilingual"]
    minilm = fakes["sentence-transformers:all-MiniLM-L6-v2"]
    assert use.calls == first.added
    assert 0 < minilm.calls < use.calls  # the English embedder only sees English chunks
    assert first.page_heads_embedded == 0  # documents of a few pages get no page heads

    use.calls = 0
    second = fake_pipeline.ingest()
    assert use.calls == 0 and second.embedded == 0 and second.page_heads_embedded == 0
    assert second.skipped == first.added
    assert "nothing changed" in second.summary()

    (corpus / "living-en.md").write_text(EN + "\n2. Health\nRegional doctors.\n", encoding="utf-8")
    third = fake_pipeline.ingest()
    assert third.embedded >= 1 and use.calls == third.embedded
    assert fake_pipeline.store.manifest()["living-en.md"].chunks >= 1

    (corpus / "living-ko.md").unlink()
    kept = fake_pipeline.ingest()
    assert "living-ko.md" in fake_pipeline.store.manifest() and kept.removed == 0
    pruned = fake_pipeline.ingest(prune=True)
    assert pruned.removed_docs == ["living-ko.md"] and pruned.removed > 0
    assert "living-ko.md" not in fake_pipeline.store.manifest()
    assert all(c.doc_id != "living-ko.md" for c in fake_pipeline.store.all_chunks())


def test_bad_pdfs_are_reported_and_the_rest_indexed(
    fake_pipeline: Pipeline, tmp_path: Path
) -> None:
    corpus = fake_pipeline.settings.corpus
    _write_corpus(corpus)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage without objects")
    make_pdf(corpus / "scan.pdf", [""], text=False)
    report = fake_pipeline.ingest()
    reasons = {Path(r.path).name: r.reason for r in report.rejected}
    assert set(reasons) == {"broken.pdf", "scan.pdf"}
    assert "no text layer" in reasons["scan.pdf"]
    assert set(fake_pipeline.store.manifest()) == {"living-en.md", "living-ko.md", "report.pdf"}


def test_changed_file_replaces_its_chunks(fake_pipeline: Pipeline) -> None:
    corpus = fake_pipeline.settings.corpus
    corpus.mkdir(exist_ok=True)
    doc = corpus / "a.md"
    doc.write_text(
        "# A\n\n" + "\n\n".join(f"{i}. section {i} text" for i in range(1, 30)), encoding="utf-8"
    )
    fake_pipeline.ingest()
    before = fake_pipeline.store.count_chunks()
    doc.write_text("# A\n\nshort now", encoding="utf-8")
    report = fake_pipeline.ingest()
    assert report.removed == before - 1
    assert fake_pipeline.store.count_chunks() == 1


def test_other_embedder_setting_is_refused(
    fake_pipeline: Pipeline, fakes: dict[str, CountingFake]
) -> None:
    _write_corpus(fake_pipeline.settings.corpus)
    fake_pipeline.ingest()
    other = Pipeline(
        fake_pipeline.settings.replace(embedder="sentence-transformers:/some/model"),
        embedder_overrides={"sentence-transformers:/some/model": CountingFake(size=4)},
        client=fake_pipeline.store.client,
    )
    with pytest.raises(IndexMismatchError, match="policyqa reset"):
        other.ingest()


def test_dimension_change_is_refused(fake_pipeline: Pipeline) -> None:
    _write_corpus(fake_pipeline.settings.corpus)
    fake_pipeline.ingest()
    other = Pipeline(
        fake_pipeline.settings,
        embedder_overrides={
            "use-multilingual": CountingFake(size=32),
            "sentence-transformers:all-MiniLM-L6-v2": CountingFake(size=8),
        },
        client=fake_pipeline.store.client,
    )
    (fake_pipeline.settings.corpus / "new.md").write_text("# new\n\nnew text", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="16-d"):
        other.ingest()


def test_second_ingest_waits_for_the_lock(tmp_path: Path) -> None:
    with (
        ingest_lock(tmp_path),
        pytest.raises(IngestLockedError, match="another ingest"),
        ingest_lock(tmp_path),
    ):
        pass


def test_settings_exclude_default_skips_readme(tmp_path: Path) -> None:
    assert "README*" in Settings().exclude


def test_moved_or_renamed_file_reuses_stored_vectors(
    fake_pipeline: Pipeline, fakes: dict[str, CountingFake], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the indexer's embedder calls; calibration's own are pinned in test_retrieve
    monkeypatch.setattr(fake_pipeline, "calibrate", lambda force=False: None)
    _write_corpus(fake_pipeline.settings.corpus)
    fake_pipeline.ingest()
    before = {name: fake.calls for name, fake in fakes.items()}
    corpus = fake_pipeline.settings.corpus
    (corpus / "archive").mkdir()
    (corpus / "living-en.md").rename(corpus / "archive" / "living-en-2025.md")
    report = fake_pipeline.ingest(prune=True)
    assert "archive/living-en-2025.md" in fake_pipeline.store.manifest()
    assert "living-en.md" not in fake_pipeline.store.manifest()
    assert report.embedded == 0
    assert {name: fake.calls for name, fake in fakes.items()} == before
    hits = fake_pipeline.search("60-minute commuting zone", k=3)
    assert any(p.chunk.doc_id == "archive/living-en-2025.md" for p in hits)


def test_an_unchanged_document_costs_no_write(
    fake_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-indexing loaded documents that did not change writes nothing to Chroma (no chunk
    upsert, no delete, no manifest upsert), so the index's state token stays the same."""
    write_small_corpus(fake_pipeline.settings.corpus)
    fake_pipeline.ingest()
    from policyqa.ingest.load import load_file

    docs = [load_file(path, path.name) for path in sorted(fake_pipeline.settings.corpus.iterdir())]
    token = fake_pipeline.store.state_token()
    writes: list[str] = []
    for collection in (fake_pipeline.store.chunks, fake_pipeline.store.docs):
        for method in ("upsert", "delete"):
            original = getattr(collection, method)

            def spy(*args, _name=method, _original=original, **kwargs):  # type: ignore[no-untyped-def]
                writes.append(_name)
                return _original(*args, **kwargs)

            monkeypatch.setattr(collection, method, spy)
    report = fake_pipeline.index_documents(docs)
    assert report.embedded == 0 and report.added == 0 and report.updated == 0
    assert writes == []
    assert fake_pipeline.store.state_token() == token


def test_other_chunk_settings_re_split_unchanged_files(
    fake_pipeline: Pipeline, fakes: dict[str, CountingFake]
) -> None:
    corpus = fake_pipeline.settings.corpus
    corpus.mkdir(exist_ok=True)
    (corpus / "a.md").write_text(
        "# A\n\n" + " ".join(f"word{i}" for i in range(300)), encoding="utf-8"
    )
    fake_pipeline.ingest()
    before = fake_pipeline.store.count_chunks()
    smaller = Pipeline(
        fake_pipeline.settings.replace(chunk_words=100, chunk_overlap=10),
        embedder_overrides=dict(fakes),
        client=fake_pipeline.store.client,
    )
    report = smaller.ingest()
    assert report.unchanged_files == 0 and report.embedded > 0
    assert smaller.store.count_chunks() != before
    # and once cut the new way, the file is unchanged again
    again = smaller.ingest()
    assert again.unchanged_files == 1 and again.embedded == 0
