"""The indexer under failure: bad files in one ingest (each rejected by name, the rest
indexed), crashes and kills mid-ingest (a consistent index that resumes), and the ingest lock
(a second ingest refused, a dead holder's lock taken over).

The tests marked `integration` start real `policyqa` subprocesses (packaged models) or kill
processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from policyqa.app import cli
from policyqa.core.settings import Settings
from policyqa.index.store import Store
from policyqa.ingest.indexer import IngestLockedError, ingest_lock
from policyqa.pipeline import Pipeline

from .conftest import (
    GOOD_EN,
    CountingFake,
    _check_index,
    _fakes,
    _found_by_words,
    _no_traceback,
    _settings,
    make_pdf,
)

ROOT = Path(__file__).resolve().parents[1]
MINILM = "sentence-transformers:all-MiniLM-L6-v2"

CP949_TEXT = (
    "지방시대위원회는 2023년에 출범하였다. 국가균형발전 특별법을 개정하여 "
    "지방분권과 균형발전을 함께 추진한다. 위원회는 매년 지방시대 종합계획을 수립한다.\n"
)


# name -> fragment the rejection reason must contain
BAD_FILES = {
    "corrupt.pdf": "broken or unreadable PDF",
    "truncated.pdf": "broken or unreadable PDF",
    "locked.pdf": "password",
    "scanned.pdf": "no text layer",
    "empty.md": "empty file",
    "huge.txt": "limit",
    "binary-renamed.pdf": "not a PDF",
    "binary-renamed.md": "binary",
}


GOOD_FILES = ("good-en.md", "good-ko.pdf", "aes-empty-password.pdf", "legacy-cp949.txt")


def _encrypt(src: Path, dst: Path, user_password: str) -> Path:
    writer = PdfWriter()
    for page in PdfReader(str(src)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-pw", algorithm="AES-256")
    with dst.open("wb") as handle:
        writer.write(handle)
    return dst


def _bad_folder(corpus: Path, scratch: Path) -> None:
    """Two good files, two that must load despite looking odd, and one of each bad kind."""
    import random

    corpus.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    (corpus / "good-en.md").write_text(GOOD_EN, encoding="utf-8")
    good_pdf = make_pdf(
        corpus / "good-ko.pdf",
        ["1. 예산\n포괄보조는 2026년 10.6조원으로 늘어난다.", "2. 교통\n광역철도를 확대한다."],
    )
    src = make_pdf(scratch / "aes-src.pdf", ["강원특별자치도는 2023년 6월 11일 출범했다."])
    _encrypt(src, corpus / "aes-empty-password.pdf", "")
    (corpus / "legacy-cp949.txt").write_bytes(CP949_TEXT.encode("cp949"))

    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + rng.randbytes(6000))
    data = good_pdf.read_bytes()
    (corpus / "truncated.pdf").write_bytes(data[: len(data) // 2])
    locked_src = make_pdf(scratch / "locked-src.pdf", ["secret budget text"])
    _encrypt(locked_src, corpus / "locked.pdf", "user-secret")
    make_pdf(corpus / "scanned.pdf", ["", ""], text=False)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "huge.txt").write_text("oversized words " * 5000, encoding="utf-8")  # 80 kB
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(3000)
    (corpus / "binary-renamed.pdf").write_bytes(png)
    (corpus / "binary-renamed.md").write_bytes(png)


SMALL_LIMIT_MB = 0.05  # 50 kB: the PDFs (about 21 kB) pass, huge.txt (80 kB) does not


def test_one_ingest_reports_each_bad_file_and_indexes_the_rest(tmp_path: Path) -> None:
    settings = _settings(tmp_path, max_file_mb=SMALL_LIMIT_MB)
    _bad_folder(settings.corpus, tmp_path / "scratch")
    pipeline = Pipeline(settings, embedder_overrides=_fakes())
    report = pipeline.ingest()

    reasons = {Path(r.path).name: r.reason for r in report.rejected}
    assert set(reasons) == set(BAD_FILES), reasons
    for name, fragment in BAD_FILES.items():
        assert fragment in reasons[name], (name, reasons[name])
    assert len(report.rejected) == len(BAD_FILES)  # each bad file once
    assert report.files == len(BAD_FILES) + len(GOOD_FILES)
    assert sorted(pipeline.store.manifest()) == sorted(GOOD_FILES)
    _check_index(pipeline.store)

    # Every good file is searchable, the CP949 one decoded correctly.
    for query, doc in [
        ("Zephyrtown ferry terminal", "good-en.md"),
        ("포괄보조 10.6조원", "good-ko.pdf"),
        ("강원특별자치도 출범", "aes-empty-password.pdf"),
        ("지방시대위원회 출범", "legacy-cp949.txt"),
    ]:
        assert _found_by_words(pipeline, query, doc), (query, doc)
    legacy = [c for c in pipeline.store.all_chunks() if c.doc_id == "legacy-cp949.txt"]
    assert "지방시대위원회는 2023년에 출범하였다." in " ".join(c.text for c in legacy)

    # The rejected files are tried again next time (not recorded), the good ones are not.
    again = pipeline.ingest()
    assert again.embedded == 0 and again.unchanged_files == len(GOOD_FILES)
    assert {Path(r.path).name for r in again.rejected} == set(BAD_FILES)


def _cli_with_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`policyqa` in-process, but on fake embedders (the real ones would take minutes)."""
    fakes = _fakes()
    monkeypatch.setattr(
        cli, "_pipeline", lambda settings: Pipeline(settings, embedder_overrides=fakes)
    )


def _cli_args(settings: Settings, *command: str) -> list[str]:
    return [
        "--home",
        str(settings.home),
        "--corpus",
        str(settings.corpus),
        "--chunk-words",
        "40",
        "--chunk-overlap",
        "5",
        "--max-file-mb",
        str(settings.max_file_mb),
        *command,
    ]


def test_cli_ingest_prints_each_rejection_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path, max_file_mb=SMALL_LIMIT_MB)
    _bad_folder(settings.corpus, tmp_path / "scratch")
    _cli_with_fakes(monkeypatch)
    code = cli.main(_cli_args(settings, "ingest", "--no-progress"))
    out = capsys.readouterr()
    assert code == 0, out.err
    _no_traceback(out.out + out.err)
    lines = [line for line in out.err.splitlines() if line.startswith("rejected: ")]
    assert len(lines) == len(BAD_FILES), out.err
    for name, fragment in BAD_FILES.items():
        prefix = f"rejected: {settings.corpus / name}: "
        line = next((x for x in lines if x.startswith(prefix)), None)
        assert line is not None, (name, out.err)
        assert fragment in line[len(prefix) :]
    assert f"{len(BAD_FILES)} rejected" in out.out
    assert f"{len(BAD_FILES) + len(GOOD_FILES)} files" in out.out


def test_cli_rejects_a_missing_path_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path)
    settings.corpus.mkdir(parents=True)
    (settings.corpus / "ok.md").write_text(GOOD_EN, encoding="utf-8")
    _cli_with_fakes(monkeypatch)
    missing = tmp_path / "nowhere"
    code = cli.main(
        _cli_args(settings, "ingest", str(missing), str(settings.corpus), "--no-progress")
    )
    out = capsys.readouterr()
    assert code == 0
    assert f"rejected: {missing}: no such file or folder" in out.err
    assert "1 files" in out.out


# A file whose name is not valid UTF-8 (archives made on Windows with CP949 names) is
# rejected by name; it must not abort the ingest of the files after it.
def test_file_name_that_is_not_utf8_is_rejected_not_fatal(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.corpus.mkdir(parents=True)
    (settings.corpus / "ok.md").write_text(GOOD_EN, encoding="utf-8")
    bad = os.path.join(os.fsencode(settings.corpus), "보고서".encode("cp949") + b".md")
    with open(bad, "wb") as handle:
        handle.write("# 보고서\n\n지역 균형발전 보고서.\n".encode())
    pipeline = Pipeline(settings, embedder_overrides=_fakes())
    report = pipeline.ingest()
    assert "ok.md" in pipeline.store.manifest()
    assert len(report.rejected) + len(pipeline.store.manifest()) == 2


# Two folders given to one ingest that hold the same relative path map to one doc id: the
# second must not silently overwrite the first (nor flip the manifest on every ingest).
def test_same_doc_id_from_two_folders_is_not_silently_lost(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "notes.md").write_text("# A\n\nAlpha railway notes.\n", encoding="utf-8")
    (b / "notes.md").write_text("# B\n\nBeta hospital notes.\n", encoding="utf-8")
    pipeline = Pipeline(settings, embedder_overrides=_fakes())
    first = pipeline.ingest([a, b])
    indexed = {c.text for c in pipeline.store.all_chunks()}
    reported = [r for r in first.rejected if Path(r.path).name == "notes.md"]
    assert len(reported) + len(indexed) == 2, (indexed, first.rejected)
    assert pipeline.ingest([a, b]).embedded == 0


class _Killed(BaseException):
    """Stands in for SIGKILL at a chosen point: no `except Exception` can swallow it."""


def _crash_corpus(corpus: Path, n: int = 6) -> list[str]:
    corpus.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(n):
        if i % 2:
            text = f"# 문서 {i}\n\n1. 개요\n지역 {i}번 권역의 광역철도와 의료 인프라를 확충한다.\n"
            name = f"doc-{i}-ko.md"
        else:
            text = (
                f"# Document {i}\n\n1. Overview\nRegion {i} builds rail links, hospitals and "
                f"a port; berths {i + 10} open in 2027.\n\n2. Budget\nGrants of {i + 3} trillion.\n"
            )
            name = f"doc-{i}-en.md"
        (corpus / name).write_text(text, encoding="utf-8")
        names.append(name)
    return names


def _interrupt_at(mp: pytest.MonkeyPatch, collection: str, doc_id: str) -> None:
    """Make the upsert of `doc_id`'s records into `collection` ("chunks", "vec" or "docs")
    die like a killed process."""
    vectors, docs_of = Store._vectors, Store.docs.fget

    def wrap(col: Any, kind: str) -> Any:
        if kind != collection:
            return col

        class Dying:
            def __getattr__(self, name: str) -> Any:
                return getattr(col, name)

            def upsert(self, *, ids: list[str], **kwargs: Any) -> Any:
                if any(i == doc_id or i.startswith(f"{doc_id}#") for i in ids):
                    raise _Killed
                return col.upsert(ids=ids, **kwargs)

        return Dying()

    def dying_vectors(self: Store, spec: Any) -> Any:
        return wrap(vectors(self, spec), "chunks" if spec == self.specs[0] else "vec")

    mp.setattr(Store, "_vectors", dying_vectors)
    mp.setattr(Store, "docs", property(lambda self: wrap(docs_of(self), "docs")))


@pytest.mark.parametrize(
    "where",
    [
        "chunks",
        "docs",
        # Killed after the chunks collection got a document but before the next embedder's
        # (MiniLM@en) did: the re-run must fill that collection too, though the chunks'
        # hashes already match (each embedder's collection is checked on its own).
        "vec",
    ],
)
def test_interrupted_ingest_leaves_a_consistent_index_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    settings = _settings(tmp_path)
    names = _crash_corpus(settings.corpus)
    victim = "doc-2-en.md"  # English: it has MiniLM vectors too
    with monkeypatch.context() as mp:
        _interrupt_at(mp, where, victim)
        with pytest.raises(_Killed):
            Pipeline(settings, embedder_overrides=_fakes()).ingest()

    # (a) a fresh process view: only complete documents are listed, and searching works
    after_crash = Pipeline(settings, embedder_overrides=_fakes())
    state = _check_index(after_crash.store)
    assert victim not in state["manifest"]
    assert set(state["manifest"]) == {"doc-0-en.md", "doc-1-ko.md"}
    assert after_crash.search("rail links hospitals", 3)
    assert after_crash.ask("Which berths open in 2027?").text

    # (b) the next ingest finishes the work: every file exactly once
    report = after_crash.ingest()
    assert not report.rejected
    state = _check_index(after_crash.store)
    assert sorted(state["manifest"]) == sorted(names)
    assert set(state["by_doc"]) == set(names)  # no orphans
    assert sum(e.chunks for e in state["manifest"].values()) == len(state["chunks"])
    assert after_crash.ingest().embedded == 0
    after_crash.searcher.invalidate()  # Pipeline.ingest leaves that to the caller
    assert _found_by_words(after_crash, "Region 2 berths 12", victim)


def _docs_in_manifest(home: Path, collection: str = "policyqa-docs") -> int:
    """Documents recorded so far, read from Chroma's SQLite file without opening Chroma
    (another process is writing it). 0 when the file is not there or busy."""
    path = home / "chroma" / "chroma.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute(
                "SELECT COUNT(*) FROM embeddings_queue q JOIN collections c "
                "ON q.topic LIKE '%' || c.id WHERE c.name = ?",
                (collection,),
            ).fetchone()
        return int(row[0])
    except sqlite3.Error:
        return 0


_VERIFY = r"""
import json, sys
from pathlib import Path
from langchain_core.embeddings import Embeddings
from policyqa.pipeline import Pipeline
from policyqa.core.settings import Settings


class Constant(Embeddings):
    # Real dimensions, no model: the index opens and dense search runs (on meaningless query
    # vectors, so only the passages matched by their words are reported).
    def __init__(self, size):
        self.vector = [1.0] + [0.0] * (size - 1)

    def embed_documents(self, texts):
        return [self.vector for _ in texts]

    def embed_query(self, text):
        return self.vector


settings = Settings(home=Path(sys.argv[1]), corpus=Path(sys.argv[2]), candidates=1000)
pipeline = Pipeline(settings, embedder_overrides={
    "use-multilingual": Constant(512),
    "sentence-transformers:all-MiniLM-L6-v2": Constant(384),
})
store = pipeline.store
manifest = {k: v.chunks for k, v in store.manifest().items()}
chunks = [(c.id, c.doc_id) for c in store.all_chunks()]
passages = pipeline.search(sys.argv[3], 1000)
hits = [p.chunk.doc_id for p in passages if p.lexical_score]
print(json.dumps({"manifest": manifest, "chunks": chunks, "hits": hits}))
"""


def _verify_home(home: Path, corpus: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _VERIFY, str(home), str(corpus), _marker(7, 1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _assert_listed_documents_complete(state: dict[str, Any]) -> None:
    ids = [cid for cid, _ in state["chunks"]]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    per_doc: dict[str, int] = {}
    for _, doc in state["chunks"]:
        per_doc[doc] = per_doc.get(doc, 0) + 1
    for doc, count in state["manifest"].items():
        assert per_doc.get(doc, 0) == count, (doc, count, per_doc.get(doc))


def _marker(i: int, s: int) -> str:
    """A made-up word found in exactly one section of one document."""
    return "zebu" + "".join(chr(ord("a") + int(d)) for d in f"{i:02d}{s}")


CRASH_FILES = 24


def _marker_corpus(corpus: Path, files: int = CRASH_FILES, sections: int = 2) -> None:
    import random

    rng = random.Random(0)
    words = re.findall(
        r"\w+",
        "regional growth block grants transport railway province budget council strategy "
        "investment hospital university startup energy port tourism housing",
    )
    corpus.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        lines = [f"# Document {i}", ""]
        for s in range(sections):
            lines += [f"## {s + 1}. Section {s}", ""]
            lines.append(" ".join(rng.choice(words) for _ in range(100)) + f" {_marker(i, s)}.")
            lines.append("")
        (corpus / f"doc-{i:02d}.md").write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.integration
def test_sigkill_mid_ingest_then_resume(tmp_path: Path) -> None:
    """A real `policyqa ingest` (real models) killed with SIGKILL midway, then run again."""
    home, corpus = tmp_path / "home", tmp_path / "corpus"
    _marker_corpus(corpus)
    env = {**os.environ, "POLICYQA_HOME": str(home), "POLICYQA_CORPUS": str(corpus)}
    command = [sys.executable, "-m", "policyqa.app.cli", "ingest", "--no-progress"]
    log = tmp_path / "ingest.log"
    with log.open("wb") as output:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 240
        while _docs_in_manifest(home) < 8:
            if proc.poll() is not None:
                pytest.fail("ingest ended before it could be killed: " + log.read_text())
            assert time.monotonic() < deadline, "ingest made no progress: " + log.read_text()
            time.sleep(0.05)
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # (a) after the crash: the index opens, searching works, no half-written document is listed
    state = _verify_home(home, corpus)
    assert 8 <= len(state["manifest"]) < CRASH_FILES, state["manifest"]
    _assert_listed_documents_complete(state)
    assert isinstance(state["hits"], list)

    # The killed process's lock file is still there; the kernel released its flock.
    assert (home / "ingest.lock").exists()

    # (b) a second ingest completes the work: every file indexed exactly once
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    _no_traceback(done.stdout + done.stderr)
    assert f"{CRASH_FILES} files" in done.stdout and "0 rejected" in done.stdout
    state = _verify_home(home, corpus)
    assert sorted(state["manifest"]) == [f"doc-{i:02d}.md" for i in range(CRASH_FILES)]
    _assert_listed_documents_complete(state)
    assert {doc for _, doc in state["chunks"]} == set(state["manifest"])  # no orphans
    assert sum(state["manifest"].values()) == len(state["chunks"])
    assert state["hits"] == ["doc-07.md"]  # its made-up word, found by BM25


_HOLD_LOCK = """
import sys, time
from pathlib import Path
from policyqa.ingest.indexer import ingest_lock
with ingest_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.mark.integration
def test_lock_of_a_killed_ingest_does_not_block_the_next(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(home)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(IngestLockedError, match="another ingest is running"), ingest_lock(home):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert (home / "ingest.lock").exists()  # stale file left behind ...
    with ingest_lock(home):  # ... but not a stale lock
        pass


def test_second_ingest_is_refused_while_the_first_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path)
    names = _crash_corpus(settings.corpus)
    entered, gate = threading.Event(), threading.Event()

    class Blocking(CountingFake):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            entered.set()
            gate.wait(60)
            return super().embed_documents(texts)

    first = Pipeline(
        settings,
        embedder_overrides={"use-multilingual": Blocking(size=16), MINILM: CountingFake(size=8)},
    )
    second = Pipeline(settings, embedder_overrides=_fakes())
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(first.ingest())
        except BaseException as exc:  # pragma: no cover - reported below
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert entered.wait(30), "the first ingest never started embedding"
        with pytest.raises(IngestLockedError, match="another ingest is running"):
            second.ingest()
        # The CLI says so plainly, exit code 2, no traceback.
        _cli_with_fakes(monkeypatch)
        code = cli.main(_cli_args(settings, "ingest", "--no-progress"))
        out = capsys.readouterr()
        assert code == 2
        assert "policyqa: error: another ingest is running" in out.err
        _no_traceback(out.out + out.err)
    finally:
        gate.set()
        thread.join(60)
    assert len(outcome) == 1 and not isinstance(outcome[0], BaseException), outcome
    assert sorted(first.store.manifest()) == sorted(names)
    again = second.ingest()
    assert again.embedded == 0 and again.unchanged_files == len(names)
    _check_index(second.store)
