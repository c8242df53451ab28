"""Briefings from a verified answer: a `Brief` (summary, key points, sources), written out as
Markdown and as a Word document with the same content.

Every statement in a brief is a verified answer sentence with its citation; each citation links
to the cited page, and the sources table gives title, printed page, a short section name and
the quoted passage, so that a reader can check each point.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import quote as url_quote

from langchain_core.language_models import BaseChatModel

from policyqa.answering import prompts
from policyqa.answering.answer import Answer
from policyqa.answering.verify import SupportChecker, verify
from policyqa.core.labels import is_paged, short_section
from policyqa.core.models import Chunk, Passage

AUTHOR = "policyqa"

_HEADINGS = {
    "en": {
        "title": "Briefing",
        "summary": "Summary",
        "points": "Key points",
        "sources": "Sources",
        "question": "Question",
        "searched": "Searched",
        "missing": "Not in the documents",
        "notes": "Notes",
    },
    "ko": {
        "title": "브리핑",
        "summary": "요약",
        "points": "핵심 내용",
        "sources": "출처",
        "question": "질문",
        "searched": "검색한 내용",
        "missing": "문서에 없는 내용",
        "notes": "참고",
    },
}
_COLUMNS = {
    "en": ("#", "Document", "Page", "Section", "Quoted passage"),
    "ko": ("번호", "문서", "쪽", "항목", "인용 구절"),
}

# List markers that documents put before items ("○", "□", "•", "-") and that a brief's own
# bullets replace.
_BULLET = r"[•◦▪▫●○◯□■◆◇▶▷►※∙]"
_LEADING_MARKER = re.compile(rf"^(?:\s*(?:{_BULLET}|[-*·–])\s+|\s*{_BULLET}(?=\S))+")
_INNER_MARKER = re.compile(rf"(?:^|\s){_BULLET}\s*(?=\S)")
_SENTENCE_END = re.compile(r"[.!?。]['\"”’)]*$")
_KOREAN_END = re.compile(r"(?:다|요|음|함|됨|임)[.!?]?['\"”’)]*$")


@dataclass(frozen=True)
class KeyPoint:
    text: str
    cited: tuple[int, ...]


@dataclass(frozen=True)
class BriefSource:
    n: int
    title: str
    doc: str
    page_label: str  # "" for a document without pages (Markdown, text)
    section: str  # short
    quote: str
    url: str


@dataclass(frozen=True)
class Brief:
    language: str
    question: str
    searched: str  # the question as searched, when the conversation changed it; else ""
    day: str
    answered: bool
    summary: str  # one paragraph of full sentences, each with its [n]
    points: tuple[KeyPoint, ...] = ()
    sources: tuple[BriefSource, ...] = ()
    notes: tuple[str, ...] = ()
    refusal: str = ""  # the answer's text when the documents do not answer
    links: dict[int, str] = field(default_factory=dict)  # citation number -> page URL

    @property
    def heading(self) -> str:
        return f"{_HEADINGS[self.language]['title']}: {self.question}"


def tidy(text: str) -> str:
    """A statement as a brief shows it: no list marker of its own, inner markers as "; ", the
    first letter capitalised and a full stop at the end (a list item ends on ";" or ",")."""
    text = " ".join(text.split())
    text = _LEADING_MARKER.sub("", text).strip()
    pieces = [p.strip(" ;,") for p in _INNER_MARKER.split(text) if p.strip(" ;,")]
    if len(pieces) > 1:
        head, items = pieces[0], pieces[1:]
        text = head + (" " if head.endswith(":") else ": ") + "; ".join(items)
    text = text.rstrip(" ;,:")
    if text and text[0].isalpha() and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and not _SENTENCE_END.search(text):
        text += "."
    return text


def is_full_sentence(text: str) -> bool:
    """Whether a statement reads as a sentence on its own: it starts with a capital, a digit or
    Hangul, has a verb-like ending (Korean) or a full stop, and is not a list item's fragment."""
    raw = " ".join(text.split())
    if not raw or _LEADING_MARKER.match(raw) or raw.rstrip().endswith((";", ",", ":")):
        return False
    if re.search("[가-힣]", raw):
        return _KOREAN_END.search(raw) is not None
    return (raw[0].isupper() or raw[0].isdigit()) and bool(_SENTENCE_END.search(raw))


def page_url(base_url: str, doc: str, page: int) -> str:
    return f"{base_url.rstrip('/')}/files/{url_quote(doc)}" + (
        f"#page={page}" if is_paged(doc) else ""
    )


def build_brief(
    answer: Answer, today: date | None = None, summary_text: str = "", base_url: str = ""
) -> Brief:
    """The brief of an answer. `summary_text` (a verified LLM summary with [n] markers that
    refer to the answer's citations) replaces the default summary: the answer's full
    sentences, up to two. `base_url` makes the page links absolute (for downloaded files)."""
    language = "ko" if answer.language == "ko" else "en"
    day = (today or date.today()).isoformat()
    searched = answer.standalone_question if answer.standalone_question != answer.question else ""
    links = {c.n: page_url(base_url, c.doc, c.page) for c in answer.citations}
    if not answer.answered or not answer.sentences:
        return Brief(
            language, answer.question, searched, day, False, "", refusal=answer.text, links=links
        )
    points = tuple(KeyPoint(tidy(s.text), s.citations) for s in answer.sentences)
    if summary_text:
        summary = summary_text
    else:
        full = [
            p for p, s in zip(points, answer.sentences, strict=True) if is_full_sentence(s.text)
        ]
        chosen = (full or list(points))[:2]
        summary = " ".join(f"{p.text} {_marks(p.cited)}".strip() for p in chosen)
    sources = tuple(
        BriefSource(
            n=c.n,
            title=c.title,
            doc=c.doc,
            page_label=c.page_label if is_paged(c.doc) else "",
            section=short_section(c.section),
            # The brief's table is its own list: a document's bullet before the quote goes.
            quote=_LEADING_MARKER.sub("", " ".join(c.quote.split())),
            url=links[c.n],
        )
        for c in answer.citations
    )
    return Brief(
        language,
        answer.question,
        searched,
        day,
        True,
        summary,
        points,
        sources,
        tuple(answer.notes),
        links=links,
    )


def _marks(numbers: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in numbers)


# -- Markdown --------------------------------------------------------------------------------


def _md_links(text: str, links: dict[int, str]) -> str:
    """[n] markers as links to the cited page."""
    return re.sub(
        r"\[(\d+)\]",
        lambda m: (
            f"[\\[{m.group(1)}\\]]({links[int(m.group(1))]})"
            if int(m.group(1)) in links
            else m.group(0)
        ),
        text,
    )


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def brief_markdown(brief: Brief) -> str:
    h = _HEADINGS[brief.language]
    lines = [f"# {brief.heading}", "", f"*{AUTHOR}, {brief.day}*", ""]
    if brief.searched:
        lines += [f"**{h['searched']}:** {brief.searched}", ""]
    if not brief.answered:
        return "\n".join([*lines, f"## {h['missing']}", "", brief.refusal, ""])
    lines += [f"## {h['summary']}", "", _md_links(brief.summary, brief.links), ""]
    lines += [f"## {h['points']}", ""]
    lines += [
        f"- {p.text} {_md_links(_marks(p.cited), brief.links)}".rstrip() for p in brief.points
    ]
    lines.append("")
    if brief.notes:
        lines += [f"## {h['notes']}", ""]
        lines += [f"- {note}" for note in brief.notes]
        lines.append("")
    if brief.sources:
        columns = _COLUMNS[brief.language]
        lines += [f"## {h['sources']}", ""]
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for s in brief.sources:
            page = f"[{_cell(s.page_label)}]({s.url})" if s.page_label else f"[↗]({s.url})"
            lines.append(
                f"| {s.n} | {_cell(s.title)} | {page} | {_cell(s.section)} | "
                f"\u201c{_cell(s.quote)}\u201d |"
            )
        lines.append("")
    return "\n".join(lines)


def make_brief(
    answer: Answer, today: date | None = None, summary_text: str = "", base_url: str = ""
) -> str:
    """The brief as Markdown."""
    return brief_markdown(build_brief(answer, today, summary_text, base_url))


# -- Word ------------------------------------------------------------------------------------


def brief_docx(brief: Brief) -> bytes:
    """The brief as a Word document: the Markdown's content with Word's own headings, bullets,
    table and hyperlinks; the product is the document's author."""
    from docx import Document as WordDocument

    h = _HEADINGS[brief.language]
    doc = WordDocument()
    props = doc.core_properties
    props.author = props.last_modified_by = AUTHOR
    props.title = brief.heading
    props.subject = brief.searched or brief.question
    props.comments = f"{AUTHOR}, {brief.day}"
    doc.add_heading(brief.heading, level=1)
    meta = doc.add_paragraph()
    meta.add_run(f"{AUTHOR}, {brief.day}").italic = True
    if brief.searched:
        line = doc.add_paragraph()
        line.add_run(f"{h['searched']}: ").bold = True
        line.add_run(brief.searched)
    if not brief.answered:
        doc.add_heading(h["missing"], level=2)
        doc.add_paragraph(brief.refusal)
        return _saved(doc)
    doc.add_heading(h["summary"], level=2)
    _linked_text(doc.add_paragraph(), brief.summary, brief.links)
    doc.add_heading(h["points"], level=2)
    for point in brief.points:
        paragraph = doc.add_paragraph(style="List Bullet")
        _linked_text(paragraph, f"{point.text} {_marks(point.cited)}".rstrip(), brief.links)
    if brief.notes:
        doc.add_heading(h["notes"], level=2)
        for note in brief.notes:
            doc.add_paragraph(style="List Bullet").add_run(note).italic = True
    if brief.sources:
        doc.add_heading(h["sources"], level=2)
        columns = _COLUMNS[brief.language]
        table = doc.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, columns, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(name).bold = True
        for s in brief.sources:
            cells = table.add_row().cells
            cells[0].text = str(s.n)
            _hyperlink(cells[1].paragraphs[0], s.url, s.title)
            if s.page_label:
                _hyperlink(cells[2].paragraphs[0], s.url, s.page_label)
            cells[3].text = s.section
            cells[4].text = f"\u201c{s.quote}\u201d"
    return _saved(doc)


def _saved(doc: Any) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _linked_text(paragraph: Any, text: str, links: dict[int, str]) -> None:
    """`text` with each [n] marker a hyperlink to the cited page."""
    at = 0
    for match in re.finditer(r"\[(\d+)\]", text):
        url = links.get(int(match.group(1)))
        if url is None:
            continue
        if match.start() > at:
            paragraph.add_run(text[at : match.start()])
        _hyperlink(paragraph, url, match.group(0))
        at = match.end()
    if at < len(text):
        paragraph.add_run(text[at:])


def _hyperlink(paragraph: Any, url: str, text: str) -> None:
    """An external hyperlink run (python-docx has no API to add one)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "1D4ED8")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(color)
    props.append(underline)
    run.append(props)
    body = OxmlElement("w:t")
    body.text = text
    body.set(qn("xml:space"), "preserve")
    run.append(body)
    link.append(run)
    paragraph._p.append(link)


def llm_summary(answer: Answer, chat_model: BaseChatModel, checker: SupportChecker) -> str:
    """A two- or three-sentence summary written by an LLM from the answer's verified statements
    (prompts/briefing.md), verified like any answer: only sentences whose [n] points at a
    statement that supports them are kept. "" when nothing survives or the model fails."""
    from langchain_core.messages import HumanMessage, SystemMessage

    if not answer.answered or not answer.citations:
        return ""
    statements = "\n".join(f"[{c.n}] {c.quote}" for c in answer.citations)
    values = {
        "language_name": "in Korean" if answer.language == "ko" else "in English",
        "question": answer.standalone_question,
        "statements": statements,
    }
    try:
        reply = chat_model.invoke(
            [
                SystemMessage(prompts.render("briefing", "system", **values)),
                HumanMessage(prompts.render("briefing", "user", **values)),
            ]
        )
    except Exception:  # a brief without an LLM summary is still a brief
        return ""
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    # Each citation is a one-sentence "passage": the quote it stands for.
    passages = [
        Passage(chunk=replace(_chunk_of(answer, c.chunk_id), text=c.quote), score=1.0, rank=c.n)
        for c in answer.citations
    ]
    checked = verify(text, passages, checker)
    kept = [
        f"{s.text} " + "".join(f"[{n}]" for n in s.cited if 1 <= n <= len(passages))
        for s in checked.kept
    ]
    return " ".join(kept).strip()


def _chunk_of(answer: Answer, chunk_id: str) -> Chunk:
    for passage in answer.passages:
        if passage.chunk.id == chunk_id:
            return passage.chunk
    raise KeyError(chunk_id)
