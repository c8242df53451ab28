"""The citation viewer's pure parts: where a quote is on a PDF page (text layer), the page as
an image, the disk cache and its bound, a passage in its context, short section names."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa.app.viewer import PageImages, find_span, passage_in_context, quote_boxes, render_png
from policyqa.core.labels import is_paged, short_section

from .conftest import make_pdf

LINES = [
    "Regional sheet: Gangwon",
    "",
    "Gangwon became a special self-governing province on 11 June 2023.",
    "Block grants grow from KRW 3.8 trillion in 2025 to KRW 10.6 trillion",
    "in 2026, and transport links are planned.",
    "강원특별자치도는 2023년 6월 11일 출범했다.",
]


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("viewer")
    return make_pdf(folder / "sheet.pdf", ["Cover page", "\n".join(LINES)])


def test_a_quote_is_boxed_where_its_lines_are(pdf: Path) -> None:
    # make_pdf draws line i at y = 800 - 16 i on an A4 page (842 pt high), from x = 50.
    boxes = quote_boxes(pdf, 2, "Gangwon became a special self-governing province on 11 June 2023.")
    assert len(boxes) == 1
    (box,) = boxes
    assert box.left == pytest.approx(50 / 595.27, abs=0.01)
    top_of_line = (842 - 800 - 11) / 842  # baseline 800, font size 11
    assert box.top == pytest.approx(top_of_line + 2 * 16 / 842, abs=0.01)
    assert 0.3 < box.width < 0.9 and 0 < box.height < 0.03


def test_a_quote_over_two_lines_gets_a_box_per_line(pdf: Path) -> None:
    quote = "Block grants grow from KRW 3.8 trillion in 2025 to KRW 10.6 trillion in 2026,"
    boxes = quote_boxes(pdf, 2, quote)
    assert len(boxes) == 2 and boxes[0].top < boxes[1].top


def test_korean_quotes_and_missing_quotes(pdf: Path) -> None:
    assert len(quote_boxes(pdf, 2, "강원특별자치도는 2023년 6월 11일 출범했다.")) == 1
    assert quote_boxes(pdf, 2, "Nothing like this is on the page at all.") == []
    assert quote_boxes(pdf, 1, LINES[2]) == []
    assert quote_boxes(pdf, 9, LINES[2]) == []


def test_find_span_ignores_spacing_and_width() -> None:
    text = "Intro.\nBlock  grants grow\nfrom KRW 3.8 trillion. After."
    start, end = find_span(text, "Block grants grow from KRW 3.8 trillion.") or (0, 0)
    assert text[start:end] == "Block  grants grow\nfrom KRW 3.8 trillion."
    assert find_span("ＫＲＷ　３．８", "KRW 3.8") == (0, 7)
    # A character or two that differ: placed by its longest matching start and end.
    near = find_span(text, "Block grants grow frum KRW 3.8 trillion.")
    assert near is not None and text[near[0] : near[1]].startswith("Block")
    assert find_span(text, "entirely different words here") is None


def test_pages_render_and_are_cached_within_the_bound(pdf: Path, tmp_path: Path) -> None:
    png = render_png(pdf, 2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    cache = PageImages(tmp_path / "pages", max_mb=len(png) * 1.5 / 1_000_000)
    assert cache.png(pdf, "hash-a", 2) == png
    assert len(list((tmp_path / "pages").glob("*.png"))) == 1
    cache.png(pdf, "hash-b", 2)  # the file changed: over the bound, the older image goes
    assert len(list((tmp_path / "pages").glob("*.png"))) == 1
    assert sum(p.stat().st_size for p in (tmp_path / "pages").glob("*.png")) <= cache.max_bytes
    off = PageImages(tmp_path / "none", max_mb=0)
    assert off.png(pdf, "hash-a", 2) == png and not (tmp_path / "none").exists()
    with pytest.raises(ValueError):
        render_png(pdf, 3)


def test_a_passage_in_its_context() -> None:
    text = "# Title\n\nFirst paragraph.\n\nThe quote is here. And more after it.\n\nNext."
    before, quoted, after = passage_in_context(text, "The quote is here.") or ("", "", "")
    assert quoted == "The quote is here." and after == " And more after it.…"
    assert before == "…"  # the context starts at the paragraph; more text is marked
    assert passage_in_context(text, "absent words entirely") is None


def test_short_section_names() -> None:
    assert short_section("1. Intro > 2. Goals") == "2. Goals"
    long = "○ 포괄보조 규모를 3.8조원(2025년)에서 10.6조원(2026년)으로 확대하고 지방 재정을 늘린다"
    assert len(short_section(long)) <= 49 and short_section(long).endswith("…")
    assert short_section("") == ""
    assert is_paged("a/b.PDF") and not is_paged("notes.md")
