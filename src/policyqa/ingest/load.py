"""Loading: PDF (pypdf, page by page), Markdown and plain text into `Document`s.

Anything that cannot be read raises `LoadError` with a reason a user can act on; the caller
reports it by file name and goes on with the other files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import unicodedata
from pathlib import Path

from policyqa.core.language import detect_language
from policyqa.core.models import Document, Page
from policyqa.core.text import drop_invisible, fold_width

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


class LoadError(Exception):
    """A file that cannot be loaded; the message says why."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path, doc_id: str, max_bytes: int | None = None) -> Document:
    """Read one file into a Document, or raise LoadError."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(none)'}; use PDF, Markdown or text")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise LoadError("empty file (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise LoadError(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
            "(POLICYQA_MAX_FILE_MB)"
        )
    file_hash = file_sha256(path)
    if suffix in PDF_SUFFIXES:
        title, pages, page_count = _read_pdf(path)
    else:
        title, pages, page_count = _read_text(path)
    if not any(p.text.strip() for p in pages):
        if suffix in PDF_SUFFIXES:
            raise LoadError("no text layer on any page (a scanned PDF?); run OCR on it first")
        raise LoadError("no text in file")
    full_text = "\n".join(p.text for p in pages)
    return Document(
        doc_id=doc_id,
        title=title or path.stem,
        language=detect_language(full_text),
        pages=tuple(pages),
        page_count=page_count,
        file_hash=file_hash,
        source_path=str(path.resolve()),
    )


# A page whose extraction takes longer than this (pypdf looping on a hostile content stream) is
# skipped with a warning, so one page cannot stall an ingest that holds the lock.
PAGE_TIMEOUT_SECONDS = 30.0


def page_timeout() -> float:
    raw = os.environ.get("POLICYQA_PAGE_TIMEOUT", "")
    try:
        return float(raw) if raw else PAGE_TIMEOUT_SECONDS
    except ValueError:
        return PAGE_TIMEOUT_SECONDS


def _extract_with_time_limit(page: object, name: str, number: int) -> str:
    """page.extract_text() in a daemon thread: a page that hangs is abandoned (the thread cannot
    be stopped, but as a daemon it never keeps the process alive)."""
    result: list[str] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(page.extract_text() or "")  # type: ignore[attr-defined]
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=work, name=f"pdf-page-{number}", daemon=True)
    worker.start()
    limit = page_timeout()
    worker.join(limit)
    if worker.is_alive():
        log.warning("%s: page %d took longer than %.0f s to read; skipped", name, number, limit)
        return ""
    if failure:
        raise failure[0]
    return result[0] if result else ""


def _read_pdf(path: Path) -> tuple[str, list[Page], int]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        raise LoadError("not a PDF file (no %PDF- header); is it another format renamed .pdf?")
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except DependencyError as exc:
                raise LoadError(f"encrypted PDF needs the 'cryptography' package: {exc}") from exc
            if not unlocked:
                raise LoadError("PDF is protected by a password; remove the password first")
        page_count = len(reader.pages)
        labels = _page_labels(reader, page_count)
        pages: list[Page] = []
        for index in range(page_count):
            try:
                text = _extract_with_time_limit(reader.pages[index], path.name, index + 1)
            except (FileNotDecryptedError, DependencyError) as exc:
                raise LoadError(f"PDF is protected: {exc}") from exc
            except Exception as exc:  # one unreadable page must not lose the document
                log.warning("%s: page %d unreadable (%s); skipped", path.name, index + 1, exc)
                text = ""
            text = _strip_page_furniture(_clean(text), labels[index], index + 1)
            pages.append(Page(page=index + 1, page_label=labels[index], text=text))
        title = _pdf_title(reader) or _first_heading(pages)
    except LoadError:
        raise
    except (PdfReadError, FileNotDecryptedError) as exc:
        raise LoadError(f"broken or unreadable PDF: {exc}") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise LoadError(f"broken or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if page_count == 0:
        raise LoadError("PDF has no pages")
    return title, pages, page_count


def _page_labels(reader: object, page_count: int) -> list[str]:
    """Printed page labels where the PDF defines /PageLabels, else the physical numbers."""
    default = [str(i + 1) for i in range(page_count)]
    try:
        root = reader.trailer["/Root"]  # type: ignore[attr-defined]
        if "/PageLabels" not in root:
            return default
        labels = list(reader.page_labels)  # type: ignore[attr-defined]
    except Exception:
        return default
    return labels if len(labels) == page_count else default


def _pdf_title(reader: object) -> str:
    try:
        meta = reader.metadata  # type: ignore[attr-defined]
        title = (meta.title or "") if meta else ""
    except Exception:
        return ""
    title = str(title).encode("utf-8", "replace").decode("utf-8").strip()
    # Generators often leave a file name or "untitled" here; those are worse than a heading.
    if (
        not title
        or title.lower() in {"untitled", "(anonymous)"}
        or title.lower().endswith((".doc", ".docx", ".hwp", ".pdf", ".tmp"))
    ):
        return ""
    return title


def _first_heading(pages: list[Page]) -> str:
    for page in pages:
        for line in page.text.splitlines():
            stripped = line.strip()
            if stripped:
                match = _MD_HEADING.match(stripped)
                return (match.group(1) if match else stripped)[:120]
    return ""


def _read_text(path: Path) -> tuple[str, list[Page], int]:
    data = path.read_bytes()
    text = decode_text(data)
    lines = text.splitlines()
    title = ""
    for line in lines:
        match = _MD_HEADING.match(line)
        if match:
            title = match.group(1).strip()
            break
    if not title and path.suffix.lower() not in {".md", ".markdown"}:
        title = next((line.strip()[:120] for line in lines if line.strip()), "")
    return title, [Page(page=1, page_label="1", text=_clean(text))], 1


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM); otherwise a detected encoding such as CP949; else LoadError."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary file, not text (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise LoadError("not UTF-8 and no text encoding could be detected; save it as UTF-8")
    text = str(best)
    if _control_share(text) > 0.01:
        raise LoadError(f"text does not decode cleanly (best guess {best.encoding}); save as UTF-8")
    log.info("decoded as %s", best.encoding)
    return text


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(
        1 for ch in text if unicodedata.category(ch) in {"Cc", "Co", "Cs"} and ch not in "\n\r\t\f"
    )
    return bad / len(text)


def _strip_page_furniture(text: str, label: str, number: int) -> str:
    """Drop a first or last line that is only the page number ("- 3 -", "3", "Page 3 of 9")."""
    lines = text.split("\n")
    marks = {label.lower(), str(number)}

    def is_page_number(line: str) -> bool:
        core = re.sub(r"(?i)^(page|p\.)\s*|\s*(/|of)\s*\d+$|[-–—\s]", "", line.strip()).lower()
        return core in marks

    if lines and is_page_number(lines[-1]):
        lines.pop()
    if lines and is_page_number(lines[0]):
        lines.pop(0)
    return "\n".join(lines).strip()


def _clean(text: str) -> str:
    # Damaged PDFs can yield lone surrogates, which no UTF-8 store accepts.
    text = text.encode("utf-8", "replace").decode("utf-8")
    # NFC so that Hangul from PDFs (often decomposed jamo) matches typed questions.
    text = unicodedata.normalize("NFC", fold_width(drop_invisible(text)))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()
