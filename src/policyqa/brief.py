"""Briefing notes from a verified answer: Markdown to paste into a document, and .docx.

Every statement in a brief is a verified answer sentence with its citation; the sources list
gives document, page and the quoted passage, so a reader can check each point.
"""

from __future__ import annotations

import io
import re
from datetime import date

from .answer import Answer

_HEADINGS = {
    "en": ("Briefing", "Summary", "Key points", "Sources", "Question", "Not in the documents"),
    "ko": ("브리핑", "요약", "핵심 내용", "출처", "질문", "문서에 없는 내용"),
}


def make_brief(answer: Answer, today: date | None = None) -> str:
    lang = "ko" if answer.language == "ko" else "en"
    title, summary, points, sources, question, missing = _HEADINGS[lang]
    day = (today or date.today()).isoformat()
    lines = [f"# {title}: {answer.question}", "", f"*policyqa, {day}*", ""]
    if answer.standalone_question != answer.question:
        lines += [f"**{question}:** {answer.standalone_question}", ""]
    sentences = answer.sentences
    if not answer.answered or not sentences:
        lines += [f"## {missing}", "", answer.text, ""]
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
