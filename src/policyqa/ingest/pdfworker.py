"""PDFs are read in a worker process with a memory cap, a cap on the bytes pypdf may
decompress in total, and a wall-clock limit.

pypdf caps each stream (75 MB) but not their sum: a small PDF of many pages, each a stream just
under the cap, took minutes and gigabytes, and pages cut off by the per-page time limit kept
running in abandoned threads. In a worker, whatever a hostile file costs ends with the worker:
it is killed at the time limit, its memory (RLIMIT_AS) is returned to the system, and the file is
rejected with the reason. Text files are read in the calling process as before.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from policyqa.core.models import Document
from policyqa.ingest.load import PDF_SUFFIXES, LoadError, load_file


@dataclass(frozen=True)
class PdfLimits:
    memory_mb: int = 2048
    decompressed_mb: int = 1000
    seconds: float = 300.0


# BaseException: load.py skips a page whose extraction raises an Exception; these end the file.
class _DecompressedTooMuch(BaseException):
    pass


class _OutOfMemory(BaseException):
    pass


def _cap_decompression(limit: int) -> None:
    """Count what pypdf's zlib decompression returns, in total, and stop past `limit`."""
    import pypdf.filters as filters

    original = filters.decompress
    total = [0]

    def counted(data: bytes) -> bytes:
        try:
            out = original(data)
        except MemoryError:
            raise _OutOfMemory from None
        total[0] += len(out)
        if total[0] > limit:
            raise _DecompressedTooMuch
        return out

    filters.decompress = counted


def _decode_contents(path: Path) -> None:
    """Decode every page's content streams once with pypdf, under the cap: PDFium, which lays
    the pages out, decompresses in C where the cap cannot count, so a bomb is stopped here."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        return  # load_file decrypts (or refuses) it; its pages are then read through pypdf
    for page in reader.pages:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()


def _work(
    path: str, doc_id: str, max_bytes: int | None, limits: PdfLimits, out: Connection
) -> None:
    try:
        memory = limits.memory_mb * 1_000_000
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        _cap_decompression(limits.decompressed_mb * 1_000_000)
        if Path(path).suffix.lower() in PDF_SUFFIXES:
            # A broken file is for load_file to report, with its reason.
            with contextlib.suppress(Exception):
                _decode_contents(Path(path))
        result: Any = load_file(Path(path), doc_id, max_bytes=max_bytes)
    except _DecompressedTooMuch:
        result = LoadError(
            f"the PDF decompresses to more than {limits.decompressed_mb} MB "
            "(POLICYQA_PDF_DECOMPRESSED_MB); refused"
        )
    except (MemoryError, _OutOfMemory):
        result = LoadError(
            f"reading the PDF needed more than {limits.memory_mb} MB of memory "
            "(POLICYQA_PDF_MEMORY_MB); refused"
        )
    except LoadError as exc:
        result = exc
    except Exception as exc:  # the parent reports it as a broken file
        result = LoadError(f"broken or unreadable PDF ({type(exc).__name__})")
    try:
        out.send(result)
    except Exception:
        out.send(LoadError("the PDF could not be read"))
    out.close()


def load_isolated(
    path: Path, doc_id: str, max_bytes: int | None = None, limits: PdfLimits | None = None
) -> Document:
    """`load.load_file`, with PDFs read in a worker process under `limits`."""
    if path.suffix.lower() not in PDF_SUFFIXES:
        return load_file(path, doc_id, max_bytes=max_bytes)
    limits = limits or PdfLimits()
    # forkserver: workers fork from a clean server process, not from this one with its
    # threads and models.
    context = multiprocessing.get_context("forkserver")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(
        target=_work, args=(str(path), doc_id, max_bytes, limits, send), daemon=True
    )
    worker.start()
    send.close()
    try:
        if not receive.poll(limits.seconds):
            raise LoadError(
                f"reading the PDF took longer than {limits.seconds:g} s "
                "(POLICYQA_PDF_SECONDS); refused"
            )
        result = receive.recv()
    except EOFError:
        raise LoadError(
            f"the PDF reader stopped (exit code {worker.exitcode}); it may need more than "
            f"{limits.memory_mb} MB (POLICYQA_PDF_MEMORY_MB)"
        ) from None
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join(5)
        receive.close()
    if isinstance(result, LoadError):
        raise result
    if not isinstance(result, Document):
        raise LoadError("the PDF reader returned no document")
    return result
