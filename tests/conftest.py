"""Shared fixtures: PDFs made with reportlab + NanumGothic, pipelines with fake embedders."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from policyqa.core.settings import Settings
from policyqa.pipeline import Pipeline

NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


@pytest.fixture(autouse=True, scope="session")
def _no_settings_or_proxy_from_the_machine() -> Iterator[None]:
    """Tests set the POLICYQA_* variables they need: one set on the machine (a login, an LLM
    URL) changed their answers. And they talk to servers they start on 127.0.0.1, which urllib
    and httpx send to a proxy set in the environment unless no_proxy names it."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("POLICYQA_")]:
            mp.delenv(name)
        for name in ("no_proxy", "NO_PROXY"):
            mp.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1,localhost"])))
        yield


def make_pdf(
    path: Path,
    pages: list[str],
    title: str | None = None,
    labels_start: int | None = None,
    text: bool = True,
) -> Path:
    """A real PDF, one string per page, Korean glyphs embedded from NanumGothic."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if not NANUM.exists():
        raise RuntimeError("NanumGothic missing: run scripts/install-system-deps.sh (fonts-nanum)")
    if "NanumGothic" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("NanumGothic", str(NANUM)))
    c = canvas.Canvas(str(path), invariant=1)
    if title:
        c.setTitle(title)
    if labels_start is not None:
        c.addPageLabel(0, "ROMAN_LOWER", labels_start)
    for page in pages:
        if text:
            c.setFont("NanumGothic", 11)
            y = 800
            for line in page.splitlines():
                c.drawString(50, y, line)
                y -= 16
        else:
            c.rect(50, 400, 300, 200, fill=1)  # an image-only page: no text layer
        c.showPage()
    c.save()
    return path


def small_settings(root: Path) -> Settings:
    """The settings every fake-embedder test uses, with home and corpus under `root`."""
    return Settings(
        home=root / "home",
        corpus=root / "corpus",
        embedder="use-multilingual,sentence-transformers:all-MiniLM-L6-v2@en",
        chunk_words=40,
        chunk_overlap=5,
    )


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    return small_settings(tmp_path)


class CountingFake(DeterministicFakeEmbedding):
    """Deterministic hash embeddings that count how many texts they embedded."""

    calls: int = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return super().embed_documents(texts)


def make_fakes() -> dict[str, CountingFake]:
    return {
        "use-multilingual": CountingFake(size=16),
        "sentence-transformers:all-MiniLM-L6-v2": CountingFake(size=8),
    }


@pytest.fixture
def fakes() -> dict[str, CountingFake]:
    return make_fakes()


@pytest.fixture
def fake_pipeline(fake_settings: Settings, fakes: dict[str, CountingFake]) -> Pipeline:
    fake_settings.corpus.mkdir(parents=True, exist_ok=True)
    return Pipeline(fake_settings, embedder_overrides=dict(fakes))


def write_small_corpus(root: Path) -> None:
    """Three short Markdown files: Korean transport, Korean and English budget."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "transport-ko.md").write_text(
        "# 교통\n\n광역 60분 생활권을 위해 광역철도와 BRT를 전국으로 확대한다.\n", encoding="utf-8"
    )
    (root / "budget-ko.md").write_text(
        "# 예산\n\n포괄보조는 2025년 3.8조원에서 2026년 10.6조원으로 늘어난다.\n", encoding="utf-8"
    )
    (root / "budget-en.md").write_text(
        "# Budget\n\nBlock grants grow from KRW 3.8 trillion in 2025 "
        "to KRW 10.6 trillion in 2026.\n",
        encoding="utf-8",
    )


# -- browser tests (test_browser.py, test_browser_hostile.py) --------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (`playwright install` cannot download here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield launched
        launched.close()


def ask_in_page(page: Any, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
