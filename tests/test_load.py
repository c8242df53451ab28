import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader, PdfWriter

from policyqa.core.language import detect_language
from policyqa.ingest import load as load_module
from policyqa.ingest.load import LoadError, decode_text, load_file

from .conftest import make_pdf


def test_language_detection() -> None:
    assert detect_language("국가균형성장 전략은 5극 3특으로 구성된다.") == "ko"
    assert detect_language("The strategy has five poles and three special provinces.") == "en"
    assert (
        detect_language("5극3특 (5 poles and 3 special provinces) 전략 strategy 설계도 blueprint")
        == "mixed"
    )


def test_markdown_title_and_single_page(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("Intro line\n\n# 균형성장 설계도\n\n본문입니다.\n", encoding="utf-8")
    doc = load_file(path, "note.md")
    assert doc.title == "균형성장 설계도"
    assert [p.page for p in doc.pages] == [1]
    assert doc.language == "ko"
    assert doc.file_hash and doc.page_count == 1


def test_cp949_text_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(
        "지방시대위원회는 2023년에 출범하였다. 국가균형발전 특별법을 개정하였다.".encode("cp949")
    )
    doc = load_file(path, "legacy.txt")
    assert "지방시대위원회" in doc.pages[0].text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("binary.md", b"\x00\x01\x02\x03" * 100, "binary"),
        ("fake.pdf", b"PK\x03\x04 this is a zip", "not a PDF"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EO", "broken or unreadable PDF"),
        ("table.xlsx", b"data", "unsupported file type"),
    ],
)
def test_bad_files_raise_load_error(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError, match=reason):
        load_file(path, name)


def test_undecodable_bytes_rejected() -> None:
    with pytest.raises(LoadError):
        decode_text(bytes(range(128, 256)) * 4 + b"\x00")


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000, encoding="utf-8")
    with pytest.raises(LoadError, match="over the"):
        load_file(path, "big.txt", max_bytes=100)


def test_korean_pdf_pages_labels_and_title(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "ko.pdf",
        ["1. 개요\n5극3특 국가균형성장 전략의 설계도", "2. 추진기반\n포괄보조 확대"],
        title="5극3특 설계도",
        labels_start=3,
    )
    doc = load_file(path, "ko.pdf")
    assert doc.title == "5극3특 설계도"
    assert [p.page for p in doc.pages] == [1, 2]
    assert [p.page_label for p in doc.pages] == ["iii", "iv"]
    assert "국가균형성장" in doc.pages[0].text
    assert doc.language == "ko"


def test_pdf_without_labels_uses_physical_numbers(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "plain.pdf", ["First page text", "Second page text"])
    doc = load_file(path, "plain.pdf")
    assert [p.page_label for p in doc.pages] == ["1", "2"]
    assert doc.title == "First page text"


def _encrypt(src: Path, dst: Path, user_password: str) -> Path:
    writer = PdfWriter()
    for page in PdfReader(str(src)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    with dst.open("wb") as handle:
        writer.write(handle)
    return dst


def test_aes_pdf_with_empty_user_password_loads(tmp_path: Path) -> None:
    src = make_pdf(tmp_path / "src.pdf", ["강원특별자치도 출범 2023년 6월 11일"])
    doc = load_file(_encrypt(src, tmp_path / "aes.pdf", ""), "aes.pdf")
    assert "강원특별자치도" in doc.pages[0].text


def test_password_locked_pdf_is_rejected(tmp_path: Path) -> None:
    src = make_pdf(tmp_path / "src.pdf", ["secret text"])
    with pytest.raises(LoadError, match="password"):
        load_file(_encrypt(src, tmp_path / "locked.pdf", "user-secret"), "locked.pdf")


def test_scanned_pdf_is_rejected(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", ["", ""], text=False)
    with pytest.raises(LoadError, match="no text layer"):
        load_file(path, "scan.pdf")


def test_page_number_footer_is_dropped(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "footer.pdf", ["Body of the page\n- 1 -"])
    doc = load_file(path, "footer.pdf")
    assert doc.pages[0].text == "Body of the page"


@pytest.fixture
def pypdf_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages read by pypdf, as when PDFium cannot read them (see test_pdf_layout.py for a
    page that raises or hangs inside the PDFium layout)."""
    monkeypatch.setattr(load_module, "read_layouts", lambda *args, **kwargs: None)


@pytest.mark.parametrize("error", [RuntimeError("bad content stream"), RecursionError(), KeyError])
def test_page_whose_extraction_raises_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pypdf_text: None, error: BaseException
) -> None:
    path = make_pdf(tmp_path / "p.pdf", ["first page text", "BROKEN page", "third page text"])
    original = PageObject.extract_text

    def failing(self: PageObject, *args: Any, **kwargs: Any) -> str:
        text = original(self, *args, **kwargs)
        if "BROKEN" in text:
            raise error
        return text

    monkeypatch.setattr(PageObject, "extract_text", failing)
    doc = load_file(path, "p.pdf")
    assert [p.text for p in doc.pages] == ["first page text", "", "third page text"]
    assert doc.page_count == 3


def test_pdf_whose_every_page_raises_is_a_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pypdf_text: None
) -> None:
    path = make_pdf(tmp_path / "p.pdf", ["one", "two"])

    def failing(self: PageObject, *args: Any, **kwargs: Any) -> str:
        raise ValueError("cannot decode")

    monkeypatch.setattr(PageObject, "extract_text", failing)
    with pytest.raises(LoadError):
        load_file(path, "p.pdf")


# A page that sends pypdf into a very long loop must not stall an ingest that holds the
# lock: it is cut off after POLICYQA_PAGE_TIMEOUT.
def test_page_whose_extraction_hangs_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pypdf_text: None
) -> None:
    path = make_pdf(tmp_path / "p.pdf", ["first page text", "HANG page", "third page text"])
    original = PageObject.extract_text
    release = threading.Event()

    def hanging(self: PageObject, *args: Any, **kwargs: Any) -> str:
        text = original(self, *args, **kwargs)
        if "HANG" in text:
            release.wait(60)  # stands in for pypdf looping on a hostile content stream
        return text

    monkeypatch.setattr(PageObject, "extract_text", hanging)
    monkeypatch.setattr(load_module, "PAGE_TIMEOUT_SECONDS", 1.0, raising=False)
    monkeypatch.setenv("POLICYQA_PAGE_TIMEOUT", "1")
    watchdog = threading.Timer(4.0, release.set)  # keeps this test bounded either way
    watchdog.start()
    started = time.monotonic()
    try:
        try:
            outcome: Any = [p.text for p in load_file(path, "p.pdf").pages]
        except LoadError as exc:
            outcome = str(exc)
    finally:
        elapsed = time.monotonic() - started
        release.set()
        watchdog.cancel()
    assert elapsed < 3.0, f"load_file waited {elapsed:.1f} s on one page"
    assert outcome == ["first page text", "", "third page text"] or "page" in str(outcome)
