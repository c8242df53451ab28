"""Incremental, idempotent ingestion: what changed gets embedded, nothing else.

A file whose hash matches the manifest costs one hash; a changed file re-embeds only the chunks
whose text changed; a bad file is reported by name and skipped. One ingest at a time (a lock).
"""

from __future__ import annotations

import fcntl
import fnmatch
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from langchain_core.embeddings import Embeddings

from policyqa.core.models import Chunk, Document, IngestReport, Rejection
from policyqa.core.tuning import PAGE_HEAD_CHARS, PAGE_HEADS_MIN_PAGES
from policyqa.index.embed import EmbedderSpec
from policyqa.index.pages import page_heads, stored_heads, wants_heads, write_heads
from policyqa.index.store import IndexMismatchError, Store
from policyqa.ingest.load import SUPPORTED_SUFFIXES, LoadError, file_sha256
from policyqa.ingest.pdfworker import PdfLimits, load_isolated
from policyqa.ingest.split import split_document, split_signature

log = logging.getLogger(__name__)


class IngestLockedError(RuntimeError):
    """Another ingest holds the lock."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    doc_id: str


def discover(
    paths: Sequence[Path], exclude: Sequence[str] = ()
) -> tuple[list[SourceFile], list[Rejection]]:
    """Supported files under the given paths; doc ids are relative to the folder given."""
    found: list[SourceFile] = []
    rejected: list[Rejection] = []
    taken: dict[str, str] = {}
    for root in paths:
        if not root.exists():
            rejected.append(Rejection(str(root), "no such file or folder"))
            continue
        if root.is_file():
            candidates = [(root, root.name)]
        else:
            candidates = [
                (p, p.relative_to(root).as_posix()) for p in sorted(root.rglob("*")) if p.is_file()
            ]
        inside = root.resolve() if root.is_dir() else root.parent.resolve()
        for path, doc_id in candidates:
            parts = Path(doc_id).parts
            if not path.resolve().is_relative_to(inside):
                # A link to /etc/passwd would be indexed, quoted and served as a document.
                rejected.append(Rejection(str(path), "a link to a file outside the folder"))
                continue
            try:
                doc_id.encode("utf-8")
            except UnicodeEncodeError:
                rejected.append(
                    Rejection(repr(str(path)), "file name is not valid UTF-8; rename the file")
                )
                continue
            if any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in exclude):
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                if root.is_file():
                    rejected.append(
                        Rejection(str(path), f"unsupported file type {path.suffix or '(none)'}")
                    )
                continue
            if doc_id in taken:
                rejected.append(
                    Rejection(
                        str(path),
                        f"another file already has the document id {doc_id!r} "
                        f"({taken[doc_id]}); ingest the folders separately or rename one",
                    )
                )
                continue
            taken[doc_id] = str(path)
            found.append(SourceFile(path, doc_id))
    return found, rejected


@contextmanager
def ingest_lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with (home / "ingest.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestLockedError(
                f"another ingest is running on {home} (lock {home / 'ingest.lock'}); "
                "wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Indexer:
    """Splits, embeds and writes documents into the store."""

    def __init__(
        self,
        store: Store,
        embedders: Sequence[tuple[EmbedderSpec, Embeddings]],
        chunk_words: int = 120,
        chunk_overlap: int = 20,
        batch_size: int = 64,
    ) -> None:
        self.store = store
        self.embedders = list(embedders)
        self.chunk_words = chunk_words
        self.chunk_overlap = chunk_overlap
        self.batch_size = batch_size
        # With the page-head length: an index from before heads (or of other heads) reads its
        # files again once; their chunks keep their vectors by hash, only heads are embedded.
        heads = f"heads{PAGE_HEAD_CHARS}-{PAGE_HEADS_MIN_PAGES}"
        self.split = f"{split_signature(chunk_words, chunk_overlap)}/{heads}"
        self._dims_checked: set[EmbedderSpec] = set()

    def index_document(self, doc: Document, report: IngestReport) -> None:
        chunks = split_document(doc, self.chunk_words, self.chunk_overlap)
        existing = self.store.existing_hashes(doc.doc_id)
        fresh = [c for c in chunks if existing.get(c.id) != c.content_hash]
        # Per embedder: a crash between two collections' writes leaves one of them behind, and
        # only that one is redone.
        todo: dict[EmbedderSpec, list[Chunk]] = {}
        for index, (spec, _) in enumerate(self.embedders):
            have = existing if index == 0 else self.store.existing_hashes(doc.doc_id, spec)
            todo[spec] = [
                c for c in chunks if spec.covers(c.language) and have.get(c.id) != c.content_hash
            ]
        vectors, embedded = self._embed(todo)
        # Heads before the manifest record: an interrupted write is redone.
        report.page_heads_embedded += self._index_heads(doc, chunks)
        removed = self.store.write_document(doc, chunks, vectors, existing, self.split)
        report.added += sum(1 for c in fresh if c.id not in existing)
        report.updated += sum(1 for c in fresh if c.id in existing)
        report.skipped += len(chunks) - len(fresh)
        report.embedded += embedded
        report.removed += removed
        report.pages += doc.page_count

    def _index_heads(self, doc: Document, chunks: Sequence[Chunk]) -> int:
        """Embed and store the page heads that changed, per embedder covering their language;
        returns how many texts were sent to an embedder."""
        heads = page_heads(doc, chunks) if wants_heads(doc.page_count) else []
        sent = 0
        for spec, embeddings in self.embedders:
            existing = stored_heads(self.store, spec, doc.doc_id)
            mine = [h for h in heads if spec.covers(h.language)]
            todo = [h for h in mine if existing.get(h.id) != h.content_hash]
            cached = self.store.vectors_by_hash(
                spec, [h.content_hash for h in todo], self.store.pages(spec)
            )
            vectors = {h.id: cached[h.content_hash] for h in todo if h.content_hash in cached}
            missing = [h for h in todo if h.content_hash not in cached]
            for start in range(0, len(missing), self.batch_size):
                batch = missing[start : start + self.batch_size]
                embedded = embeddings.embed_documents([h.text for h in batch])
                vectors.update(zip((h.id for h in batch), embedded, strict=True))
            sent += len(missing)
            write_heads(self.store, spec, mine, vectors, existing)
        return sent

    def _embed(
        self, chunks: dict[EmbedderSpec, list[Chunk]]
    ) -> tuple[dict[EmbedderSpec, dict[str, list[float]]], int]:
        """Vectors per embedder, and how many chunks the first embedder really embedded
        (chunks whose content hash is already stored reuse that vector)."""
        out: dict[EmbedderSpec, dict[str, list[float]]] = {}
        embedded_count = 0
        for index, (spec, embeddings) in enumerate(self.embedders):
            wanted = chunks.get(spec, [])
            cached = self.store.vectors_by_hash(spec, [c.content_hash for c in wanted])
            vectors: dict[str, list[float]] = {
                c.id: cached[c.content_hash] for c in wanted if c.content_hash in cached
            }
            todo = [c for c in wanted if c.content_hash not in cached]
            if index == 0:
                embedded_count = len(todo)
            for start in range(0, len(todo), self.batch_size):
                batch = todo[start : start + self.batch_size]
                embedded = embeddings.embed_documents([c.context_text for c in batch])
                if spec not in self._dims_checked and embedded:
                    self.store.check_dimension(spec, len(embedded[0]))
                    self._dims_checked.add(spec)
                vectors.update(zip((c.id for c in batch), embedded, strict=True))
            out[spec] = vectors
        return out, embedded_count


def ingest(
    paths: Sequence[Path],
    indexer: Indexer,
    *,
    home: Path,
    exclude: Sequence[str] = (),
    max_bytes: int | None = None,
    prune: bool = False,
    show_progress: bool = False,
    staged: Mapping[Path, SourceFile] | None = None,
    locked: bool = False,
    pdf_limits: PdfLimits | None = None,
) -> IngestReport:
    """`staged`: files read from the key path but indexed as the given source (an upload is
    indexed under a temporary name, then moved into place). `locked`: the caller holds the
    ingest lock."""
    started = time.perf_counter()
    report = IngestReport()
    store = indexer.store
    read_from = {s.doc_id: path for path, s in (staged or {}).items()}
    with nullcontext() if locked else ingest_lock(home):
        store.check_compatible()
        files, rejected = discover(paths, exclude) if paths else ([], [])
        files += list((staged or {}).values())
        report.rejected.extend(rejected)
        manifest = store.manifest()
        seen: set[str] = set()
        todo: list[tuple[SourceFile, str]] = []
        for source in files:
            seen.add(source.doc_id)
            report.files += 1
            try:
                file_hash = file_sha256(read_from.get(source.doc_id, source.path))
            except OSError as exc:
                report.rejected.append(Rejection(str(source.path), f"cannot read: {exc}"))
                continue
            entry = manifest.get(source.doc_id)
            # A file cut by other splitting rules is cut again; its unchanged chunks keep
            # their vectors (by content hash), so only what the new cut changed is embedded.
            if entry is not None and entry.file_hash == file_hash and entry.split == indexer.split:
                report.unchanged_files += 1
                report.skipped += entry.chunks
                report.pages += entry.pages
                continue
            todo.append((source, file_hash))
        changed = False
        bar = _progress_bar(len(todo), show_progress)
        for source, _ in todo:
            try:
                path = read_from.get(source.doc_id, source.path)
                doc = load_isolated(path, source.doc_id, max_bytes=max_bytes, limits=pdf_limits)
                if path != source.path:
                    doc = replace(doc, source_path=str(source.path.resolve()))
            except LoadError as exc:
                report.rejected.append(Rejection(str(source.path), str(exc)))
                _advance_file(bar)
                continue
            try:
                indexer.index_document(doc, report)
            except IndexMismatchError:
                raise  # the whole index is at stake, not this file
            except Exception as exc:  # one file must never stop the others; the log has details
                log.exception("indexing %s failed", source.path)
                report.rejected.append(
                    Rejection(str(source.path), f"could not be indexed ({type(exc).__name__})")
                )
                _advance_file(bar)
                continue
            changed = True
            _advance_file(bar, source.doc_id)
        if prune:
            for doc_id in sorted(set(manifest) - seen):
                report.removed += store.remove_document(doc_id)
                report.removed_docs.append(doc_id)
                changed = True
        if changed:
            store.touch_state()
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


def index_documents(docs: Sequence[Document], indexer: Indexer) -> IngestReport:
    """Index already-loaded documents (benchmarks, tests): no files, no lock."""
    started = time.perf_counter()
    report = IngestReport(files=len(docs))
    for doc in docs:
        indexer.index_document(doc, report)
    if report.added or report.updated or report.removed:
        indexer.store.touch_state()  # only a real change makes searchers rebuild BM25
    report.seconds = time.perf_counter() - started
    return report


def _progress_bar(total: int, enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="ingest", leave=False)


def _advance_file(bar, name: str = "") -> None:  # type: ignore[no-untyped-def]
    if bar is not None:
        if name:
            bar.set_postfix_str(name[-40:])
        bar.update(1)
