"""Every setting, declared once: name, default, help, environment variable and CLI flag.

`Settings.from_env()` reads `POLICYQA_*` variables; the CLI adds one flag per setting
(`--chunk-words`, ...) that overrides the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from policyqa.core.tuning import tuning_table

DEFAULT_EMBEDDER = "use-multilingual,sentence-transformers:all-MiniLM-L6-v2@en"


def _setting(default: Any, help: str, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class Settings:
    home: Path = _setting(
        Path(".policyqa"), "Data directory: local Chroma database, lexical cache, lock files."
    )
    corpus: Path = _setting(Path("corpus"), "Default folder that `ingest` reads.")
    chroma_url: str = _setting(
        "", "Chroma server URL (e.g. http://127.0.0.1:8000). Empty: embedded Chroma under home."
    )
    collection: str = _setting("policyqa", "Prefix of the Chroma collection names.")
    domain: str = _setting(
        "korea",
        "Domain pack: places, glossary and examples of the documents' subject ('korea', a "
        "folder holding pack.json, or 'none' for the engine alone).",
    )
    embedder: str = _setting(
        DEFAULT_EMBEDDER,
        "Dense embedders, comma-separated. 'use-multilingual' or 'sentence-transformers:<path or "
        "name>'; '@en' / '@ko' limits one to chunks and questions of that language. The first "
        "must cover all languages.",
    )
    chunk_words: int = _setting(120, "Target chunk size in words (USE works best near 128).")
    chunk_overlap: int = _setting(20, "Words carried over between neighbouring chunks.")
    batch_size: int = _setting(64, "Chunks per embedding batch.")
    max_file_mb: float = _setting(100.0, "Files larger than this (MB) are rejected.")
    exclude: str = _setting("README*,.*,_*", "Comma-separated file-name globs that ingest skips.")
    top_k: int = _setting(5, "Passages returned by retrieval.")
    candidates: int = _setting(
        50,
        "Candidates each retriever contributes before fusion (dense: also this many of the "
        "other language).",
    )
    answer_passages: int = _setting(6, "Passages an answer is composed from.")
    max_sentences: int = _setting(3, "Sentences in an answer (a briefing uses twice as many).")
    min_support: float = _setting(
        0.45,
        "Share (IDF-weighted) of the question's terms the top passages must contain; below it "
        "the assistant says the documents do not answer. Calibrated on eval/questions.jsonl.",
    )
    llm_url: str = _setting(
        "", "OpenAI-compatible endpoint for an LLM answerer (vLLM, llama.cpp server, Ollama)."
    )
    llm_model: str = _setting("", "Model name to request from the LLM endpoint.")
    llm_api_key: str = _setting("", "API key for the LLM endpoint, if it needs one.", secret=True)
    llm_gguf: str = _setting(
        "", "Local GGUF model file run in-process (llama.cpp); 'smollm2' = the packaged SmolLM2."
    )
    llm_max_tokens: int = _setting(512, "Most tokens an LLM may generate per answer.")
    auth: str = _setting(
        "",
        "App login: user:password[,user2:password2], or a file with one user:password per line. "
        "Empty: no login; anyone who can reach the app may ask (it serves 127.0.0.1 unless "
        "GRADIO_SERVER_NAME says otherwise).",
        secret=True,
    )
    admin: bool = _setting(
        False, "App: enable the document administration page (/admin: upload, remove)."
    )
    admins: str = _setting(
        "",
        "App administrators, as for POLICYQA_AUTH: only they may log in to /admin. Required "
        "when POLICYQA_ADMIN is on and the app has a login.",
        secret=True,
    )
    pdf_memory_mb: int = _setting(
        2048,
        "Memory (MB) the worker process that reads one PDF may use; past it the file is refused.",
    )
    pdf_decompressed_mb: int = _setting(
        1000,
        "Bytes (MB) one PDF's streams may decompress to in total; past it the file is refused.",
    )
    pdf_seconds: float = _setting(
        300.0, "Seconds the worker process may take to read one PDF; past it the file is refused."
    )
    page_cache_mb: float = _setting(
        200.0,
        "App: disk space (MB) for page images of the citation viewer, cached under home/pages; "
        "the oldest go first past it (0: render every time, keep none).",
    )
    login_attempts: int = _setting(
        10, "App: failed logins one client may make in a minute; further logins wait (429)."
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(env_name(f.name))
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, f.default, raw)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(name, getattr(cls, name, None), value)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class EnvironmentVariable:
    """A variable read where no `Settings` reaches (a per-page time limit in the loader's worker
    thread, the prompt folder of a module-level loader) or that a library owns (Gradio's host
    and port). Declared here with the settings; not a CLI flag."""

    name: str
    default: str
    help: str

    def raw(self, env: Mapping[str, str] | None = None) -> str:
        """The value set in the environment; "" when unset."""
        return (os.environ if env is None else env).get(self.name, "")

    def value(self, env: Mapping[str, str] | None = None) -> str:
        """The value set, or the default when unset or empty."""
        return self.raw(env) or self.default


PAGE_TIMEOUT = EnvironmentVariable(
    "POLICYQA_PAGE_TIMEOUT",
    "30",
    "Seconds pypdf may take to read one page; a slower page is skipped with a warning.",
)
PROMPTS_DIR_VARIABLE = EnvironmentVariable(
    "POLICYQA_PROMPTS_DIR", "", "Folder of the prompt files. Empty: the packaged prompts/."
)
SERVER_NAME = EnvironmentVariable(
    "GRADIO_SERVER_NAME", "127.0.0.1", "App: the address `app.py` serves (Gradio's variable)."
)
SERVER_PORT = EnvironmentVariable(
    "GRADIO_SERVER_PORT", "7860", "App: the port `app.py` serves (Gradio's variable)."
)
ENVIRONMENT_VARIABLES = (PAGE_TIMEOUT, PROMPTS_DIR_VARIABLE, SERVER_NAME, SERVER_PORT)


def env_name(name: str) -> str:
    return "POLICYQA_" + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _coerce(name: str, default: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if isinstance(default, bool):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, Path):
            return Path(value)
    except ValueError as exc:
        raise SettingsError(
            f"{env_name(name)}: cannot read {value!r} as {type(default).__name__}"
        ) from exc
    return value


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


def setting_rows() -> list[tuple[str, str, str, str]]:
    """(env var, CLI flag, default, help) for every setting: the tables of settings in the
    README and in docs/configuration.md."""
    return [
        (env_name(f.name), flag_name(f.name), str(f.default), f.metadata["help"])
        for f in fields(Settings)
    ]


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (each also read from its POLICYQA_* variable)")
    for f in fields(Settings):
        group.add_argument(
            flag_name(f.name),
            dest=f"setting_{f.name}",
            default=None,
            metavar=f.name.upper(),
            help=f"{f.metadata['help']} [{env_name(f.name)}, default {f.default}]",
        )


def settings_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    overrides = {f.name: getattr(args, f"setting_{f.name}", None) for f in fields(Settings)}
    return Settings.from_env(env, **overrides)


def _shown(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def effective_configuration(
    settings: Settings,
    args: argparse.Namespace | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Every setting with its value and where the value came from ("flag", "environment" or
    "default"; secrets show only whether they are set), the environment variables declared
    above, and the tuning constants: what a run used, for `policyqa stats --json`."""
    env = os.environ if env is None else env
    rows: list[dict[str, Any]] = []
    for f in fields(Settings):
        if args is not None and getattr(args, f"setting_{f.name}", None) is not None:
            source = "flag"
        elif env.get(env_name(f.name)):
            source = "environment"
        else:
            source = "default"
        value = getattr(settings, f.name)
        if f.metadata["secret"]:
            value = "(set)" if value else ""
        rows.append(
            {
                "name": f.name,
                "env": env_name(f.name),
                "value": _shown(value),
                "default": _shown(f.default),
                "source": source,
            }
        )
    variables = [
        {
            "name": v.name,
            "value": v.value(env),
            "default": v.default,
            "source": "environment" if v.raw(env) else "default",
        }
        for v in ENVIRONMENT_VARIABLES
    ]
    return {"settings": rows, "environment": variables, "tuning": tuning_table()}
