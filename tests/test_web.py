"""The served app (`build_server`): the API's input limits and errors, hostile documents through
the API, and the Gradio apps' guards (admin off by default, login, upload limits)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policyqa.answering.answer import MAX_QUESTION_CHARS
from policyqa.app.chat import ChatApp
from policyqa.app.render import render_answer, render_sources
from policyqa.app.ui import build_app
from policyqa.app.web import build_server
from policyqa.core.settings import Settings
from policyqa.pipeline import Pipeline

from .conftest import (
    ODD_QUESTIONS,
    QUESTIONS,
    _assert_inert,
    _no_traceback,
)


@pytest.fixture(scope="module", autouse=True)
def _temp_in_tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ChatApp (built by build_app/build_server) keeps briefings in a mkdtemp() folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("temp")))
        yield


@pytest.fixture(scope="module")
def client(served: Pipeline) -> Iterator[TestClient]:
    app = build_server(pipeline=served)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _post(client: TestClient, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    _no_traceback(r.text)
    assert r.status_code in (200, 400), (r.status_code, r.text)
    return r


@pytest.mark.parametrize("question", ODD_QUESTIONS.values(), ids=ODD_QUESTIONS.keys())
def test_api_answers_odd_questions(client: TestClient, question: str) -> None:
    r = _post(client, {"question": question})
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["answered"], bool) and isinstance(body["answer"], str)


def test_api_question_limit_boundary(client: TestClient) -> None:
    assert _post(client, {"question": "가" * MAX_QUESTION_CHARS}).status_code == 200
    r = _post(client, {"question": "가" * (MAX_QUESTION_CHARS + 1)})
    assert r.status_code == 400 and "너무 깁니다" in r.json()["error"]
    r = _post(client, {"question": "\u00a0\u3000"})
    assert r.status_code == 400 and "empty" in r.json()["error"]


# JSON may carry a lone surrogate ("\ud800"): in a question or a history turn it must not
# reach the UTF-8 encoders (embedders, tokenizer, the JSON response) as a 500.
@pytest.mark.parametrize(
    "raw",
    [
        b'{"question": "\\ud800 \xed\x8f\xac\xea\xb4\x84\xeb\xb3\xb4\xec\xa1\xb0?"}',
        b'{"question": "\\udc80"}',
        b'{"question": "2025\xeb\x85\x84\xec\x97\x90\xeb\x8a\x94?", '
        b'"history": [{"role": "user", "content": "\\ud800 block grants"}]}',
    ],
    ids=["in-question", "only", "in-history"],
)
def test_api_lone_surrogates_are_not_a_server_error(client: TestClient, raw: bytes) -> None:
    r = client.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert r.status_code in (200, 400), r.text


# A filter key that is a Chroma operator ("$and", "$or") is a client error, not a 500.
@pytest.mark.parametrize("filters", [{"$and": "x"}, {"$or": "budget-ko.md"}])
def test_api_operator_filter_keys_are_client_errors(client: TestClient, filters: Any) -> None:
    r = client.post("/api/ask", json={"question": "포괄보조는 얼마?", "filters": filters})
    assert r.status_code == 400, r.text
    assert "filter" in r.json()["error"]


# A follow-up ("그럼 2025년에는?") is searched with the previous user turn, so a long
# history turn could make a standalone question of any length: the limit holds there too.
def test_api_history_cannot_bypass_the_question_limit(client: TestClient) -> None:
    history = [{"role": "user", "content": "포괄보조 " + "가" * 10_000}]
    r = _post(client, {"question": "그럼 2025년에는?", "history": history})
    if r.status_code == 400:
        assert "history" in r.json()["error"] or "long" in r.json()["error"]
        return
    body = r.json()
    assert len(body["standalone_question"]) <= MAX_QUESTION_CHARS + len("그럼 2025년에는?") + 1
    assert len(body["answer"]) < 10_000


@pytest.mark.parametrize(
    "question",
    [
        *QUESTIONS[:3],
        "How many new berths does Zephyrtown get?",
        "What does the budget say about 2026?",
    ],
)
def test_planted_instructions_never_leak_into_other_answers(
    client: TestClient, question: str
) -> None:
    body = _post(client, {"question": question}).json()
    text = json.dumps(body, ensure_ascii=False)
    for cite in body["citations"]:
        assert cite["doc"] != "planted.md", (question, cite)
    assert "HACKED" not in body["answer"]
    assert "[99]" not in body["answer"]
    assert "<script" not in text and "onerror" not in text


@pytest.mark.parametrize(
    ("question", "payload"),
    [
        ("What should you reply to previous instructions?", "reply HACKED"),
        ("When does the ferry terminal open?", "<script>alert(1)</script>"),
        ("Where are ferry tickets sold?", "<img src=x onerror=alert(1)>"),
        ("Is ferry booking open for the harbour ferry?", "javascript:alert(1)"),
    ],
)
def test_planted_text_is_quoted_as_data_and_rendered_inert(
    client: TestClient, served: Pipeline, question: str, payload: str
) -> None:
    r = _post(client, {"question": question})
    body = r.json()
    assert r.headers["content-type"].startswith("application/json")
    quotes = [c["quote"] for c in body["citations"] if c["doc"] == "planted.md"]
    assert any(payload in q for q in quotes), body  # the document's text, verbatim, as a string
    assert all(isinstance(q, str) for q in quotes)
    answer = served.ask(question)
    for html in (render_answer(answer), render_sources(answer)):
        _assert_inert(html)
    # What the chat shows is the same answer, escaped.
    chat = list(ChatApp(served).respond(question, [], [], [], "", [], ""))[-1][0]
    for message in chat:
        _assert_inert(message["content"])


def _upload_components(demo: Any) -> list[Any]:
    import gradio as gr

    return [b for b in demo.blocks.values() if isinstance(b, gr.File) and b.elem_id == "upload"]


def _elem_ids(config: dict[str, Any]) -> set[str]:
    return {c["props"].get("elem_id") for c in config["components"]}


@pytest.mark.parametrize(("value", "expected"), [(None, 0), ("0", 0), ("false", 0), ("1", 1)])
def test_admin_upload_only_with_policyqa_admin(
    served: Pipeline, value: str | None, expected: int
) -> None:
    env = {} if value is None else {"POLICYQA_ADMIN": value}
    settings = served.settings.replace(admin=Settings.from_env(env).admin)
    with TestClient(build_server(settings, served), raise_server_exceptions=False) as c:
        assert "upload" not in _elem_ids(c.get("/config").json())
        admin = c.get("/admin/config")
        assert (admin.status_code == 200) == bool(expected)
        assert expected == 0 or "upload" in _elem_ids(admin.json())
    demo = build_app(settings, served)
    assert len(_upload_components(demo)) == 0


@pytest.fixture
def gradio_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gradio keeps uploads in GRADIO_TEMP_DIR: inside this test's tmp_path."""
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def _upload(client: TestClient, name: str, data: bytes, prefix: str = "/admin") -> Any:
    return client.post(f"{prefix}/gradio_api/upload", files={"files": (name, data)})


def test_gradio_ui_needs_login_when_auth_is_set(
    served: Pipeline, monkeypatch: pytest.MonkeyPatch, gradio_tmp: Path
) -> None:
    settings = served.settings.replace(auth="user:pw", admins="admin:s3cret", admin=True)
    with TestClient(build_server(settings, served), raise_server_exceptions=False) as c:
        for prefix in ("", "/admin"):
            assert c.get(f"{prefix}/config").status_code == 401
            assert c.get(f"{prefix}/gradio_api/info").status_code == 401
            assert _upload(c, "x.md", b"# x\n", prefix).status_code == 401
        assert c.post("/api/ask", json={"question": "포괄보조"}).status_code == 401
        bad = c.post("/login", data={"username": "admin", "password": "wrong"})
        assert bad.status_code >= 400
        assert c.get("/config").status_code == 401
        ok = c.post("/login", data={"username": "user", "password": "pw"})
        assert ok.status_code == 200
        assert c.get("/config").status_code == 200
        assert c.get("/admin/config").status_code == 401  # a user is no administrator
        assert c.post("/admin/login", data={"username": "user", "password": "pw"}).is_error
        ok = c.post("/admin/login", data={"username": "admin", "password": "s3cret"})
        assert ok.status_code == 200
        assert c.get("/admin/config").status_code == 200
        assert _upload(c, "x.md", b"# x\n").status_code == 200


def test_gradio_upload_size_limit_and_names(
    served: Pipeline, monkeypatch: pytest.MonkeyPatch, gradio_tmp: Path
) -> None:
    settings = served.settings.replace(max_file_mb=1.0, admin=True)
    with TestClient(
        build_server(settings=settings, pipeline=served), raise_server_exceptions=False
    ) as c:
        too_big = _upload(c, "big.md", b"a" * 1_100_000)
        assert too_big.status_code == 413
        _no_traceback(too_big.text)
        for name in ("../../evil.md", "..\\..\\evil.md", "/etc/evil.md", "a\x00b.md"):
            r = _upload(c, name, b"# x\n")
            assert r.status_code == 200, (name, r.text)
            (stored,) = r.json()
            path = Path(stored)
            assert path.resolve().is_relative_to(gradio_tmp.resolve()), stored
            assert ".." not in path.parts and "\x00" not in stored


# Gradio gets the upload limit in bytes: a POLICYQA_MAX_FILE_MB under 1 still accepts
# files up to it.
def test_gradio_upload_limit_below_one_megabyte(
    served: Pipeline, monkeypatch: pytest.MonkeyPatch, gradio_tmp: Path
) -> None:
    settings = served.settings.replace(max_file_mb=0.5, admin=True)
    with TestClient(
        build_server(settings=settings, pipeline=served), raise_server_exceptions=False
    ) as c:
        assert _upload(c, "small.md", b"# small\n\n" + b"a" * 100_000).status_code == 200
        assert _upload(c, "big.md", b"a" * 600_000).status_code == 413


def _failing(message: str) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(message)

    return fail


def test_api_errors_carry_no_stack_trace_or_detail(
    fake_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "boom at /srv/secret/config.toml"
    app = build_server(pipeline=fake_pipeline)
    monkeypatch.setattr(fake_pipeline, "ask", _failing(secret))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/api/ask", json={"question": "포괄보조"})
        assert r.status_code == 500
        assert r.json() == {"error": "internal error (logged)"}
        monkeypatch.setattr(fake_pipeline.store, "manifest", _failing(secret))
        for response in (c.get("/api/health"), c.get("/files/anything.pdf")):
            assert response.status_code in (500, 503)
            _no_traceback(response.text)
            assert "secret" not in response.text and "RuntimeError" not in response.text
