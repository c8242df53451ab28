"""Splitting: structure-aware chunks with a section path, never crossing a page.

Headings are Markdown headings and the numbering styles of Korean and English official
documents (`1.`, `가.`, `(1)`, `□`, `○`, `제3조`, `Ⅱ.` ...), as `text.heading_style` tells them.
Their nesting is inferred the way an outline is read: a style seen again closes everything
opened below it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from policyqa.core.language import detect_language
from policyqa.core.models import SECTION_SEPARATOR, Chunk, Document, chunk_id
from policyqa.core.structure import NAMED_HEADING as _NAMED_HEADING
from policyqa.core.structure import (
    heading_style as heading_style,  # where answering and the tests find it
)

# Bumped whenever the rules below change how a document is cut: an index whose documents were
# split by other rules (or another chunk size) re-splits them on the next ingest.
# 3: PDF pages read by `pdflayout` (word spaces, column order, tables as rows with their
# headers) and headings that are not figure rows, contents entries or sentences. 4: no heading
# starts with a sign, an amount or another item's number; item-level sections end at a page.
SPLIT_VERSION = 4


def split_signature(max_words: int, overlap_words: int) -> str:
    return f"v{SPLIT_VERSION}/{max_words}/{overlap_words}"


_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)(?=\S)")
_TITLE_CHARS = 60


def _short_title(title: str) -> str:
    title = title.replace("**", "").strip()
    return title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 1].rstrip() + "…"


class SectionTracker:
    """Keeps the open sections while lines are read in order."""

    def __init__(self) -> None:
        self._stack: list[tuple[str, str]] = []

    def feed(self, style: str, title: str) -> None:
        if self._stack and self._stack[-1][0] == "named":
            self._stack.pop()  # "Sources" holds no subsections: the next heading ends it
        if style == "named":
            self._stack = [(style, title)]
            return
        if style.startswith("md"):
            level = int(style[2:])
            while self._stack and not (
                self._stack[-1][0].startswith("md") and int(self._stack[-1][0][2:]) < level
            ):
                self._stack.pop()
        else:
            styles = [s for s, _ in self._stack]
            if style == "roman" and "upper" in styles:
                # "I. Conclusion" after "H. Fiscal Position" is the next letter, not roman one.
                letter = self._stack[styles.index("upper")][1][:1]
                if letter and title[:1] == chr(ord(letter) + 1):
                    style = "upper"
            if style in styles:
                del self._stack[styles.index(style) :]
        self._stack.append((style, _short_title(title)))

    def opens(self, style: str, title: str) -> bool:
        """Whether a heading opens a section here. Inside an article of a statute the numbered
        lines (1., 2. ...; 가., 나. ...) are the article's items, not sections: a number of that
        style opens one only where it continues the outline above the article (the "6. 주요내용"
        after "5. 사업근거 및 추진경위" and a quoted 제7조 with its items 1. to 7.)."""
        styles = [s for s, _ in self._stack]
        if style not in _ITEM_ORDINALS or "article" not in styles:
            return True
        outer = styles[: styles.index("article")]
        if style not in outer:
            return False
        previous = _ordinal(style, self._stack[outer.index(style)][1])
        current = _ordinal(style, title)
        return previous is None or current is None or current == previous + 1

    def page_break(self) -> None:
        """A new page closes the open item-level sections ("(3) ...", "(a) ...", "○ ..."): an
        item rarely runs on past its page, while a footnote or a table's label taken for one
        would otherwise title every page up to the next heading."""
        while self._stack and self._stack[-1][0] in _ITEM_LEVEL:
            self._stack.pop()

    @property
    def path(self) -> str:
        return str(SECTION_SEPARATOR.join([title for _, title in self._stack]))


_ITEM_LEVEL = frozenset({"paren", "alpha", "circle"})
_ITEM_ORDINALS = {"num": re.compile(r"\d+"), "ganada": re.compile(r"[가-하]")}
_GANADA = "가나다라마바사아자차카타파하"


def _ordinal(style: str, title: str) -> int | None:
    """The position a numbered heading gives itself: 3 for "3. ...", 3 for "다. ..."."""
    found = _ITEM_ORDINALS[style].match(title)
    if found is None:
        return None
    text = found.group(0)
    return int(text) if text.isdigit() else (_GANADA.find(text) + 1 or None)


@dataclass
class _Block:
    section: str
    lines: list[str]

    @property
    def words(self) -> int:
        return sum(len(line.split()) for line in self.lines)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def split_document(doc: Document, max_words: int = 120, overlap_words: int = 20) -> list[Chunk]:
    if max_words < 10:
        raise ValueError("chunk size must be at least 10 words")
    overlap_words = max(0, min(overlap_words, max_words // 2))
    tracker = SectionTracker()
    chunks: list[Chunk] = []
    for page in doc.pages:
        tracker.page_break()
        blocks = _blocks(page.text, tracker)
        texts = list(_pack_blocks(blocks, max_words, overlap_words))
        for ordinal, (section, text, outline) in enumerate(texts):
            chunks.append(
                Chunk(
                    id=chunk_id(doc.doc_id, page.page, ordinal),
                    doc_id=doc.doc_id,
                    title=doc.title,
                    page=page.page,
                    page_label=page.page_label,
                    section=section,
                    language=detect_language(text) if doc.language == "mixed" else doc.language,
                    text=text,
                    content_hash=content_hash(f"{doc.title}\x00{section}\x00{text}"),
                    ordinal=ordinal,
                    outline=outline,
                )
            )
    return chunks


def _blocks(text: str, tracker: SectionTracker) -> list[_Block]:
    """Consecutive lines under the same section; a heading line starts a new block."""
    blocks: list[_Block] = [_Block(tracker.path, [])]
    lines = [line for line in (raw.strip() for raw in text.splitlines()) if line]
    for index, line in enumerate(lines):
        heading = heading_style(
            line,
            lines[index + 1] if index + 1 < len(lines) else "",
            lines[index - 1] if index else "",
        )
        if heading is not None and tracker.opens(*heading):
            tracker.feed(*heading)
            blocks.append(_Block(tracker.path, []))
        blocks[-1].lines.append(line)
    return [b for b in blocks if b.lines]


def _pack_blocks(
    blocks: list[_Block], max_words: int, overlap_words: int
) -> Iterator[tuple[str, str, str]]:
    """Yield (section, text, outline) chunks; tiny blocks (a lone heading, a short article)
    join the block after them. The chunk is filed under the last block's section; `outline`
    records where inside the text each earlier section's lines are (see `section_at`)."""
    min_words = max(5, max_words // 4)
    carry: list[tuple[str, str]] = []
    for index, block in enumerate(blocks):
        lines = carry + [(block.section, line) for line in block.lines]
        is_last = index == len(blocks) - 1
        # Front matter (a title and a note) stays with the source list after it, as one
        # passage: alone it is a short chunk that matches any question naming its subject.
        before_sources = (
            not is_last and not block.section and _NAMED_HEADING.match(blocks[index + 1].section)
        )
        if not is_last and (sum(len(x.split()) for _, x in lines) < min_words or before_sources):
            carry = lines
            continue
        carry = []
        for text, sections in _pack_lines(lines, max_words, overlap_words):
            yield block.section, text, _outline(sections, block.section)


def _outline(units: list[tuple[str, int]], section: str) -> str:
    """JSON [[offset, section], ...] where the section changes inside a chunk; "" when the
    whole chunk is under its own section."""
    marks: list[list[str | int]] = []
    for path, offset in units:
        if not marks or marks[-1][1] != path:
            marks.append([offset, path])
    if all(path == section for _, path in marks):
        return ""
    return json.dumps(marks, ensure_ascii=False)


def section_at(chunk: Chunk, offset: int) -> str:
    """The section path in effect at `offset` of the chunk's text (a quote's position): a
    chunk packed from several short sections names, for each line, the section it is in."""
    if not chunk.outline:
        return chunk.section
    try:
        marks = json.loads(chunk.outline)
    except ValueError:
        return chunk.section
    found = chunk.section
    for start, path in marks:
        if int(start) > offset:
            break
        found = str(path)
    return found


def _units(line: str, max_words: int) -> Iterator[str]:
    words = line.split()
    if len(words) <= max_words:
        yield line
        return
    for sentence in _SENTENCE_END.split(line):
        sentence_words = sentence.split()
        for start in range(0, len(sentence_words), max_words):
            yield " ".join(sentence_words[start : start + max_words])


def _pack_lines(
    lines: list[tuple[str, str]], max_words: int, overlap_words: int
) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """Yield (text, [(section, offset of the unit in text), ...]) chunks of whole units."""
    units = [(section, u) for section, line in lines for u in _units(line, max_words)]
    current: list[tuple[str, str]] = []
    size = 0
    fresh = 0  # words in `current` not carried over from the previous chunk
    for unit in units:
        n = len(unit[1].split())
        if current and size + n > max_words and fresh > 0:
            yield _joined(current)
            tail: list[tuple[str, str]] = []
            tail_size = 0
            for previous in reversed(current):
                m = len(previous[1].split())
                if tail_size + m > overlap_words:
                    break
                tail.insert(0, previous)
                tail_size += m
            current, size, fresh = tail, tail_size, 0
        current.append(unit)
        size += n
        fresh += n
    if current and fresh > 0:
        yield _joined(current)


def _joined(units: list[tuple[str, str]]) -> tuple[str, list[tuple[str, int]]]:
    offsets = []
    position = 0
    for section, text in units:
        offsets.append((section, position))
        position += len(text) + 1
    return "\n".join(text for _, text in units), offsets
