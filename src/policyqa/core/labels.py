"""Short labels for citations: a section name that fits a line, and whether a page number
means anything for a document."""

from __future__ import annotations

from policyqa.core.models import SECTION_SEPARATOR

SECTION_LIMIT = 48


def short_section(section: str, limit: int = SECTION_LIMIT) -> str:
    """The last part of a section path, cut at a word near `limit` characters: a heading that
    text extraction ran into body text can be a paragraph long."""
    last = section.rsplit(SECTION_SEPARATOR, 1)[-1].strip()
    if len(last) <= limit:
        return last
    cut = last[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:·-(") + "…"


def is_paged(doc_id: str) -> bool:
    """A PDF has pages; a Markdown or text file is one "page" whose number says nothing."""
    return doc_id.lower().endswith(".pdf")
