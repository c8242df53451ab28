"""Loading: PDF (pypdf, page by page), Markdown and plain text into `Document`s.

pypdf opens, validates and decrypts a PDF and gives its page labels and metadata; the page text
comes from `pdflayout` (PDFium geometry: word spaces, column order, tables as rows with their
headers and unit), or from pypdf where PDFium cannot read a page.

Anything that cannot be read raises `LoadError` with a reason a user can act on; the caller
reports it by file name and goes on with the other files.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import statistics
import threading
import unicodedata
from pathlib import Path

from policyqa.core.language import detect_language
from policyqa.core.models import Document, Page
from policyqa.core.settings import PAGE_TIMEOUT
from policyqa.core.structure import (
    has_letters,
    heading_style,
    is_contents_entry,
    is_figure_row,
    is_letter_spaced,
    reads_as_sentence,
)
from policyqa.core.text import display_width, drop_invisible, fold_width
from policyqa.ingest.pdflayout import PageLayout, read_layouts

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
PAGE_TIMEOUT_SECONDS = float(PAGE_TIMEOUT.default)


def page_timeout() -> float:
    raw = PAGE_TIMEOUT.raw()
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
        layouts = read_layouts(path, page_count, page_timeout(), path.name) or []
        pages: list[Page] = []
        for index in range(page_count):
            layout = layouts[index] if index < len(layouts) else None
            if layout is not None and layout.lines:
                text = layout.text
            else:  # PDFium could not read the page, or found no text where pypdf may
                try:
                    text = _extract_with_time_limit(reader.pages[index], path.name, index + 1)
                except (FileNotDecryptedError, DependencyError) as exc:
                    raise LoadError(f"PDF is protected: {exc}") from exc
                except Exception as exc:  # one unreadable page must not lose the document
                    log.warning("%s: page %d unreadable (%s); skipped", path.name, index + 1, exc)
                    text = ""
            text = _strip_page_furniture(_clean(text), labels[index], index + 1)
            pages.append(Page(page=index + 1, page_label=labels[index], text=text))
        running = _running_lines(pages)
        # The metadata title where page 1 prints it; else the title page 1 displays; else
        # the metadata title all the same (a real title the page does not print, or one
        # copied from another file: no way to tell); else the first title-like line.
        metadata = _metadata_title(reader, running)
        title = (
            (metadata if metadata and _printed(metadata, pages) else "")
            or _display_title(layouts, running)
            or metadata
            or _first_heading(pages, running)
        )
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


def _metadata_title(reader: object, running: set[str]) -> str:
    """The metadata title, unless it is one that generators leave there: a file name,
    "untitled", an application's default, or a line no title is (a series' running header,
    a letter-spaced form label)."""
    try:
        meta = reader.metadata  # type: ignore[attr-defined]
        title = (meta.title or "") if meta else ""
    except Exception:
        return ""
    title = " ".join(str(title).encode("utf-8", "replace").decode("utf-8").split())
    if (
        not title
        or _DEFAULT_TITLE.match(title)
        or title.lower().endswith(
            (".doc", ".docx", ".hwp", ".hwpx", ".pdf", ".ppt", ".pptx", ".tmp")
        )
        or not _title_like(title, running)
    ):
        return ""
    return title


def _printed(title: str, pages: list[Page]) -> bool:
    """Whether most of the title's words are printed on the first two pages (or there is no
    text there to compare with, as on a scanned cover)."""
    opening = _squeezed(" ".join(p.text for p in pages[:2]))
    if not opening:
        return True
    words = [w for w in re.findall(r"\w+", title) if len(w) > 1] or [title]
    return 2 * sum(1 for w in words if _squeezed(w) in opening) > len(words)


_DEFAULT_TITLE = re.compile(
    r"^(?:untitled|\(anonymous\)|microsoft (?:word|powerpoint|excel) - .*|(?:document|slide|"
    r"presentation|문서|제목\s?없음|powerpoint\s(?:presentation|프레젠테이션))\s*\d*)$",
    re.IGNORECASE,
)


# A line that only names the issuing body, as letterheads print it above the title.
_ISSUER = re.compile(
    r"^(?:the\s+)?(?:government|ministry|department|office|republic|kingdom|state|"
    r"commonwealth|people'?s republic|federal republic)\s+of\s+[\w .,&'-]{2,60}$"
    r"|^(?:대한민국\s*)?(?:정부|[가-힣]{1,10}(?:부|처|청))$",
    re.IGNORECASE,
)
_LIST_NUMBER = re.compile(r"^[(（]\d{1,3}[)）]\s*")
_TITLE_CHARS = 120


def _squeezed(text: str) -> str:
    """Letters and digits only, lower-cased: for comparing a line with another."""
    return re.sub(r"[\W_]+", "", text).lower()


def _running_lines(pages: list[Page]) -> set[str]:
    """Lines (digits aside) printed at the top or bottom of several pages: running headers
    and footers ("FIS ISSUE & FOCUS", "3 | individual funding requests")."""
    if len(pages) < 3:
        return set()
    seen: dict[str, int] = {}
    for page in pages:
        lines = [x for x in page.text.splitlines() if x.strip()]
        edge = {_squeezed(re.sub(r"\d+", "", x)) for x in lines[:3] + lines[-3:]}
        for key in edge - {""}:
            seen[key] = seen.get(key, 0) + 1
    return {key for key, n in seen.items() if n >= max(2, len(pages) // 3)}


def _title_like(line: str, running: set[str]) -> bool:
    """Whether a line could be the document's title: words (not figures, not a form label set
    letter by letter, not a contents entry, not a table row, not only the issuer's name), and
    not a running header, which names the series or the chapter rather than this document."""
    text = line.strip()
    key = _squeezed(text)
    return (
        len(_squeezed(text)) >= 2
        and has_letters(text)
        and not text.startswith("|")
        and not is_letter_spaced(text)
        and not is_contents_entry(text)
        and not is_figure_row(text)
        and _ISSUER.match(text) is None
        and not any(key in r for r in running)
    )


def _display_title(layouts: list[PageLayout | None], running: set[str]) -> str:
    """The title as page 1 displays it: its largest line set well above the body text (with
    the display lines right next to it, for a title set over two lines or under a kicker)."""
    first = next((x for x in layouts if x is not None and x.lines), None)
    if first is None:
        return ""
    sample = [ln for x in layouts[:5] if x is not None for ln in x.lines]
    body = statistics.median([ln.size for ln in sample for _ in range(max(1, len(ln.text) // 10))])
    lines = list(first.lines)

    def display(i: int) -> bool:
        line = lines[i]
        return line.size >= 1.25 * body and not is_contents_entry(line.text)

    candidates = [
        i for i in range(len(lines)) if display(i) and _title_like(lines[i].text, running)
    ]
    if not candidates:
        return ""
    anchor = max(candidates, key=lambda i: (round(2 * lines[i].size), -i))  # half points
    block = [anchor]
    for step in (-1, 1):
        i = anchor + step
        # Lines of nearly the anchor's size, not larger (a larger one was passed over as a
        # running header): a title set over two lines, or under a kicker.
        while 0 <= i < len(lines) and len(block) < 3 and display(i):
            line = lines[i].text
            if (
                not 0.75 * lines[anchor].size <= lines[i].size <= 1.05 * lines[anchor].size
                or not _title_like(line, set())
                or heading_style(line) is not None  # the first section's heading
            ):
                break
            near = lines[i - step] if step == 1 else lines[i + 1]
            gap = (near.y0 - lines[i].y1) if step == 1 else (lines[i].y0 - near.y1)
            if gap > 1.5 * max(lines[i].size, near.size):
                break
            block.append(i)
            i += step
    block.sort()
    title = lines[block[0]].text
    for previous, current in itertools.pairwise(block):
        same = abs(lines[previous].size - lines[current].size) < 0.05 * lines[current].size
        joiner = " " if same or title.endswith(":") else ": "
        title += joiner + lines[current].text
    return _short(title)


def _first_heading(pages: list[Page], running: set[str]) -> str:
    """The first title-like line of the first page with text (a Markdown heading's text)."""
    for page in pages:
        lines = [x.strip() for x in page.text.splitlines() if x.strip()]
        if not lines:
            continue
        for line in lines[:20]:
            match = _MD_HEADING.match(line)
            text = match.group(1) if match else line
            if _title_like(text, running) and not reads_as_sentence(_LIST_NUMBER.sub("", text)):
                return _short(text)
        return ""  # the file name says more than a label or a sentence would
    return ""


def _short(title: str) -> str:
    title = _LIST_NUMBER.sub("", " ".join(title.split()))
    return title if display_width(title) <= 2 * _TITLE_CHARS else title[:_TITLE_CHARS]


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


# Control characters stand between words in some PDFs (BEL for the space glyph); zero-width
# characters sit inside words.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2060\ufeff]")


def _clean(text: str) -> str:
    # Damaged PDFs can yield lone surrogates, which no UTF-8 store accepts.
    text = text.encode("utf-8", "replace").decode("utf-8")
    # NFC so that Hangul from PDFs (often decomposed jamo) matches typed questions.
    text = unicodedata.normalize("NFC", fold_width(drop_invisible(text)))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = _ZERO_WIDTH.sub("", _CONTROL.sub(" ", text))
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()
