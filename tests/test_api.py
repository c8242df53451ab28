"""The HTTP API (`build_server`): /api/health, /api/ask, /files/<doc>, basic auth.

One server on a fake-embedder pipeline over three small Markdown files (Korean and English) is
shared by the module; the auth tests build their own server on the same pipeline.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from policyqa.app.web import build_server
from policyqa.pipeline import Pipeline

from .conftest import make_fakes, small_settings, write_small_corpus

QUESTION_KO = "포괄보조는 2026년에 얼마로 늘어나나요?"
DOCS = ("transport-ko.md", "budget-ko.md", "budget-en.md")
CITATION_KEYS = {"n", "doc", "title", "page", "page_label", "section", "quote"}


def _no_traceback(response: httpx.Response) -> None:
    response.read()
    assert "Traceback" not in response.text, response.text


def _client(app: Any) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.event_hooks["response"].append(_no_traceback)
    return client


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """Like conftest's `fake_pipeline` (same settings and fakes), built once for the module."""
    root = tmp_path_factory.mktemp("api")
    settings = small_settings(root)
    pipeline = Pipeline(settings, embedder_overrides=make_fakes())
    write_small_corpus(settings.corpus)
    # Decoys next to the corpus: a traversal that worked would serve them.
    (root / "pyproject.toml").write_text("SECRET = 'outside the corpus'\n", encoding="utf-8")
    (root / "secret.md").write_text("SECRET outside the corpus\n", encoding="utf-8")
    report = pipeline.ingest()
    assert not report.rejected
    return pipeline


@pytest.fixture(scope="module")
def app(pipeline: Pipeline) -> Any:
    return build_server(pipeline=pipeline)


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[TestClient]:
    with _client(app) as c:
        yield c


def ask(client: TestClient, **body: Any) -> httpx.Response:
    return client.post("/api/ask", json=body)


def _collapse(text: str) -> str:
    return " ".join(text.split())


# -- health ----------------------------------------------------------------------------------


def test_health(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["documents"] == 3
    assert body["chunks"] > 0


# -- ask -------------------------------------------------------------------------------------


def test_ask_korean_question(client: TestClient) -> None:
    r = ask(client, question=QUESTION_KO)
    assert r.status_code == 200
    body = r.json()
    assert {"answer", "answered", "citations", "language"} <= set(body)
    assert body["answered"] is True
    assert body["language"] == "ko"
    assert "10.6" in body["answer"] and "[1]" in body["answer"]
    assert body["citations"]
    for c in body["citations"]:
        assert set(c) >= CITATION_KEYS
        assert c["doc"] in DOCS
        assert isinstance(c["n"], int) and isinstance(c["page"], int)
        assert c["page"] == 1 and c["page_label"] == "1"
    assert [c["n"] for c in body["citations"]] == list(range(1, len(body["citations"]) + 1))


def test_citation_quotes_are_verbatim_from_the_cited_file(
    client: TestClient, pipeline: Pipeline
) -> None:
    for question in (
        QUESTION_KO,
        "How much do block grants grow by 2026?",
        "광역철도 확대 계획은?",
    ):
        body = ask(client, question=question).json()
        assert body["answered"], body
        for c in body["citations"]:
            text = (pipeline.settings.corpus / c["doc"]).read_text(encoding="utf-8")
            assert c["quote"].strip()
            assert _collapse(c["quote"]) in _collapse(text), (c, text)


def test_follow_up_with_history(client: TestClient) -> None:
    first = ask(client, question=QUESTION_KO).json()
    history = [
        {"role": "user", "content": QUESTION_KO},
        {"role": "assistant", "content": first["answer"]},
    ]
    r = ask(client, question="그럼 광역철도는?", history=history)
    assert r.status_code == 200
    body = r.json()
    # The follow-up is made self-contained with the previous question.
    assert body["question"] == "그럼 광역철도는?"
    assert "포괄보조" in body["standalone_question"]
    assert body["answered"]
    assert "transport-ko.md" in {c["doc"] for c in body["citations"]}


def test_filters_restrict_documents(client: TestClient) -> None:
    r = ask(client, question=QUESTION_KO, filters={"doc_id": "budget-en.md"})
    assert r.status_code == 200
    body = r.json()
    assert body["answered"] and body["citations"]
    assert {c["doc"] for c in body["citations"]} == {"budget-en.md"}


def test_briefing_flag_adds_markdown(client: TestClient) -> None:
    body = ask(client, question=QUESTION_KO, briefing=True).json()
    assert body["briefing"].startswith("# ")


def test_unanswerable_question_is_a_refusal_not_an_error(client: TestClient) -> None:
    r = ask(client, question="국민연금 보험료율은 몇 퍼센트인가요?")
    assert r.status_code == 200
    body = r.json()
    assert body["answered"] is False and body["citations"] == []
    assert body["refusal"]


def test_control_characters_and_mixed_scripts(client: TestClient) -> None:
    question = "포괄\x00보조\x07는\u200b block\tgrants\r\n얼마? Ωμέγα Привет 漢字 🙂 \x1b[31m"
    r = ask(client, question=question)
    assert r.status_code == 200
    body = r.json()
    assert "\x00" not in body["question"] and "\x07" not in body["question"]
    assert isinstance(body["answered"], bool)


# -- bad requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": ""}, "empty"),
        ({"question": "   \n\t  "}, "empty"),
        ({"question": "\x00\x01\x02"}, "empty"),
        ({"question": "가" * 100_000}, "너무 깁니다"),
        ({}, "question"),
        ({"history": []}, "question"),
        ({"question": 5}, "question"),
        ({"question": None}, "question"),
        (["포괄보조"], "question"),
        ("포괄보조", "question"),
        ({"question": QUESTION_KO, "history": "not a list"}, "history"),
        ({"question": QUESTION_KO, "history": {"role": "user"}}, "history"),
        ({"question": QUESTION_KO, "filters": ["doc_id"]}, "filters"),
    ],
    ids=[
        "empty",
        "whitespace",
        "control-only",
        "100kB",
        "missing",
        "missing-with-history",
        "number",
        "null",
        "array-body",
        "string-body",
        "history-string",
        "history-object",
        "filters-list",
    ],
)
def test_bad_requests_are_400_with_a_message(client: TestClient, body: Any, message: str) -> None:
    r = client.post("/api/ask", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert isinstance(error, str) and message in error


@pytest.mark.parametrize(
    "content",
    [b"not json", b'{"question": ', b"\xff\xfe\x00", b""],
    ids=["text", "truncated", "binary", "empty"],
)
def test_body_that_is_not_json(client: TestClient, content: bytes) -> None:
    r = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "JSON" in r.json()["error"]


@pytest.mark.parametrize(
    "history",
    [["hello"], [{"role": "user", "content": 5}], [None]],
    ids=["string-turn", "number-content", "null-turn"],
)
def test_malformed_history_items_are_client_errors(client: TestClient, history: Any) -> None:
    r = ask(client, question="그럼 광역철도는?", history=history)
    assert r.status_code == 400, r.text
    assert "history" in r.json()["error"]


@pytest.mark.parametrize(
    "filters",
    [{"doc_id": {"$ne": "budget-ko.md"}}, {"doc_id": []}, {"page": None}],
    ids=["operator", "empty-list", "null"],
)
def test_malformed_filter_values_are_client_errors(client: TestClient, filters: Any) -> None:
    r = ask(client, question=QUESTION_KO, filters=filters)
    assert r.status_code == 400, r.text
    assert "filter" in r.json()["error"]


# -- corpus files ----------------------------------------------------------------------------


def test_files_serves_a_corpus_document(client: TestClient, pipeline: Pipeline) -> None:
    r = client.get("/files/budget-ko.md")
    assert r.status_code == 200
    assert r.text == (pipeline.settings.corpus / "budget-ko.md").read_text(encoding="utf-8")
    assert r.headers["content-type"].startswith("text/plain")
    assert "attachment" not in r.headers.get("content-disposition", "")


def test_files_links_from_citations_resolve(client: TestClient) -> None:
    body = ask(client, question=QUESTION_KO).json()
    for c in body["citations"]:
        assert client.get(f"/files/{c['doc']}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/files/../pyproject.toml",
        "/files/%2e%2e/pyproject.toml",
        "/files/..%2fpyproject.toml",
        "/files/%2e%2e%2fsecret.md",
        "/files/nonexistent.pdf",
        "/files/budget-ko.md/../../secret.md",
        "/files//etc/passwd",
    ],
)
def test_files_never_serves_outside_the_corpus(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert "SECRET" not in r.text


def _raw_get(app: Any, path: str) -> tuple[int, bytes]:
    """GET with the path exactly as given (httpx would resolve '..' before sending)."""
    messages: list[dict[str, Any]] = []
    received: list[bool] = []

    async def receive() -> dict[str, Any]:
        if not received:
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect until the response is sent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body


@pytest.mark.parametrize(
    "path", ["/files/../pyproject.toml", "/files/../secret.md", "/files/./../secret.md"]
)
def test_files_traversal_with_raw_dot_segments(app: Any, path: str) -> None:
    assert _raw_get(app, "/files/budget-ko.md")[0] == 200
    status, body = _raw_get(app, path)
    assert status == 404
    assert b"SECRET" not in body


# -- basic auth ------------------------------------------------------------------------------


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def auth_client(pipeline: Pipeline) -> Iterator[TestClient]:
    server = build_server(pipeline.settings.replace(auth="user:secret"), pipeline)
    with _client(server) as c:
        yield c


def test_auth_required_for_ask(auth_client: TestClient) -> None:
    r = auth_client.post("/api/ask", json={"question": QUESTION_KO})
    assert r.status_code == 401
    assert r.headers.get("www-authenticate", "").lower().startswith("basic")
    assert "answer" not in r.json()
    for headers in (
        _basic("user", "wrong"),
        _basic("other", "secret"),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer secret"},
    ):
        r = auth_client.post("/api/ask", json={"question": QUESTION_KO}, headers=headers)
        assert r.status_code == 401, headers


def test_auth_accepts_basic_credentials(auth_client: TestClient) -> None:
    r = auth_client.post(
        "/api/ask", json={"question": QUESTION_KO}, headers=_basic("user", "secret")
    )
    assert r.status_code == 200
    assert r.json()["answered"] is True


def test_auth_protects_files_and_health(auth_client: TestClient) -> None:
    assert auth_client.get("/files/budget-ko.md").status_code == 401
    r = auth_client.get("/files/budget-ko.md", headers=_basic("user", "secret"))
    assert r.status_code == 200
    assert auth_client.get("/api/health").status_code == 401
    health = auth_client.get("/api/health", headers=_basic("user", "secret"))
    assert health.status_code == 200 and health.json()["status"] == "ok"
