"""HTML of the chat UI: styles, the viewer script, answers, sources, passages and the citation
viewer. Pure functions; all document text is escaped (`esc`) wherever it is shown."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote as url_quote

from policyqa.answering.answer import Answer
from policyqa.answering.verify import Citation
from policyqa.app.viewer import Box
from policyqa.core.labels import is_paged, short_section
from policyqa.core.models import Passage

CSS = """
.refusal {border-left: 4px solid #d97706; padding-left: .6em}
.cite {border-bottom: 1px solid #e5e7eb; padding: .4em 0; cursor: pointer}
.cite:hover {background: #f9fafb}
.cite blockquote {margin: .3em 0 .3em .5em; color: #374151}
.cite .where {color: #4b5563; font-size: .9em}
.cite-ref {color: #1d4ed8; text-decoration: none; cursor: pointer; font-weight: 600}
.note {color: #6b7280; font-size: .9em}
.searched {color: #6b7280; font-size: .85em; margin-top: .4em}
.uploaded {color: #b45309}
.input-note {color: #b45309; font-size: .9em}
#viewer .viewer-head {margin-bottom: .4em}
#viewer .viewer-head .where {color: #4b5563; font-size: .9em}
#viewer .page-scroll {max-height: 70vh; overflow: auto; border: 1px solid #d1d5db}
#viewer .page-view {position: relative; width: 100%}
#viewer .page-view img {display: block; width: 100%; height: auto}
#viewer .hl {position: absolute; background: rgba(250, 204, 21, .35);
  outline: 2px solid #d97706; border-radius: 2px; pointer-events: none}
#viewer .context {white-space: pre-wrap; max-height: 26em; overflow: auto; padding: .5em;
  border: 1px solid #d1d5db; font-size: .95em; line-height: 1.5}
#viewer mark {background: #fde68a; padding: 0 .1em}
#viewer-controls {display: none !important}
#examples button {text-align: left}
@media (max-width: 640px) {
  #filters > * {min-width: 100% !important; flex-basis: 100% !important}
  #viewer .page-view {width: 220%}
}
"""

# Clicks on a citation marker in the chat, or on a source, open the citation viewer: the
# clicked citation ("turn:n") goes into a hidden box and a hidden button asks the server for
# the viewer. Only that pair of numbers comes from the browser; documents and pages are looked
# up in the conversation's server-side state.
VIEWER_JS = """
() => {
  const open = (target) => {
    const box = document.querySelector('#view-target textarea, #view-target input');
    const button = document.querySelector('#view-open');
    if (!box || !button) return;
    box.value = target;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    window.__policyqaScroll = true;
    setTimeout(() => button.click(), 0);
  };
  document.addEventListener('click', (event) => {
    const el = event.target.closest('[data-cite], a[href^="#cite-"]');
    if (!el || event.target.closest('a.page-link')) return;
    let target = el.getAttribute('data-cite');
    if (!target) {
      const m = /^#cite-(\\d+)-(\\d+)$/.exec(el.getAttribute('href') || '');
      if (!m) return;
      target = m[1] + ':' + m[2];
    }
    event.preventDefault();
    event.stopPropagation();
    open(target);
  }, true);
  const viewer = document.querySelector('#viewer');
  if (viewer) {
    new MutationObserver(() => {
      if (!window.__policyqaScroll || !viewer.querySelector('.viewer')) return;
      window.__policyqaScroll = false;
      const top = viewer.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight * 0.6) viewer.scrollIntoView({block: 'start'});
      // The passage, not the top of the page, in view inside the page image's frame.
      const frame = viewer.querySelector('.page-scroll');
      const mark = viewer.querySelector('.hl');
      const image = viewer.querySelector('img.page-image');
      const centre = () => {
        if (!frame || !mark) return;
        frame.scrollTop = mark.offsetTop - frame.clientHeight / 3;
        frame.scrollLeft = mark.offsetLeft - 8;
      };
      if (image && !image.complete) image.addEventListener('load', centre, {once: true});
      else centre();
    }).observe(viewer, {childList: true, subtree: true});
  }
  window.policyqaReady = true;  // the page is wired (tests and scripts wait for it)
}
"""


# -- rendering (pure; all document text escaped) -------------------------------------------------


def esc(text: str) -> str:
    """HTML-escape, and neutralise Markdown link/emphasis syntax in document text."""
    escaped = html.escape(text, quote=True)
    return (
        escaped.replace("[", "&#91;")
        .replace("]", "&#93;")
        .replace("*", "&#42;")
        .replace("_", "&#95;")
        .replace("`", "&#96;")
    )


def file_url(doc_id: str, page: int) -> str:
    return f"/files/{url_quote(doc_id)}" + (f"#page={page}" if is_paged(doc_id) else "")


def page_image_url(doc_id: str, page: int) -> str:
    return f"/pages/{url_quote(doc_id)}?page={page}"


def where_label(c: Citation, language: str = "en") -> str:
    """ "p. 12 · 2. Goals": the printed page (PDFs only) and a short section name."""
    parts = []
    if is_paged(c.doc):
        parts.append(f"p. {c.page_label}" if language != "ko" else f"{c.page_label}쪽")
    section = short_section(c.section)
    if section:
        parts.append(section)
    return " · ".join(parts)


def in_language(language: str, en: str, ko: str) -> str:
    return ko if language == "ko" else en


def render_answer(answer: Answer, visible_text: str | None = None, turn: int = 0) -> str:
    """The chat message for an answer: escaped text whose [n] markers open the citation viewer
    (`turn` numbers the answer in its conversation); refusals look different; a question the
    conversation changed shows what was searched."""
    text = answer.text if visible_text is None else visible_text
    body = esc(text)
    body = re.sub(
        r"&#91;(\d+)&#93;",
        rf"<sup><a class='cite-ref' href='#cite-{turn}-\1' data-cite='{turn}:\1' "
        r"title='Show the source / 출처 보기'>[\1]</a></sup>",
        body,
    )
    body = re.sub(r"</sup>\s+(?!<sup>)", "</sup><br>", body)  # one cited sentence per line
    notes = "".join(f"<br><span class='note'>{esc(n)}</span>" for n in answer.notes)
    searched = ""
    keywords = answer.conversation.subject.keywords()
    if answer.standalone_question != answer.question and keywords:
        label = in_language(answer.language, "Searched", "검색한 내용")
        searched = f"<div class='searched'>{label}: {esc(' · '.join(keywords))}</div>"
    if not answer.answered:
        head = "문서에 없는 내용" if answer.language == "ko" else "Not in the documents"
        return f"<div class='refusal'><b>⚠ {head}</b><br>{body}{notes}</div>{searched}"
    return f"{body}{notes}{searched}"


def render_sources(
    answer: Answer | None, uploaded: Mapping[str, Mapping[str, Any]] | None = None, turn: int = 0
) -> str:
    """The sources panel: every citation with its quote in view; a click opens it in the
    viewer. `uploaded`: documents added through the admin page (doc id -> who and when),
    marked as such so that a reader can tell them from the curated corpus."""
    uploaded = uploaded or {}
    if answer is None:
        return (
            "<p class='note'>Sources of the answer appear here. / "
            "답변의 출처가 여기에 표시됩니다.</p>"
        )
    language = answer.language
    parts = []
    if answer.citations:
        parts.append(f"<h3>{in_language(language, 'Sources', '출처')}</h3>")
        for c in answer.citations:
            origin = ""
            if c.doc in uploaded:
                record = uploaded[c.doc]
                origin = (
                    f"<br><small class='uploaded'>Uploaded by {esc(str(record.get('user', '')))} "
                    f"on {esc(str(record.get('at', ''))[:10])}, not part of the original corpus / "
                    "업로드된 문서</small>"
                )
            open_label = (
                in_language(
                    language, f"Open the PDF at p. {c.page_label}", f"PDF {c.page_label}쪽 열기"
                )
                if is_paged(c.doc)
                else in_language(language, "Open the file", "파일 열기")
            )
            parts.append(
                f"<div class='cite' id='cite-{c.n}' data-cite='{turn}:{c.n}' role='button' "
                f"tabindex='0'><b>[{c.n}]</b> {esc(c.title)}"
                f"<br><span class='where'>{esc(where_label(c, language))}</span>{origin}"
                f"<blockquote>{esc(c.quote)}</blockquote>"
                f"<a class='page-link' href='{file_url(c.doc, c.page)}' target='_blank' "
                f"rel='noopener'>{esc(open_label)}</a></div>"
            )
    if not answer.answered and answer.passages:
        parts.append(f"<h3>{in_language(language, 'Closest passages', '가장 가까운 구절')}</h3>")
        for p in answer.passages[:3]:
            parts.append(_passage_html(p))
    body = "\n".join(parts) or "<p class='note'>No sources.</p>"
    # Which question these sources answer: screen readers announce it, and a page script (or
    # a test) can tell the sources of this answer from those of the one before.
    label = esc(answer.question)
    return (
        f"<div class='sources-of' aria-label='Sources for: {label}' data-question='{label}'>"
        f"{body}</div>"
    )


def _passage_html(p: Passage) -> str:
    c = p.chunk
    where = f", p. {esc(c.page_label)}" if is_paged(c.doc_id) else ""
    return (
        f"<div class='cite'><b>{esc(c.title)}</b>{where} "
        f"<a class='page-link' href='{file_url(c.doc_id, c.page)}' target='_blank' "
        f"rel='noopener'>open</a><blockquote>{esc(c.text[:400])}</blockquote></div>"
    )


def render_passages(passages: list[Passage]) -> str:
    """Search results (the Search tab); escaped like everything else."""
    if not passages:
        return "_No passage found. Is the index built (`policyqa ingest`)?_"
    return "\n".join(_passage_html(p) for p in passages)


def render_viewer(
    c: Citation,
    language: str,
    boxes: Sequence[Box] | None = None,
    context: tuple[str, str, str] | None = None,
) -> str:
    """The citation viewer: title, printed page, short section and a link to the file at the
    page; then the page image with the quote's `boxes` over it (PDF), or the passage in its
    `context` with the quote marked (Markdown, text)."""
    open_label = (
        in_language(language, f"Open the PDF at p. {c.page_label}", f"PDF {c.page_label}쪽 열기")
        if is_paged(c.doc)
        else in_language(language, "Open the file", "파일 열기")
    )
    head = (
        f"<div class='viewer-head'><b>[{c.n}] {esc(c.title)}</b><br>"
        f"<span class='where'>{esc(where_label(c, language))}</span> · "
        f"<a class='page-link' href='{file_url(c.doc, c.page)}' target='_blank' "
        f"rel='noopener'>{esc(open_label)}</a></div>"
    )
    if is_paged(c.doc):
        marks = "".join(
            f"<div class='hl' style='left:{b.left * 100:.2f}%;top:{b.top * 100:.2f}%;"
            f"width:{b.width * 100:.2f}%;height:{b.height * 100:.2f}%'></div>"
            for b in boxes or ()
        )
        alt = esc(f"{c.title}, p. {c.page_label}")
        body = (
            f"<div class='page-scroll'><div class='page-view'><img class='page-image' src='"
            f"{page_image_url(c.doc, c.page)}' alt='{alt}'>{marks}</div></div>"
        )
        if not boxes:
            body += (
                "<p class='note'>"
                + in_language(
                    language,
                    "The passage could not be placed on the page image; it is quoted below.",
                    "페이지 이미지에서 구절 위치를 찾지 못해 아래에 인용합니다.",
                )
                + f"</p><blockquote>{esc(c.quote)}</blockquote>"
            )
    elif context is not None:
        before, quoted, after = context
        body = (
            f"<div class='context'>{esc(before)}<mark class='quote-mark'>{esc(quoted)}</mark>"
            f"{esc(after)}</div>"
        )
    else:
        body = f"<div class='context'><mark class='quote-mark'>{esc(c.quote)}</mark></div>"
    return f"<div class='viewer' data-cite='none' data-n='{c.n}'>{head}{body}</div>"


def reveal(text: str) -> Iterator[str]:
    """Word by word prefixes of a verified answer, for streaming it into the chat."""
    words = text.split(" ")
    step = max(1, len(words) // 12)
    for end in range(step, len(words) + step, step):
        yield " ".join(words[:end])


def keep() -> dict[str, str]:
    """Leave an output as it is (Gradio's `gr.skip()`, without importing Gradio here)."""
    return {"__type__": "update"}
