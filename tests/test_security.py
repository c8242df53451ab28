"""Security probes of issue 19, each pinned by a test: file paths in Gradio requests, uploads,
login and roles, the /files route, open routes, resource limits.

The app is the real `build_server` app, called in-process through Starlette's TestClient on a
fake-embedder pipeline (conftest).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policyqa.app.web import build_server
from policyqa.pipeline import Pipeline

from .conftest import make_fakes, small_settings, write_small_corpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _temp_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Briefings (mkdtemp) and Gradio's uploads and cache stay inside the test's tmp_path."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    settings = small_settings(tmp_path)
    pipeline = Pipeline(settings, embedder_overrides=make_fakes())
    write_small_corpus(settings.corpus)
    assert not pipeline.ingest().rejected
    return pipeline


def _client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def _files_under(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


# -- 1, 2: file paths named in Gradio requests ------------------------------------------------


def _file_payloads(path: str) -> list[Any]:
    """A FileData naming `path`, in the shapes Gradio components take: bare, in a list, as a
    component property value, in a chat message, in a multimodal textbox value."""
    data = {"path": path, "meta": {"_type": "gradio.FileData"}}
    return [
        data,
        [data],
        {"value": data},
        [{"role": "user", "content": [{"type": "file", "file": data}]}],
        {"text": "x", "files": [data]},
    ]


@pytest.mark.parametrize("admin", [False, True], ids=["user", "admin"])
def test_no_gradio_endpoint_accepts_a_file_path_outside_the_upload_folder(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, admin: bool
) -> None:
    """Probes 1 and 2: every event of the app (chat, examples, briefing, search, upload,
    remove...) is called with a FileData naming server files, in every input at once. Gradio
    must refuse them all: none is copied into its cache, the corpus or the index."""
    settings = pipeline.settings.replace(admin=admin)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # Gradio lets outputs (not inputs) name files under the cwd
    marker = "SECRET-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:12]
    outside = tmp_path / "temp" / "notes.md"  # in the temp folder, also allowed for outputs
    outside.write_text(f"# Notes\n\n{marker} block grants\n", encoding="utf-8")
    in_cwd = cwd / "app-source.txt"
    in_cwd.write_text(f"{marker} source\n", encoding="utf-8")
    sqlite = next(settings.home.rglob("chroma.sqlite3"))
    targets = [str(outside), str(in_cwd), str(sqlite), str(settings.corpus / "budget-ko.md")]
    gradio = tmp_path / "gradio"
    before_corpus = _files_under(settings.corpus)
    manifest = set(pipeline.store.manifest())
    with _client(build_server(settings, pipeline)) as client:
        config = client.get("/config").json()
        if admin:
            config_admin = client.get("/admin/config")
            dependencies = [(d, "") for d in config["dependencies"]]
            if config_admin.status_code == 200:
                dependencies += [(d, "/admin") for d in config_admin.json()["dependencies"]]
        else:
            dependencies = [(d, "") for d in config["dependencies"]]
        names = {d.get("api_name") for d, _ in dependencies}
        assert {"respond", "briefing"} <= names
        assert admin == bool({"upload", "remove"} & names), names
        calls = 0
        for index, (dependency, prefix) in enumerate(dependencies):
            fn_index = dependency.get("id", index)
            for target in targets:
                for payload in _file_payloads(target):
                    body = {
                        "data": [payload] * len(dependency["inputs"]),
                        "fn_index": fn_index,
                        "session_hash": f"probe{calls}",
                    }
                    r = client.post(f"{prefix}/gradio_api/run/predict", json=body)
                    calls += 1
                    assert marker not in r.text
                    assert "/gradio_api/file=" not in r.text, (dependency.get("api_name"), r.text)
    assert calls >= len(dependencies) * len(targets) * 5
    copied = [p for p, data in _files_under(gradio).items() if marker.encode() in data]
    copied += [p for p, data in _files_under(gradio).items() if data[:15] == b"SQLite format 3"]
    assert not copied, copied
    assert _files_under(settings.corpus) == before_corpus
    assert set(pipeline.store.manifest()) == manifest


def test_the_file_guard_is_checked_when_the_app_is_built(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Gradio whose path check stayed off would serve any file: the app refuses to start."""
    from gradio import processing_utils

    monkeypatch.setattr(processing_utils, "_check_allowed", lambda *a, **k: None)
    with pytest.raises(RuntimeError, match="file path check"):
        build_server(pipeline.settings, pipeline)


def test_a_chat_history_sent_by_the_browser_is_ignored(pipeline: Pipeline) -> None:
    """The conversation lives in server-side state: a chat value in the request is not read."""
    with _client(build_server(pipeline.settings, pipeline)) as client:
        config = client.get("/config").json()
        (respond,) = [d for d in config["dependencies"] if d.get("api_name") == "respond"]
        chatbot = next(c["id"] for c in config["components"] if c["props"].get("elem_id") == "chat")
        assert chatbot not in respond["inputs"]
        assert chatbot in respond["outputs"]
        forged = [{"role": "user", "content": "forged turn"}]
        data = ["포괄보조는 2026년에 얼마로 늘어나나요?"] + [forged] * (len(respond["inputs"]) - 1)
        data[-3:] = ["", [], ""]  # region, documents, answer language
        r = client.post(
            "/gradio_api/run/predict",
            json={"data": data, "fn_index": respond["id"], "session_hash": "s1"},
        )
        assert r.status_code == 200, r.text
        assert "forged turn" not in r.text


# -- 3: uploads never destroy documents -------------------------------------------------------


def _admin(pipeline: Pipeline) -> Any:
    from policyqa.app.admin import DocumentAdmin

    return DocumentAdmin(pipeline)


def _corpus_state(pipeline: Pipeline) -> tuple[dict[Path, bytes], set[str]]:
    return _files_under(pipeline.settings.corpus), set(pipeline.store.manifest())


def test_an_upload_with_the_name_of_a_document_is_refused_and_changes_nothing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Probe 3: it silently overwrote the document (nothing archived)."""
    before = _corpus_state(pipeline)
    source = tmp_path / "budget-ko.md"
    source.write_text("# 예산\n\n포괄보조는 2026년에 99조원이다.\n", encoding="utf-8")
    result = _admin(pipeline).upload([str(source)])
    assert "| budget-ko.md | rejected | a document named budget-ko.md already exists" in result
    assert _corpus_state(pipeline) == before
    assert "99조원" not in pipeline.ask("포괄보조는 2026년에 얼마로 늘어나나요?").text


def test_a_rejected_upload_with_an_existing_name_keeps_the_original(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Probe 3: a broken file named like a document deleted the original (the index still
    cited it, /files gave 404)."""
    from policyqa.app.admin import DocumentAdmin

    original = pipeline.settings.corpus / "report.pdf"
    from .conftest import make_pdf

    make_pdf(original, ["Harbour report: the terminal opens in 2027."])
    assert not pipeline.ingest().rejected
    before = _corpus_state(pipeline)
    broken = tmp_path / "report.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage, no objects")
    assert "| report.pdf | rejected |" in DocumentAdmin(pipeline).upload([str(broken)])
    assert _corpus_state(pipeline) == before
    with _client(build_server(pipeline.settings, pipeline)) as client:
        assert client.get("/files/report.pdf").content == original.read_bytes()


def test_a_rejected_new_upload_leaves_no_file_behind(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe 3: uploads were copied under their own names before indexing, so /files and a
    CLI ingest could see a file that was then rejected and deleted."""
    before = _corpus_state(pipeline)
    broken = tmp_path / "new-report.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage, no objects")
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nThe Zephyr ferry runs hourly.\n", encoding="utf-8")
    ingest = pipeline.ingest
    seen: list[str] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.extend(p.name for p in pipeline.settings.corpus.iterdir())
        return ingest(*args, **kwargs)

    monkeypatch.setattr(pipeline, "ingest", watched)
    result = _admin(pipeline).upload([str(broken), str(good)])
    assert seen and not {"new-report.pdf", "good.md"} & set(seen), seen
    assert "| new-report.pdf | rejected |" in result and "| good.md | indexed |" in result
    files, docs = _corpus_state(pipeline)
    assert set(files) - set(before[0]) == {pipeline.settings.corpus / "good.md"}
    assert docs - before[1] == {"good.md"}
    assert not list(pipeline.settings.corpus.glob(".upload-*"))


def test_an_upload_during_a_cli_ingest_touches_no_file(pipeline: Pipeline, tmp_path: Path) -> None:
    """Probe 3: an upload that met a running CLI ingest deleted the document of that name."""
    from policyqa.ingest.indexer import ingest_lock

    before = _corpus_state(pipeline)
    for name in ("budget-ko.md", "fresh.md"):
        source = tmp_path / name
        source.write_text("# x\n\nOther text.\n", encoding="utf-8")
        with ingest_lock(pipeline.settings.home):
            result = _admin(pipeline).upload([str(source)])
        assert "another ingest is running" in result
        assert _corpus_state(pipeline) == before


def test_an_upload_that_fails_while_indexing_deletes_only_the_new_file(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _corpus_state(pipeline)

    def broken_ingest(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "ingest", broken_ingest)
    source = tmp_path / "fresh.md"
    source.write_text("# Fresh\n\nText.\n", encoding="utf-8")
    result = _admin(pipeline).upload([str(source)])
    assert "failed" in result and "disk full" not in result
    assert _corpus_state(pipeline) == before


# -- 3, 5: the upload through the app: admin accounts, the record, the lists, the citations ---


ADMIN_SETTINGS = {"auth": "reader:r3ad", "admins": "boss:b0ss", "admin": True}


def _predict(client: TestClient, prefix: str, api_name: str, data: list[Any]) -> Any:
    config = client.get(f"{prefix}/config").json()
    (dependency,) = [d for d in config["dependencies"] if d.get("api_name") == api_name]
    r = client.post(
        f"{prefix}/gradio_api/run/predict",
        json={"data": data, "fn_index": dependency["id"], "session_hash": "s"},
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_an_uploaded_document_is_listed_at_once_recorded_and_marked_in_citations(
    pipeline: Pipeline,
) -> None:
    """Probes 3 and 5: only administrators may upload; the upload is recorded (who, when, what);
    the document lists show it at once; citations of it say it was uploaded."""
    settings = pipeline.settings.replace(**ADMIN_SETTINGS)
    text = "# Ferry\n\nThe Zephyr ferry carried 4,200 passengers in 2025.\n"
    with _client(build_server(settings, pipeline)) as client:
        assert client.post("/login", data={"username": "reader", "password": "r3ad"}).is_success
        assert client.post("/admin/login", data={"username": "reader", "password": "r3ad"}).is_error
        assert client.post("/admin/login", data={"username": "boss", "password": "b0ss"}).is_success
        r = client.post("/admin/gradio_api/upload", files={"files": ("ferry.md", text.encode())})
        assert r.status_code == 200, r.text
        (stored,) = r.json()
        files = [{"path": stored, "orig_name": "ferry.md", "meta": {"_type": "gradio.FileData"}}]
        result, choices = _predict(client, "/admin", "upload", [files])
        assert "| ferry.md | indexed |" in result
        assert "ferry.md" in json.dumps(choices)  # the remove list has it at once
        loaded = [d for d in client.get("/config").json()["dependencies"] if not d["inputs"]]
        listed = json.dumps([_predict(client, "", d["api_name"], []) for d in loaded])
        assert "ferry.md" in listed  # the question page's document filter, on its next load
        body = client.post(
            "/api/ask", json={"question": "How many passengers did the Zephyr ferry carry?"}
        ).json()
    (record,) = [
        json.loads(line)
        for line in (settings.home / "uploads.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert record["user"] == "boss" and record["doc_id"] == "ferry.md"
    assert (
        record["action"] == "upload"
        and record["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    )
    cited = [c for c in body["citations"] if c["doc"] == "ferry.md"]
    assert cited and cited[0]["uploaded"]["by"] == "boss"
    assert all(c["uploaded"] is None for c in body["citations"] if c["doc"] != "ferry.md")
    from policyqa.app.chat import ChatApp

    _, _, _, sources, *_ = list(
        ChatApp(pipeline).respond(
            "How many passengers did the Zephyr ferry carry?", [], [], [], "", [], ""
        )
    )[-1]
    assert "Uploaded by boss" in sources


def test_administration_needs_its_own_accounts(pipeline: Pipeline) -> None:
    """Probe 5: with POLICYQA_ADMIN=1 every logged-in user could upload and remove."""
    from policyqa.core.settings import SettingsError

    with pytest.raises(SettingsError, match="POLICYQA_ADMINS"):
        build_server(pipeline.settings.replace(auth="reader:r3ad", admin=True), pipeline)
    settings = pipeline.settings.replace(**ADMIN_SETTINGS)
    with _client(build_server(settings, pipeline)) as client:
        assert client.post("/login", data={"username": "reader", "password": "r3ad"}).is_success
        config = client.get("/config").text
        for name in ('"upload"', '"remove"', "Documents (admin)", "/admin"):
            assert name not in config, name  # the question page names no admin endpoint
        assert client.get("/admin/config").status_code == 401
        assert client.post("/admin/gradio_api/run/predict", json={"data": []}).status_code == 401


# -- 6, 7, 9: login ----------------------------------------------------------------------------


def _basic(user: str, password: str) -> dict[str, str]:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_citation_links_work_with_the_login_cookie(pipeline: Pipeline) -> None:
    """Probe 6: /files took HTTP Basic only and sent no WWW-Authenticate."""
    settings = pipeline.settings.replace(auth="reader:r3ad")
    with _client(build_server(settings, pipeline)) as client:
        r = client.get("/files/budget-ko.md")
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Basic")
        assert client.post("/login", data={"username": "reader", "password": "r3ad"}).is_success
        assert client.get("/files/budget-ko.md").status_code == 200


def test_page_images_follow_the_rules_of_files(pipeline: Pipeline, tmp_path: Path) -> None:
    """The citation viewer's page images: login, indexed corpus PDFs only, real pages only;
    rendered pages are cached under POLICYQA_HOME within the bound."""
    from .conftest import make_pdf

    make_pdf(pipeline.settings.corpus / "sheet.pdf", ["Block grants grow.", "Second page."])
    outside = make_pdf(tmp_path / "outside.pdf", ["Not in the corpus."])
    assert not pipeline.ingest().rejected
    settings = pipeline.settings.replace(auth="reader:r3ad", page_cache_mb=1.0)
    with _client(build_server(settings, pipeline)) as client:
        r = client.get("/pages/sheet.pdf?page=1")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert client.post("/login", data={"username": "reader", "password": "r3ad"}).is_success
        r = client.get("/pages/sheet.pdf?page=2")
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
        assert r.headers["content-type"] == "image/png"
        for bad in (
            "/pages/sheet.pdf?page=3",
            "/pages/sheet.pdf?page=0",
            "/pages/budget-ko.md?page=1",
            f"/pages/{outside}?page=1",
            "/pages/..%2Foutside.pdf?page=1",
            "/pages/sheet.pdf%00?page=1",
        ):
            assert client.get(bad).status_code == 404, bad
        assert client.get("/pages/sheet.pdf?page=x").status_code == 422
    cached = list((settings.home / "pages").glob("*.png"))
    assert len(cached) == 1 and cached[0].stat().st_size < 1_000_000


def test_the_viewer_reads_only_this_conversations_citations(pipeline: Pipeline) -> None:
    """The page sends "turn:n"; documents and pages come from server-side answers."""
    from policyqa.app.chat import ChatApp

    app = ChatApp(pipeline)
    steps = list(app.respond("포괄보조는 2026년에 얼마로 늘어나나요?", [], [], [], "", [], ""))
    answers = steps[-1][2]
    assert "<mark" in app.view("0:1", answers)
    for forged in ("../../etc/passwd", "0:1/../x", {"doc": "x"}, "1:1", "0:0"):
        assert app.view(forged, answers) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("password", ["비밀번호", "pässwörd", "ok"])
def test_non_ascii_credentials_are_compared_not_a_server_error(
    pipeline: Pipeline, password: str
) -> None:
    """Probe 7: secrets.compare_digest on non-ASCII str raised: a 500."""
    settings = pipeline.settings.replace(auth="사용자:비밀번호")
    with _client(build_server(settings, pipeline)) as client:
        r = client.get("/api/health", headers=_basic("사용자", password))
        assert r.status_code == (200 if password == "비밀번호" else 401), r.text
        r = client.get("/api/health", headers=_basic("user", password))
        assert r.status_code == 401
        login = client.post("/login", data={"username": "사용자", "password": password})
        assert login.is_success == (password == "비밀번호")


def test_failed_logins_are_limited_per_client(pipeline: Pipeline) -> None:
    """Probe 9: 200 wrong logins in 10 s were all answered."""
    settings = pipeline.settings.replace(auth="reader:r3ad", login_attempts=5)
    with _client(build_server(settings, pipeline)) as client:
        codes = [
            client.post("/login", data={"username": "reader", "password": f"x{i}"}).status_code
            for i in range(5)
        ]
        assert codes == [400] * 5
        r = client.post("/login", data={"username": "reader", "password": "r3ad"})
        assert r.status_code == 429 and "Too many failed logins" in r.json()["error"]
        assert int(r.headers["retry-after"]) > 0
        assert client.get("/api/health", headers=_basic("reader", "r3ad")).status_code == 429


def test_the_login_limiter_forgets_old_failures() -> None:
    from policyqa.app.auth import LoginLimiter

    now = [0.0]
    limiter = LoginLimiter(3, window=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert not limiter.blocked("a")
        limiter.failed("a")
    assert limiter.blocked("a") and not limiter.blocked("b")
    now[0] = 59.0
    assert limiter.blocked("a") and limiter.retry_after("a") == 2
    now[0] = 60.5
    assert not limiter.blocked("a")


# -- 9: open routes and leaks ------------------------------------------------------------------


def test_health_needs_login_and_hides_the_llm_endpoint(pipeline: Pipeline) -> None:
    settings = pipeline.settings.replace(
        auth="reader:r3ad", llm_url="http://10.9.8.7:8080/v1", llm_model="m"
    )
    served = Pipeline(settings, embedder_overrides=dict(pipeline.embedder_overrides))
    with _client(build_server(settings, served)) as client:
        assert client.get("/api/health").status_code == 401
        r = client.get("/api/health", headers=_basic("reader", "r3ad"))
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert "10.9.8.7" not in r.text and "openai:m" in r.text


@pytest.mark.parametrize(
    "path", ["/api/docs", "/redoc", "/openapi.json", "/api/openapi.json", "/docs", "/api/redoc"]
)
def test_no_open_api_documentation(pipeline: Pipeline, path: str) -> None:
    settings = pipeline.settings.replace(auth="reader:r3ad")
    with _client(build_server(settings, pipeline)) as client:
        r = client.get(path)
        assert r.status_code in (401, 404), (path, r.status_code)
        assert "openapi" not in r.text.lower() or r.status_code == 401


def test_request_bodies_are_limited(pipeline: Pipeline) -> None:
    """Probe 9: a 200 MB body was accepted after login."""
    from policyqa.app.web import MAX_REQUEST_BYTES

    big = b'{"question": "' + b"a" * (MAX_REQUEST_BYTES + 10) + b'"}'
    with _client(build_server(pipeline.settings, pipeline)) as client:
        r = client.post("/api/ask", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "too large" in r.json()["error"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"question": "'
            for _ in range(20):
                yield b"a" * 100_000
            yield b'"}'

        r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = client.post("/gradio_api/queue/join", content=big)
        assert r.status_code == 413
        assert client.post("/api/ask", json={"question": "포괄보조는?"}).status_code == 200


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"question": "q", "filters": {"page": NaN}}', "finite"),
        (b'{"question": "q", "filters": {"page": Infinity}}', "finite"),
        (b'{"question": "q", "filters": {"page": [1, "a"]}}', "one kind"),
        (b'{"question": "q", "filters": {"region": "atlantis"}}', "unknown region"),
        (b'{"question": "q", "filters": {"region": ["jeju", "mars"]}}', "unknown region"),
        (
            b'{"question": "q", "filters": {'
            + b", ".join(b'"k%d": "v"' % i for i in range(1000))
            + b"}}",
            "too many filters",
        ),
    ],
    ids=["nan", "infinity", "mixed-list", "unknown-region", "unknown-in-list", "1000-keys"],
)
def test_odd_filters_are_client_errors(pipeline: Pipeline, raw: bytes, message: str) -> None:
    """Probe 9: these were 500s, and an unknown region was silently ignored."""
    with _client(build_server(pipeline.settings, pipeline)) as client:
        r = client.post("/api/ask", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text
        assert message in r.json()["error"]
        ok = client.post("/api/ask", json={"question": "q", "filters": {"region": "jeju"}})
        assert ok.status_code == 200


def test_cli_rejects_an_unknown_region() -> None:
    from policyqa.domain import load_domain
    from policyqa.retrieval.filters import parse_filters

    areas = load_domain("korea").areas
    assert parse_filters(["region=jeju|nationwide"], areas) == {"region": ["jeju", "nationwide"]}
    with pytest.raises(ValueError, match="unknown region"):
        parse_filters(["region=atlantis"], areas)


@pytest.mark.parametrize("path", ["/files/x%00", "/files/budget-ko.md%00.pdf", "/files/%00"])
def test_files_with_a_nul_byte_is_not_found(pipeline: Pipeline, path: str) -> None:
    with _client(build_server(pipeline.settings, pipeline)) as client:
        assert client.get(path).status_code == 404


# -- 8: a damaged index ------------------------------------------------------------------------


def _sqlite(settings: Any) -> Path:
    return settings.home / "chroma" / "chroma.sqlite3"


def _damage(settings: Any, how: str) -> None:
    sqlite = _sqlite(settings)
    if how == "malformed":
        data = bytearray(sqlite.read_bytes())
        data[100:4096] = b"\xff" * (4096 - 100)
        sqlite.write_bytes(bytes(data))
    elif how == "zero-byte":
        sqlite.write_bytes(b"")
    elif how == "no-hnsw-folder":
        import shutil

        for folder in sqlite.parent.iterdir():
            if folder.is_dir():
                shutil.rmtree(folder)


@pytest.mark.parametrize("how", ["malformed", "zero-byte", "no-hnsw-folder"])
def test_a_damaged_index_is_named_and_reset_works(
    pipeline: Pipeline, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Probe 8: the app exited with a traceback, `reset --yes` failed the same way, a
    zero-byte database was an empty index, a deleted HNSW folder changed every ranking."""
    from policyqa.app import cli
    from policyqa.index.store import IndexDamagedError

    settings = pipeline.settings
    del pipeline  # its Chroma client holds the files
    _damage(settings, how)
    fresh = Pipeline(settings, embedder_overrides=make_fakes())
    with pytest.raises(IndexDamagedError, match=r"damaged .*policyqa reset --yes"):
        build_server(settings, fresh)
    args = ["--home", str(settings.home), "--corpus", str(settings.corpus)]
    assert cli.main([*args, "stats"]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "policyqa reset --yes" in err and "Traceback" not in err
    assert cli.main([*args, "reset", "--yes"]) == 0
    assert not _sqlite(settings).exists()


def test_health_runs_a_real_search(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe 8: a truncated HNSW file left /api/health "ok" while every question failed."""
    with _client(build_server(pipeline.settings, pipeline)) as client:
        assert client.get("/api/health").json()["status"] == "ok"

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("Cannot read HNSW index")

        monkeypatch.setattr(pipeline.store, "query", broken)
        pipeline.searcher.forget_questions()
        r = client.get("/api/health")
        assert r.status_code == 503 and r.json()["status"] == "error"
        assert "HNSW" not in r.text


def test_reset_waits_for_no_ingest(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    """Probe 9: reset took no lock and could delete the index under a running ingest."""
    from policyqa.app import cli
    from policyqa.ingest.indexer import ingest_lock

    settings = pipeline.settings
    args = ["--home", str(settings.home), "--corpus", str(settings.corpus)]
    with ingest_lock(settings.home):
        assert cli.main([*args, "reset", "--yes"]) == 2
    assert "another ingest is running" in capsys.readouterr().err
    assert _sqlite(settings).exists() and pipeline.store.manifest()


# -- 9: links, normalisation -------------------------------------------------------------------


def test_a_link_out_of_the_corpus_is_refused(pipeline: Pipeline, tmp_path: Path) -> None:
    secret = tmp_path / "passwd.txt"
    secret.write_text("root:x:0:0:SECRET-ROOT:/root:/bin/bash\n", encoding="utf-8")
    link = pipeline.settings.corpus / "passwd.txt"
    link.symlink_to(secret)
    inside = pipeline.settings.corpus / "alias.md"
    inside.symlink_to(pipeline.settings.corpus / "budget-en.md")  # a link that stays inside
    report = pipeline.ingest()
    assert [(Path(r.path).name, r.reason) for r in report.rejected] == [
        ("passwd.txt", "a link to a file outside the folder")
    ]
    assert "passwd.txt" not in pipeline.store.manifest() and "alias.md" in pipeline.store.manifest()
    assert all("SECRET-ROOT" not in p.chunk.text for p in pipeline.search("root bash", 10))


@pytest.mark.parametrize(
    "question",
    [
        "포괄\u200b보조는 2026년에 얼마로 늘어나나요?",
        "포괄보조는 ２０２６년에 얼마로 늘어나나요?",
        "How much do ｂｌｏｃｋ ｇｒａｎｔｓ grow by 2026?",
        "How much do block\u200b grants grow by 2026?",
    ],
    ids=["zero-width-in-word", "full-width-digits", "full-width-latin", "zero-width-after"],
)
def test_invisible_and_full_width_characters_do_not_cause_refusals(
    pipeline: Pipeline, question: str
) -> None:
    answer = pipeline.ask(question)
    assert answer.answered, answer.text
    assert "10.6" in answer.text


# -- 4: PDF decompression bombs ----------------------------------------------------------------


def _bomb(path: Path, pages: int, stream_mb: float) -> Path:
    """A PDF whose pages each hold one Flate content stream of `stream_mb` MB of spaces: tiny on
    disk, large when read."""
    import zlib

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    body = b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n" + b" " * int(stream_mb * 1_000_000)
    packed = zlib.compress(body, 9)
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        stream = DecodedStreamObject()
        stream._data = packed
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        page[NameObject("/Contents")] = writer._add_object(stream)
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        fonts = DictionaryObject({NameObject("/F1"): font})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def test_a_pdf_decompression_bomb_is_refused_in_a_worker(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe 4: many pages each just under pypdf's stream cap ran for minutes and gigabytes in
    the app's process. The worker stops at the total decompressed bytes; the app's memory is
    not the worker's."""
    import pypdf.filters

    settings = pipeline.settings.replace(pdf_decompressed_mb=50)
    bomb = _bomb(settings.corpus / "bomb.pdf", pages=12, stream_mb=8)
    assert bomb.stat().st_size < 1_000_000
    # Counted, not read off the peak RSS: reading in this process raised the peak by ~115 MB,
    # under the 200 MB bound checked before, and a peak set earlier in the run hides it all.
    inflated = [0]
    original = pypdf.filters.decompress

    def counted(data: bytes) -> bytes:
        out = original(data)
        inflated[0] += len(out)
        return out

    monkeypatch.setattr(pypdf.filters, "decompress", counted)
    report = Pipeline(settings, embedder_overrides=make_fakes()).ingest()
    assert [(Path(r.path).name, "more than 50 MB" in r.reason) for r in report.rejected] == [
        ("bomb.pdf", True)
    ], report.rejected
    assert inflated[0] == 0  # the bomb was decompressed in the worker, not in this process


def test_a_pdf_worker_over_its_memory_or_time_is_stopped(pipeline: Pipeline) -> None:
    from policyqa.ingest.load import LoadError
    from policyqa.ingest.pdfworker import PdfLimits, load_isolated

    bomb = _bomb(pipeline.settings.corpus / "bomb.pdf", pages=4, stream_mb=60)
    with pytest.raises(LoadError, match=r"memory|stopped"):
        load_isolated(bomb, "bomb.pdf", limits=PdfLimits(memory_mb=300, decompressed_mb=10_000))
    with pytest.raises(LoadError, match="longer than"):
        load_isolated(bomb, "bomb.pdf", limits=PdfLimits(decompressed_mb=10_000, seconds=0.01))
