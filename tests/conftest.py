"""Shared fixtures: PDFs made with reportlab + NanumGothic, pipelines with fake embedders."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from policyqa.pipeline import Pipeline
from policyqa.settings import Settings

NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


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


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        corpus=tmp_path / "corpus",
        embedder="use-multilingual,sentence-transformers:all-MiniLM-L6-v2@en",
        chunk_words=40,
        chunk_overlap=5,
    )


class CountingFake(DeterministicFakeEmbedding):
    """Deterministic hash embeddings that count how many texts they embedded."""

    calls: int = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return super().embed_documents(texts)


@pytest.fixture
def fakes() -> dict[str, CountingFake]:
    return {
        "use-multilingual": CountingFake(size=16),
        "sentence-transformers:all-MiniLM-L6-v2": CountingFake(size=8),
    }


@pytest.fixture
def fake_pipeline(fake_settings: Settings, fakes: dict[str, CountingFake]) -> Pipeline:
    fake_settings.corpus.mkdir(parents=True, exist_ok=True)
    return Pipeline(fake_settings, embedder_overrides=dict(fakes))
