"""Chroma adapter: the system of record for chunks, vectors and the document manifest.

Collections (prefix from settings):
- `<prefix>-chunks`: every chunk's text and metadata, with the first embedder's vectors;
- `<prefix>-vec-<slug>`: vectors of each further embedder (only the languages it covers);
- `<prefix>-docs`: one record per document (file hash, pages, chunk count): the manifest;
- `<prefix>-pages-<slug>`: each embedder's vectors of page heads (`index.pages`).
Each vector collection records the embedder (and its dimension once known) that built it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from policyqa.core.models import Chunk, Document
from policyqa.index.embed import EmbedderSpec

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

_STATE_ID = "__state__"
_PAGE = 5000  # rows per Chroma get() call when reading everything


class IndexMismatchError(RuntimeError):
    """The index was built with other embedders than the settings ask for."""


class IndexDamagedError(RuntimeError):
    """The index files cannot be read; the message names the fix."""


@dataclass(frozen=True)
class ManifestEntry:
    doc_id: str
    title: str
    file_hash: str
    language: str
    pages: int
    chunks: int
    source_path: str
    split: str = ""  # how the document was cut (`split_signature`); "" for older indexes


def make_client(home: Path, chroma_url: str = "") -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if not parsed.hostname:
            raise ValueError(f"POLICYQA_CHROMA_URL {chroma_url!r} has no host")
        ssl = parsed.scheme == "https"
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if ssl else 8000),
            ssl=ssl,
            settings=chroma_settings,
        )
    path = home / "chroma"
    check_embedded(path)
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise IndexDamagedError(damaged(path, f"Chroma cannot open it: {exc}")) from exc


def damaged(folder: Path, reason: str) -> str:
    return (
        f"The index in {folder} is damaged ({reason}). Rebuild it: `policyqa reset --yes`, "
        "then `policyqa ingest`."
    )


def check_embedded(folder: Path) -> None:
    """Raise IndexDamagedError when the embedded Chroma files in `folder` are unreadable or
    incomplete. Read with sqlite3 alone: Chroma itself fails in many ways on such files, or
    worse, opens them as an empty index or rebuilds a missing vector index from nothing."""
    import sqlite3

    database = folder / "chroma.sqlite3"
    if not database.exists():
        return
    if database.stat().st_size == 0:
        raise IndexDamagedError(damaged(folder, "chroma.sqlite3 is empty (0 bytes)"))
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            check = connection.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise IndexDamagedError(damaged(folder, f"chroma.sqlite3: {check}"))
            # Vector segments of collections that hold embeddings: each has its folder.
            rows = connection.execute(
                "SELECT v.id FROM segments v JOIN segments m ON m.collection = v.collection "
                "WHERE v.scope = 'VECTOR' AND m.scope = 'METADATA' "
                "AND EXISTS (SELECT 1 FROM embeddings e WHERE e.segment_id = m.id)"
            ).fetchall()
    except sqlite3.Error as exc:
        raise IndexDamagedError(damaged(folder, f"chroma.sqlite3: {exc}")) from exc
    missing = [str(r[0]) for r in rows if not (folder / str(r[0])).is_dir()]
    if missing:
        raise IndexDamagedError(damaged(folder, f"vector index folder {missing[0]} is missing"))


class Store:
    def __init__(self, client: ClientAPI, prefix: str, specs: Sequence[EmbedderSpec]) -> None:
        self.client = client
        self.prefix = prefix
        self.specs = list(specs)
        self._collections: dict[str, Any] = {}

    # -- collections -------------------------------------------------------------------------
    def collection_name(self, spec: EmbedderSpec) -> str:
        if spec == self.specs[0]:
            return f"{self.prefix}-chunks"
        return f"{self.prefix}-vec-{spec.slug}"

    @property
    def docs_name(self) -> str:
        return f"{self.prefix}-docs"

    def _vectors(self, spec: EmbedderSpec) -> Any:
        name = self.collection_name(spec)
        if name not in self._collections:
            collection = self.client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": spec.name, "language": spec.language or "all"},
            )
            built_with = (collection.metadata or {}).get("embedder")
            if built_with != spec.name:
                raise IndexMismatchError(
                    f"collection {name!r} was built with embedder {built_with!r}, but the "
                    f"settings ask for {spec.name!r}. Rebuild the index: `policyqa reset` then "
                    "`policyqa ingest` (or set POLICYQA_EMBEDDER back)."
                )
            self._collections[name] = collection
        return self._collections[name]

    def pages_name(self, spec: EmbedderSpec) -> str:
        return f"{self.prefix}-pages-{spec.slug}"

    def pages(self, spec: EmbedderSpec) -> Any:
        """This embedder's collection of page heads (`index.pages` reads and writes it)."""
        name = self.pages_name(spec)
        if name not in self._collections:
            self._collections[name] = self.client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": spec.name, "language": spec.language or "all"},
            )
        return self._collections[name]

    @property
    def chunks(self) -> Any:
        return self._vectors(self.specs[0])

    @property
    def docs(self) -> Any:
        if self.docs_name not in self._collections:
            self._collections[self.docs_name] = self.client.get_or_create_collection(
                self.docs_name,
                embedding_function=None,
                metadata={"embedders": ",".join(self._spec_strings())},
            )
        return self._collections[self.docs_name]

    def _spec_strings(self) -> list[str]:
        return [s.name + (f"@{s.language}" if s.language else "") for s in self.specs]

    def check_compatible(self) -> None:
        """Raise IndexMismatchError when the stored index was built with other embedders."""
        recorded = (self.docs.metadata or {}).get("embedders")
        current = ",".join(self._spec_strings())
        if recorded and recorded != current and self.count_chunks() > 0:
            raise IndexMismatchError(
                f"the index was built with embedders {recorded!r}; the settings ask for "
                f"{current!r}. Rebuild it: `policyqa reset` then `policyqa ingest`."
            )
        for spec in self.specs:
            self._vectors(spec)

    def check_dimension(self, spec: EmbedderSpec, dimension: int) -> None:
        collection = self._vectors(spec)
        recorded = (collection.metadata or {}).get("dim")
        if recorded is None:
            collection.modify(metadata={**(collection.metadata or {}), "dim": dimension})
        elif int(recorded) != dimension:
            raise IndexMismatchError(
                f"collection {collection.name!r} holds {recorded}-d vectors but embedder "
                f"{spec.name!r} makes {dimension}-d ones. Rebuild: `policyqa reset` then ingest."
            )

    # -- manifest ----------------------------------------------------------------------------
    def manifest(self) -> dict[str, ManifestEntry]:
        return {
            doc_id: ManifestEntry(
                doc_id=doc_id,
                title=str(meta.get("title", "")),
                file_hash=str(meta.get("file_hash", "")),
                language=str(meta.get("language", "")),
                pages=int(meta.get("pages", 0)),
                chunks=int(meta.get("chunks", 0)),
                source_path=str(meta.get("source_path", "")),
                split=str(meta.get("split", "")),
            )
            for doc_id, meta in self.manifest_metadata().items()
        }

    def state_token(self) -> str:
        """Changes whenever an ingest changes the index (lexical caches compare it)."""
        got = self.docs.get(ids=[_STATE_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("version", "")) if metas and metas[0] else ""

    def touch_state(self) -> None:
        self.docs.upsert(
            ids=[_STATE_ID], embeddings=[[1.0]], metadatas=[{"version": uuid.uuid4().hex}]
        )

    # -- writing -----------------------------------------------------------------------------
    def existing_hashes(self, doc_id: str, spec: EmbedderSpec | None = None) -> dict[str, str]:
        """Chunk id -> content hash of a document's chunks, in the chunks collection or, with
        `spec`, in that embedder's collection."""
        collection = self.chunks if spec is None else self._vectors(spec)
        got = collection.get(where={"doc_id": doc_id}, include=["metadatas"])
        return {
            cid: str((meta or {}).get("content_hash", ""))
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
        }

    def vectors_by_hash(
        self, spec: EmbedderSpec, hashes: Sequence[str], collection: Any = None
    ) -> dict[str, list[float]]:
        """Stored vectors of this embedder for chunks (or, given its `pages` collection, page
        heads) with these content hashes (any document): a moved, renamed or copied file's
        chunks need no new embedding."""
        found: dict[str, list[float]] = {}
        wanted = list(dict.fromkeys(hashes))
        collection = self._vectors(spec) if collection is None else collection
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            got = collection.get(
                where={"content_hash": {"$in": batch}}, include=["embeddings", "metadatas"]
            )
            embeddings = got.get("embeddings")
            if embeddings is None:
                continue
            for meta, vector in zip(got["metadatas"] or [], embeddings, strict=True):
                key = str((meta or {}).get("content_hash", ""))
                if key and key not in found:
                    found[key] = [float(x) for x in vector]
        return found

    def write_document(
        self,
        doc: Document,
        chunks: Sequence[Chunk],
        vectors: dict[EmbedderSpec, dict[str, list[float]]],
        existing: Mapping[str, str] | None = None,
        split: str = "",
    ) -> int:
        """Upsert the chunks that have new vectors, drop the document's stale chunks, then
        record the document in the manifest (last, so an interrupted write is redone).
        `existing` (chunk id -> hash, as `existing_hashes` gave it) saves reading it again;
        `split` records how the document was cut.
        A document whose chunks and manifest entry are already as given costs no write.
        Returns the number of stale chunks removed."""
        keep = {c.id for c in chunks}
        if existing is None:
            existing = self.existing_hashes(doc.doc_id)
        entry = self._manifest_metadata(doc, chunks, split)
        if (
            not any(vectors.get(spec) for spec in self.specs)
            and set(existing) == keep
            and self._stored_manifest(doc.doc_id) == entry
        ):
            return 0
        by_id = {c.id: c for c in chunks}
        for spec in self.specs:
            spec_vectors = vectors.get(spec, {})
            ids = [cid for cid in spec_vectors if cid in by_id]
            collection = self._vectors(spec)
            for start in range(0, len(ids), self._batch()):
                batch = ids[start : start + self._batch()]
                collection.upsert(
                    ids=batch,
                    embeddings=[spec_vectors[cid] for cid in batch],
                    documents=[by_id[cid].text for cid in batch],
                    metadatas=[by_id[cid].metadata() for cid in batch],
                )
        stale = [cid for cid in existing if cid not in keep]
        for spec in self.specs:
            self._delete_ids(self._vectors(spec), stale)
            if spec != self.specs[0]:
                # A chunk whose language changed may no longer be covered by this embedder.
                covered = [c.id for c in chunks if not spec.covers(c.language)]
                self._delete_ids(self._vectors(spec), covered)
        self.docs.upsert(ids=[doc.doc_id], embeddings=[[1.0]], metadatas=[entry])
        return len(stale)

    @staticmethod
    def _manifest_metadata(
        doc: Document, chunks: Sequence[Chunk], split: str = ""
    ) -> dict[str, str | int]:
        digest = hashlib.sha256("|".join(sorted(c.content_hash for c in chunks)).encode())
        return {
            "title": doc.title,
            "file_hash": doc.file_hash,
            "language": doc.language,
            "pages": doc.page_count,
            "chunks": len(chunks),
            "source_path": doc.source_path,
            # Changes whenever any of the document's chunks does: readers find what changed
            # in the index from the manifest alone (`manifest_metadata`).
            "chunks_hash": digest.hexdigest()[:16],
            "split": split,
        }

    def manifest_metadata(self) -> dict[str, dict[str, Any]]:
        """Doc id -> its manifest record as stored: a document whose record is unchanged has
        unchanged chunks."""
        out: dict[str, dict[str, Any]] = {}
        for ids, _, metas in _get_all(self.docs, include=["metadatas"]):
            for doc_id, meta in zip(ids, metas, strict=True):
                if doc_id != _STATE_ID:
                    out[doc_id] = dict(meta or {})
        return out

    def chunks_of(self, doc_ids: Sequence[str]) -> list[Chunk]:
        """Every chunk of these documents."""
        out: list[Chunk] = []
        wanted = list(doc_ids)
        for start in range(0, len(wanted), 100):
            where = {"doc_id": {"$in": wanted[start : start + 100]}}
            got = self.chunks.get(where=where, include=["documents", "metadatas"])
            out.extend(_chunks(got["ids"], got["documents"], got["metadatas"]))
        return out

    def _stored_manifest(self, doc_id: str) -> dict[str, Any] | None:
        got = self.docs.get(ids=[doc_id], include=["metadatas"])
        metas = got.get("metadatas") or []
        return dict(metas[0]) if metas and metas[0] else None

    def remove_document(self, doc_id: str) -> int:
        removed = len(self.existing_hashes(doc_id))
        for spec in self.specs:
            self._vectors(spec).delete(where={"doc_id": doc_id})
            self.pages(spec).delete(where={"doc_id": doc_id})
        self.docs.delete(ids=[doc_id])
        return removed

    def _delete_ids(self, collection: Any, ids: list[str]) -> None:
        for start in range(0, len(ids), self._batch()):
            collection.delete(ids=ids[start : start + self._batch()])

    def _batch(self) -> int:
        try:
            return max(1, min(5000, int(self.client.get_max_batch_size())))
        except Exception:
            return 1000

    # -- reading -----------------------------------------------------------------------------
    def all_chunks(self) -> list[Chunk]:
        out: list[Chunk] = []
        for ids, docs, metas in _get_all(self.chunks, include=["documents", "metadatas"]):
            out.extend(_chunks(ids, docs, metas))
        return out

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), _PAGE):
            got = self.chunks.get(
                ids=wanted[start : start + _PAGE], include=["documents", "metadatas"]
            )
            for chunk in _chunks(got["ids"], got["documents"], got["metadatas"]):
                out[chunk.id] = chunk
        return out

    def query(
        self, spec: EmbedderSpec, vector: list[float], n: int, where: dict[str, Any] | None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        collection = self._vectors(spec)
        try:
            # Chroma returns fewer than n when fewer match; counting first costs a scan of
            # the collection (11 ms at 100k chunks) on every query.
            got = collection.query(
                query_embeddings=[vector], n_results=n, where=where or None, include=["distances"]
            )
        except Exception:
            total = collection.count()  # a Chroma that insists on n <= count
            if total == 0:
                return []
            got = collection.query(
                query_embeddings=[vector],
                n_results=min(n, total),
                where=where or None,
                include=["distances"],
            )
        ids = got["ids"][0]
        distances = got["distances"][0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, distances, strict=True)]

    def count_chunks(self) -> int:
        return int(self.chunks.count())

    def reset(self) -> list[str]:
        """Delete every collection of this prefix; returns their names."""
        names = [self.collection_name(s) for s in self.specs] + [self.docs_name]
        existing = {str(getattr(c, "name", c)) for c in self.client.list_collections()}
        for name in existing:
            if name.startswith(f"{self.prefix}-") and name not in names:
                names.append(name)  # collections of embedders no longer configured
        deleted = []
        for name in names:
            if name in existing:
                self.client.delete_collection(name)
                deleted.append(name)
        self._collections.clear()
        return deleted


def _chunks(ids: Sequence[str], texts: Sequence[Any], metas: Sequence[Any]) -> Iterator[Chunk]:
    """Chunks from the parallel lists a Chroma get() returns."""
    for cid, text, meta in zip(ids, texts, metas, strict=True):
        yield Chunk.from_record(cid, text or "", dict(meta or {}))


def _get_all(
    collection: Any, include: list[str]
) -> Iterator[tuple[list[str], list[Any], list[Any]]]:
    offset = 0
    while True:
        got = collection.get(include=include, limit=_PAGE, offset=offset)
        ids = list(got["ids"])
        if not ids:
            return
        docs = list(got.get("documents") or [None] * len(ids))
        metas = list(got.get("metadatas") or [{}] * len(ids))
        yield ids, docs, metas
        if len(ids) < _PAGE:
            return
        offset += len(ids)
