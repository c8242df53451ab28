"""Briefing notes from a verified answer: Markdown to paste into a document, and .docx.

Every statement in a brief is a verified answer sentence with its citation; the sources list
gives document, page and the quoted passage, so a reader can check each point.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from typing import Any

from policyqa.answering import prompts
from policyqa.answering.answer import Answer
from policyqa.answering.verify import SupportChecker, verify
from policyqa.core.models import Chunk, Passage

_HEADINGS = {
    "en": ("Briefing", "Summary", "Key points", "Sources", "Question", "Not in the documents"),
    "ko": ("브리핑", "요약", "핵심 내용", "출처", "질문", "문서에 없는 내용"),
}


def make_brief(answer: Answer, today: date | None = None, summary_text: str = "") -> str:
    """The brief as Markdown. `summary_text` (a verified LLM summary with [n] markers that refer
    to the answer's citations) replaces the default summary, the answer's first sentence."""
    lang = "ko" if answer.language == "ko" else "en"
    title, summary, points, sources, question, missing = _HEADINGS[lang]
    day = (today or date.today()).isoformat()
    lines = [f"# {title}: {answer.question}", "", f"*policyqa, {day}*", ""]
    if answer.standalone_question != answer.question:
        lines += [f"**{question}:** {answer.standalone_question}", ""]
    sentences = answer.sentences
    if not answer.answered or not sentences:
        lines += [f"## {missing}", "", answer.text, ""]
    elif summary_text:
        lines += [f"## {summary}", "", summary_text, "", f"## {points}", ""]
        lines += [f"- {s.text} {_marks(s.citations)}" for s in sentences]
        lines.append("")
    else:
        first = sentences[0]
        lines += [f"## {summary}", "", f"{first.text} {_marks(first.citations)}", ""]
        if len(sentences) > 1:
            lines += [f"## {points}", ""]
            lines += [f"- {s.text} {_marks(s.citations)}" for s in sentences[1:]]
            lines.append("")
    for note in answer.notes:
        lines += [f"> {note}", ""]
    if answer.citations:
        lines += [f"## {sources}", ""]
        for c in answer.citations:
            where = f"{c.title} ({c.doc}), p. {c.page_label}" + (
                f", {c.section}" if c.section else ""
            )
            quote = " ".join(c.quote.split())
            lines.append(f"{c.n}. {where}: \u201c{quote}\u201d")
        lines.append("")
    return "\n".join(lines)


def _marks(numbers: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def brief_docx(markdown: str) -> bytes:
    """The brief as a Word document (headings, bullets, numbered sources, quotes)."""
    from docx import Document as WordDocument

    doc = WordDocument()
    for line in markdown.splitlines():
        if not line.strip():
            continue
        if line.startswith("# "):
            doc.add_heading(line[2:], level=1)
        elif line.startswith("## "):
            doc.add_heading(line[3:], level=2)
        elif line.startswith("- "):
            doc.add_paragraph(line[2:], style="List Bullet")
        elif re.match(r"^\d+\. ", line):
            doc.add_paragraph(line.split(". ", 1)[1], style="List Number")
        elif line.startswith("> "):
            doc.add_paragraph(line[2:], style="Intense Quote")
        else:
            doc.add_paragraph(line.replace("**", "").strip("*"))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def llm_summary(answer: Answer, chat_model: Any, checker: SupportChecker) -> str:
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
