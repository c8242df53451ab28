"""The typed records passed between pipeline stages."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["ko", "en", "mixed"]

# A filter on chunk metadata, as the app, the API and the CLI pass it to retrieval: field name ->
# one value, or a list meaning any of them ("region" and "names_region" take area ids).
FilterValue = str | int | float
Filters = Mapping[str, FilterValue | Sequence[FilterValue]]

SECTION_SEPARATOR = " > "


@dataclass(frozen=True)
class Page:
    """One page of text: a PDF page, or the whole of a Markdown/text file (page 1)."""

    page: int  # 1-based physical page number
    page_label: str  # printed label ("iii", "12"); equals str(page) when the PDF defines none
    text: str


@dataclass(frozen=True)
class Document:
    doc_id: str  # path relative to the folder it was ingested from
    title: str
    language: Language
    pages: tuple[Page, ...]
    page_count: int  # physical pages, including pages with no text
    file_hash: str = ""
    source_path: str = ""


def chunk_id(doc_id: str, page: int, ordinal: int) -> str:
    """The id of the `ordinal`-th chunk of a page: neighbours are found by it."""
    return f"{doc_id}#p{page}#c{ordinal}"


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    title: str
    page: int
    page_label: str
    section: str  # section path joined by SECTION_SEPARATOR; "" outside any heading
    language: Language
    text: str
    content_hash: str
    ordinal: int = 0  # position of the chunk within its page
    # JSON [[offset, section], ...] when the text spans several short sections ("" otherwise):
    # lets a citation name the section its quote is in (`split.section_at`).
    outline: str = ""

    @property
    def context_text(self) -> str:
        """What embedders and the lexical index see: title and section give the chunk context."""
        head = self.title if not self.section else f"{self.title}{SECTION_SEPARATOR}{self.section}"
        return f"{head}\n{self.text}" if head else self.text

    def metadata(self) -> dict[str, str | int]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "page": self.page,
            "page_label": self.page_label,
            "section": self.section,
            "language": self.language,
            "content_hash": self.content_hash,
            "ordinal": self.ordinal,
            "outline": self.outline,
        }

    @classmethod
    def from_record(cls, chunk_id: str, text: str, meta: dict[str, object]) -> Chunk:
        def get_str(key: str) -> str:
            value = meta.get(key, "")
            # Interned: a document's title, id and sections repeat on every one of its chunks,
            # tens of MB at 100k chunks.
            return "" if value is None else sys.intern(str(value))

        language = get_str("language")
        return cls(
            id=chunk_id,
            doc_id=get_str("doc_id"),
            title=get_str("title"),
            page=int(str(meta.get("page", 1))),
            page_label=get_str("page_label"),
            section=get_str("section"),
            language=language if language in ("ko", "en", "mixed") else "mixed",  # type: ignore[arg-type]
            text=text,
            content_hash=get_str("content_hash"),
            ordinal=int(str(meta.get("ordinal", 0))),
            outline=get_str("outline"),
        )


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the evidence for its rank."""

    chunk: Chunk
    score: float
    rank: int
    lexical_score: float | None = None
    dense_score: float | None = None
    sources: tuple[str, ...] = ()  # which retrievers found it ("lexical", "dense:use-multilingual")


@dataclass(frozen=True)
class Rejection:
    path: str
    reason: str


@dataclass
class IngestReport:
    files: int = 0
    pages: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0  # chunks of unchanged files
    unchanged_files: int = 0
    embedded: int = 0  # chunk texts sent to an embedder
    page_heads_embedded: int = 0  # page heads sent to an embedder (`index.pages`), all of them
    seconds: float = 0.0
    rejected: list[Rejection] = field(default_factory=list)
    removed_docs: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = (
            f"{self.files} files, {self.pages} pages: chunks {self.added} added, "
            f"{self.updated} updated, {self.removed} removed, {self.skipped} skipped; "
            f"{self.embedded} embedded, {self.page_heads_embedded} page heads; "
            f"{len(self.rejected)} rejected; {self.seconds:.1f} s"
        )
        if self.embedded == 0 and self.page_heads_embedded == 0 and not self.rejected:
            line += " (nothing changed: no embedding needed)"
        return line
