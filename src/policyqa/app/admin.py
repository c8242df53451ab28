"""Document administration: uploads and removals, and the record of who did what and when.

An upload never touches an existing document. Each file is written under a temporary hidden
name in the corpus, indexed from there (under the ingest lock, so no CLI ingest runs meanwhile),
then linked to its final name, which fails rather than overwrite. A name that is already taken
is refused; whatever fails, only the new file is deleted. Removed files are archived under
`POLICYQA_HOME/removed/`. `POLICYQA_HOME/uploads.jsonl` records every upload and removal.
"""

from __future__ import annotations

import fnmatch
import hashlib
import html
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policyqa.ingest.indexer import IngestLockedError, SourceFile, ingest_lock
from policyqa.pipeline import Pipeline

log = logging.getLogger(__name__)

ALLOWED_UPLOADS = (".pdf", ".md", ".markdown", ".txt")
STAGING_PREFIX = ".upload-"
TABLE_HEAD = "| File | Result | Reason |\n|---|---|---|\n"


def esc(text: str) -> str:
    return html.escape(text, quote=True).replace("|", "&#124;")


def safe_upload_name(name: str) -> str | None:
    """A plain file name (no folders, no traversal, no hidden files) with an allowed type."""
    base = Path(name.replace("\\", "/")).name.strip()
    if base.startswith((".", "_")):
        return None  # hidden and underscore files are skipped by ingest: refuse, do not rename
    base = re.sub(r"[^\w.\-가-힣 ]", "_", base).strip(" .")
    if not base or not base.lower().endswith(ALLOWED_UPLOADS):
        return None
    return base


class UploadLog:
    """`uploads.jsonl`: one JSON object per upload or removal (time, user, document, digest)."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "uploads.jsonl"
        self._lock = threading.Lock()

    def add(self, action: str, doc_id: str, user: str | None, **extra: Any) -> None:
        record = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "action": action,
            "doc_id": doc_id,
            "user": user or "(no login)",
            **extra,
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def uploaded(self) -> dict[str, dict[str, Any]]:
        """Documents that came in through an upload and are still there: doc id -> record."""
        current: dict[str, dict[str, Any]] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return current
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line after a crash
            if not isinstance(record, dict) or not isinstance(record.get("doc_id"), str):
                continue
            if record.get("action") == "upload":
                current[record["doc_id"]] = record
            elif record.get("action") == "remove":
                current.pop(record["doc_id"], None)
        return current


class DocumentAdmin:
    """Upload and remove documents. `upload_root`: the only folder uploads may come from
    (Gradio's upload folder); None in tests that hand over files directly."""

    def __init__(self, pipeline: Pipeline, upload_root: Path | None = None) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.upload_root = upload_root.resolve() if upload_root else None
        self.log = UploadLog(self.settings.home)
        self._lock = threading.Lock()

    def documents(self) -> list[str]:
        return sorted(self.pipeline.store.manifest())

    def _check(self, source: Path, name: str | None) -> str:
        """Why this file cannot be uploaded ("" when it can)."""
        if name is None:
            return "unsupported file type"
        if self.upload_root is not None and not source.resolve().is_relative_to(self.upload_root):
            return "not an uploaded file"
        excluded = [g.strip() for g in self.settings.exclude.split(",") if g.strip()]
        if any(fnmatch.fnmatch(name, pattern) for pattern in excluded):
            return (
                f"the name matches POLICYQA_EXCLUDE ({esc(self.settings.exclude)}), so it would "
                "never be indexed; rename it"
            )
        if not source.is_file() or source.is_symlink():
            return "not a file"
        size = source.stat().st_size
        if size > int(self.settings.max_file_mb * 1_000_000):
            return f"{size / 1e6:.1f} MB is over the limit"
        if name.lower().endswith(".pdf"):
            with source.open("rb") as handle:
                if not handle.read(1024).lstrip().startswith(b"%PDF"):
                    return "not a PDF file"
        return ""

    def upload(self, files: Sequence[Any] | None, user: str | None = None) -> str:
        if not files:
            return "No file selected."
        corpus = Path(self.settings.corpus)
        corpus.mkdir(parents=True, exist_ok=True)
        rows: list[str] = []
        wanted: dict[str, Path] = {}
        for item in files:
            source = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
            name = safe_upload_name(source.name)
            problem = self._check(source, name)
            if not problem and name in wanted:
                problem = "the same name twice in one upload"
            if problem or name is None:
                rows.append(f"| {esc(name or source.name)} | rejected | {problem} |")
                continue
            wanted[name] = source
        if not wanted:
            return TABLE_HEAD + "\n".join(rows)
        try:
            with self._lock, ingest_lock(Path(self.settings.home)):
                rows += self._add(wanted, corpus, user)
        except IngestLockedError:
            rows += [
                f"| {esc(name)} | not added | another ingest is running; try again when it has "
                "finished |"
                for name in wanted
            ]
        return TABLE_HEAD + "\n".join(rows)

    def _add(self, wanted: dict[str, Path], corpus: Path, user: str | None) -> list[str]:
        """Under the ingest lock: stage, index, move into place."""
        rows: list[str] = []
        manifest = self.pipeline.store.manifest()
        staged: dict[Path, SourceFile] = {}
        try:
            for name, source in wanted.items():
                final = corpus / name
                if name in manifest or os.path.lexists(final):
                    rows.append(
                        f"| {esc(name)} | rejected | a document named {esc(name)} already exists; "
                        "remove it first (it is archived) or rename the new file |"
                    )
                    continue
                staging = corpus / f"{STAGING_PREFIX}{secrets.token_hex(6)}-{name}"
                with source.open("rb") as src, open(staging, "xb") as dst:
                    shutil.copyfileobj(src, dst)
                staged[staging] = SourceFile(final, name)
            if not staged:
                return rows
            report = self.pipeline.ingest(staged=staged, locked=True)
            rejected = {Path(r.path).name: r.reason for r in report.rejected}
            changed = False
            for staging, target in staged.items():
                name = target.doc_id
                if name in rejected:
                    rows.append(f"| {esc(name)} | rejected | {esc(rejected[name])} |")
                    continue
                try:
                    os.link(staging, target.path)  # unlike a rename, never replaces a file
                except FileExistsError:
                    self.pipeline.store.remove_document(name)
                    changed = True
                    rows.append(
                        f"| {esc(name)} | not added | a file named {esc(name)} appeared in the "
                        "corpus meanwhile; nothing was replaced |"
                    )
                    continue
                digest = hashlib.sha256(target.path.read_bytes()).hexdigest()
                self.log.add("upload", name, user, sha256=digest, bytes=target.path.stat().st_size)
                rows.append(f"| {esc(name)} | indexed | |")
            if changed:
                self.pipeline.store.touch_state()
            rows.append(f"\n{esc(report.summary())}")
        except Exception:
            log.exception("upload failed")
            rows.append(
                "| | failed | the upload failed and the error was logged; nothing changed |"
            )
        finally:
            for staging in staged:
                staging.unlink(missing_ok=True)  # only the new files: never an existing one
            self.pipeline.searcher.invalidate()
        return rows

    def remove(self, doc_id: str, user: str | None = None) -> str:
        if not doc_id:
            return "Choose a document."
        try:
            with self._lock, ingest_lock(Path(self.settings.home)):
                if doc_id not in self.pipeline.store.manifest():
                    return f"{esc(doc_id)} is not in the index."
                chunks = self.pipeline.store.remove_document(doc_id)
                self.pipeline.store.touch_state()
                archived = self._archive(doc_id)
                self.log.add("remove", doc_id, user, archived=archived)
        except IngestLockedError:
            return "Another ingest is running; try again when it has finished."
        finally:
            self.pipeline.searcher.invalidate()
        return (
            f"Removed {esc(doc_id)} ({chunks} chunks). The file was moved to the removed/ folder."
        )

    def _archive(self, doc_id: str) -> str:
        corpus = Path(self.settings.corpus).resolve()
        path = corpus / doc_id
        if not (path.is_file() and path.resolve().is_relative_to(corpus)):
            return ""
        # Kept, not deleted: a removed document can be restored by moving it back.
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        archive = Path(self.settings.home) / "removed" / stamp
        archive.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), archive / path.name)
        return str(archive / path.name)
