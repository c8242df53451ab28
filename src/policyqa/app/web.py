"""The web app: a Gradio chat with cited answers, plus an HTTP API on the same port.

`build_server()` returns one FastAPI app: `/api/ask`, `/api/health`, `/files/<doc>` (the corpus
files, a PDF opened at the cited page), `/pages/<doc>?page=N` (a page image for the citation
viewer) and the Gradio UI at `/`. Per-browser state (conversation, answers) lives in `gr.State`,
so concurrent users never share a conversation. Document text is HTML-escaped everywhere it is
shown.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

# At module level: FastAPI resolves the route annotations (postponed by __future__) here.
from fastapi import Request

from policyqa.answering import prompts
from policyqa.answering.answer import MAX_QUESTION_CHARS, Answer, AnswerError
from policyqa.answering.brief import brief_docx, brief_markdown
from policyqa.answering.condense import is_history
from policyqa.answering.verify import Citation
from policyqa.app.admin import ALLOWED_UPLOADS, DocumentAdmin, UploadLog
from policyqa.app.auth import Accounts, LoginLimiter, parse_auth
from policyqa.app.limits import RequestGuard
from policyqa.app.viewer import Box, PageImages, passage_in_context
from policyqa.core.labels import is_paged, short_section
from policyqa.core.language import detect_language
from policyqa.core.models import Passage
from policyqa.core.settings import Settings
from policyqa.core.text import clean_question
from policyqa.domain import DomainPack
from policyqa.ingest.load import decode_text
from policyqa.pipeline import Pipeline
from policyqa.retrieval.filters import NATIONWIDE, REGION_KEYS, is_metadata_key

log = logging.getLogger(__name__)


def region_choices(domain: DomainPack) -> list[tuple[str, str]]:
    """The region facet: every area of the domain pack, and the passages naming none."""
    return (
        [("All regions / 전체", "")]
        + [(f"{a.name_en} / {a.name_ko}", a.id) for a in domain.areas.values()]
        + [("Nationwide only / 전국 공통", NATIONWIDE)]
    )


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


def _text(language: str, en: str, ko: str) -> str:
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
        label = _text(answer.language, "Searched", "검색한 내용")
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
        parts.append(f"<h3>{_text(language, 'Sources', '출처')}</h3>")
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
                _text(language, f"Open the PDF at p. {c.page_label}", f"PDF {c.page_label}쪽 열기")
                if is_paged(c.doc)
                else _text(language, "Open the file", "파일 열기")
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
        parts.append(f"<h3>{_text(language, 'Closest passages', '가장 가까운 구절')}</h3>")
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
        _text(language, f"Open the PDF at p. {c.page_label}", f"PDF {c.page_label}쪽 열기")
        if is_paged(c.doc)
        else _text(language, "Open the file", "파일 열기")
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
                + _text(
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


def corpus_file(settings: Settings, manifest: Collection[str], doc_id: str) -> Path | None:
    """The file of an indexed document, inside the corpus folder; None for anything else."""
    if "\x00" in doc_id or doc_id not in manifest:
        return None
    corpus = Path(settings.corpus).resolve()
    path = (corpus / doc_id).resolve()
    if not path.is_file() or not path.is_relative_to(corpus):
        return None
    return path


# -- app -----------------------------------------------------------------------------------------

# Answers kept per conversation for the viewer ([n] of an earlier answer still opens).
MAX_KEPT_ANSWERS = 30


class ChatApp:
    """Callbacks of the UI, on one shared pipeline; per-session data comes in as arguments."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.uploads = UploadLog(self.settings.home)
        self.downloads = Path(tempfile.mkdtemp(prefix="policyqa-briefs-"))
        self.pages = PageImages(self.settings.home / "pages", self.settings.page_cache_mb)
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()

    def documents(self) -> list[str]:
        return sorted(self.pipeline.store.manifest())

    def document_choices(self) -> list[tuple[str, str]]:
        """The documents filter: (title, doc id), by title; a title two documents share names
        the file too."""
        entries = sorted(self.pipeline.store.manifest().values(), key=lambda e: e.title.lower())
        counts: dict[str, int] = {}
        for e in entries:
            counts[e.title] = counts.get(e.title, 0) + 1
        return [
            (e.title if e.title and counts[e.title] == 1 else f"{e.title} ({e.doc_id})", e.doc_id)
            for e in entries
        ]

    def filters(self, region: str, docs: Sequence[str] | None) -> dict[str, Any] | None:
        filters: dict[str, Any] = {}
        if region:
            filters["region"] = region
        if docs:
            filters["doc_id"] = list(docs)
        return filters or None

    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]],
        history: list[dict[str, str]],
        answers: list[Answer],
        region: str,
        docs: list[str],
        language: str,
        session: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Outputs: chat, history, answers, sources, question box, input note, viewer. One
        question at a time per browser `session`: another submit while one runs, or an empty
        one, changes nothing; a question over the limit stays in the box with the limit shown."""
        question = clean_question(message or "")
        unchanged = (keep(),) * 7
        if not question:
            yield unchanged
            return
        if len(question) > MAX_QUESTION_CHARS:
            said = "ko" if detect_language(question) != "en" else "en"
            note = prompts.message("too-long", said, length=len(question), limit=MAX_QUESTION_CHARS)
            yield (*(keep(),) * 5, f"<div class='input-note'>{esc(note)}</div>", keep())
            return
        if session:
            with self._busy_lock:
                if session in self._busy:
                    yield unchanged
                    return
                self._busy.add(session)
        try:
            yield from self._answer(question, chat, history, answers, region, docs, language)
        finally:
            if session:
                with self._busy_lock:
                    self._busy.discard(session)

    def _answer(
        self,
        question: str,
        chat: list[dict[str, Any]],
        history: list[dict[str, str]],
        answers: list[Answer],
        region: str,
        docs: list[str],
        language: str,
    ) -> Iterator[tuple[Any, ...]]:
        chat = [*list(chat or []), {"role": "user", "content": esc(question)}]
        history = list(history or [])
        answers = list(answers or [])[-MAX_KEPT_ANSWERS:]
        turn = len(answers)
        chat.append({"role": "assistant", "content": "…"})
        # The box empties as the question goes into the chat; the sources stay until new ones.
        yield chat, keep(), keep(), keep(), "", "", keep()
        try:
            stream = self.pipeline.assistant.stream(
                question,
                history,
                self.filters(region, docs),
                language=language or None,
            )
            answer: Answer | None = None
            draft = ""
            for event in stream:
                if event.answer is not None:
                    answer = event.answer
                elif event.delta:
                    draft += event.delta
                    chat[-1] = {"role": "assistant", "content": esc(draft)}
                    yield chat, keep(), keep(), keep(), keep(), keep(), keep()
        except AnswerError as exc:
            chat = chat[:-2]  # the question was not asked: it goes back into the box
            note = f"<div class='input-note'>{esc(str(exc))}</div>"
            yield chat, keep(), keep(), keep(), question, note, keep()
            return
        except Exception:  # the user sees a message; the stack trace goes to the log
            log.exception("answering failed")
            chat[-1] = {
                "role": "assistant",
                "content": "<div class='refusal'>Something went wrong while answering; the "
                "error was logged. / 답변 중 오류가 발생했습니다.</div>",
            }
            yield chat, keep(), keep(), keep(), keep(), keep(), keep()
            return
        assert answer is not None
        if answer.answered:
            for prefix in reveal(answer.text):
                chat[-1] = {"role": "assistant", "content": render_answer(answer, prefix, turn)}
                yield chat, keep(), keep(), keep(), keep(), keep(), keep()
        chat[-1] = {"role": "assistant", "content": render_answer(answer, turn=turn)}
        history = [
            *history,
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]
        sources = render_sources(answer, self.uploads.uploaded(), turn)
        yield chat, history, [*answers, answer], sources, keep(), keep(), ""

    def view(self, target: str, answers: list[Answer]) -> str:
        """The citation viewer for `target` ("turn:n", sent by the page script): the citation
        is looked up in this conversation's own answers."""
        text = target.strip() if isinstance(target, str) else ""
        match = re.fullmatch(r"(\d{1,4}):(\d{1,3})", text)
        answers = list(answers or [])
        if not match or not answers:
            return ""
        turn, n = int(match.group(1)), int(match.group(2))
        if turn >= len(answers):
            return ""
        answer = answers[turn]
        citation = next((c for c in answer.citations if c.n == n), None)
        if citation is None:
            return ""
        manifest = self.pipeline.store.manifest()
        path = corpus_file(self.settings, manifest, citation.doc)
        if path is None:
            return render_viewer(citation, answer.language)
        if is_paged(citation.doc):
            try:
                boxes = self.pages.boxes(
                    path, manifest[citation.doc].file_hash, citation.page, citation.quote
                )
            except Exception:  # a page the text layer cannot give: the quote is shown instead
                log.exception("could not place a quote on %s p.%s", citation.doc, citation.page)
                boxes = []
            return render_viewer(citation, answer.language, boxes=boxes)
        text = decode_text(path.read_bytes()[: int(self.settings.max_file_mb * 1_000_000)])
        return render_viewer(
            citation, answer.language, context=passage_in_context(text, citation.quote)
        )

    def briefing(
        self, answers: list[Answer], base_url: str = "", language: str = ""
    ) -> tuple[str, Any, Any]:
        answer = answers[-1] if answers else None
        if answer is None:
            return (
                _text(language, "_Ask a question first._", "_먼저 질문해 주세요._"),
                None,
                None,
            )
        brief = self.pipeline.brief_document(answer, base_url)
        markdown = brief_markdown(brief)
        folder = self.downloads / secrets.token_hex(8)
        folder.mkdir(parents=True)
        md_path = folder / "briefing.md"
        md_path.write_text(markdown, encoding="utf-8")
        docx_path = folder / "briefing.docx"
        docx_path.write_bytes(brief_docx(brief))
        return markdown, str(md_path), str(docx_path)

    def about(self) -> str:
        store = self.pipeline.store
        manifest = store.manifest()
        rows = [
            ("Embedders", self.settings.embedder),
            ("Answerer", self.pipeline.answerer_name()),
            ("Documents", str(len(manifest))),
            ("Chunks", str(store.count_chunks())),
            ("Index", self.settings.chroma_url or str(self.settings.home / "chroma")),
            ("Passages per answer", str(self.settings.answer_passages)),
            ("Support threshold", str(self.settings.min_support)),
        ]
        table = "\n".join(f"| {esc(k)} | {esc(v)} |" for k, v in rows)
        docs = "\n".join(
            f"- {esc(e.title)} (`{esc(e.doc_id)}`, {e.pages} pages, {e.language})"
            for e in sorted(manifest.values(), key=lambda e: e.doc_id)
        )
        return f"| Setting | Value |\n|---|---|\n{table}\n\n**Documents**\n\n{docs}"


def request_base_url(request: Any) -> str:
    """The app's address as the browser reached it, for links in downloaded briefings."""
    headers = getattr(request, "headers", None) or {}
    host = headers.get("x-forwarded-host") or headers.get("host") or ""
    if not host or not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host):
        return ""
    scheme = headers.get("x-forwarded-proto") or "http"
    return f"{'https' if scheme == 'https' else 'http'}://{host}"


def validate_request(history: Any, filters: Any, areas: Collection[str] = ()) -> str:
    """Why an API request's history or filters are malformed ("" when they are fine); a region
    filter must name one of `areas` or "nationwide"."""
    if not is_history(history):
        return '\'history\' must be a list of {"role", "content"} objects with string content'
    if any(len(t["content"]) > MAX_QUESTION_CHARS for t in history):
        return f"a history turn is too long (the limit is {MAX_QUESTION_CHARS} characters)"
    if filters is None:
        return ""
    if not isinstance(filters, dict):
        return "'filters' must be an object"
    if len(filters) > MAX_FILTER_KEYS:
        return f"too many filters (at most {MAX_FILTER_KEYS})"
    for key, value in filters.items():
        if not is_metadata_key(key):
            return f"filter key {key!r} is not a metadata field"
        values = value if isinstance(value, list) else [value]
        ok = (
            0 < len(values) <= MAX_FILTER_VALUES
            and all(_filter_scalar(v) for v in values)
            # Chroma's $in takes one type: a mixed list was a server error.
            and len({str if isinstance(v, str) else float for v in values}) == 1
        )
        if not ok:
            return (
                f"filter {key!r} must be a string, a finite number or a non-empty list of at "
                f"most {MAX_FILTER_VALUES} of one kind"
            )
        if key in REGION_KEYS:
            known = {*areas, NATIONWIDE}
            unknown = [v for v in values if v not in known]
            if unknown:
                return f"unknown region {unknown[0]!r}; use one of: {', '.join(sorted(known))}"
    return ""


MAX_FILTER_KEYS = 20
MAX_FILTER_VALUES = 200


def _filter_scalar(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def build_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> Any:
    """The Gradio Blocks UI for questions (without the HTTP API; see `build_server`). The
    administration page is another app (`build_admin_app`), so that this one's page and API
    name no administration endpoint."""
    import gradio as gr

    pipeline = pipeline or Pipeline(settings or Settings.from_env())
    chat_app = ChatApp(pipeline)

    with gr.Blocks(title="policyqa") as demo:
        gr.Markdown(
            "# policyqa\nAsk about the policy documents in Korean or English. Every answer "
            "quotes its sources. / 한국어나 영어로 질문하세요. 모든 답변은 출처를 인용합니다."
        )
        history = gr.State([])
        # This conversation's answers, server-side: the viewer and the briefing read them.
        answers = gr.State([])
        with gr.Tab("Chat / 대화"):
            # Page order is the phone's order: chat, question, then viewer and sources, then
            # filters and examples. On a wide screen the first two columns sit side by side.
            with gr.Row():
                with gr.Column(scale=3, min_width=320):
                    chatbot = gr.Chatbot(label="policyqa", height=460, elem_id="chat")
                    with gr.Row():
                        question = gr.Textbox(
                            label="Question / 질문",
                            scale=5,
                            elem_id="question",
                            placeholder="예: 포괄보조는 얼마나 늘어나나요? / "
                            "e.g. What is the blueprint?",
                            info=f"Up to {MAX_QUESTION_CHARS} characters / 최대 "
                            f"{MAX_QUESTION_CHARS}자",
                        )
                        send = gr.Button("Ask / 질문", variant="primary", scale=1, elem_id="ask")
                    note = gr.HTML("", elem_id="input-note")
                with gr.Column(scale=2, min_width=320):
                    viewer = gr.HTML("", elem_id="viewer")
                    sources = gr.HTML(render_sources(None), elem_id="sources")
                    with gr.Row():
                        brief_button = gr.Button("Briefing / 브리핑", elem_id="briefing")
                        clear = gr.Button("New conversation / 새 대화", elem_id="clear")
            # The briefing is a document: the page's full width, under the answer.
            with gr.Row():
                brief_md = gr.Markdown(elem_id="brief")
            with gr.Row():
                brief_file_md = gr.File(
                    label="briefing.md", elem_id="brief-md", height=90, visible=False
                )
                brief_file_docx = gr.File(
                    label="briefing.docx", elem_id="brief-docx", height=90, visible=False
                )
            with gr.Row(elem_id="filters"):
                region = gr.Dropdown(
                    region_choices(pipeline.domain),
                    value="",
                    label="Region / 지역",
                    elem_id="region",
                    visible=bool(pipeline.domain.areas),
                    min_width=260,
                )
                docs = gr.Dropdown(
                    chat_app.document_choices(),
                    multiselect=True,
                    label="Documents / 문서",
                    elem_id="docs",
                    min_width=260,
                )
                language = gr.Dropdown(
                    [("Auto / 자동", ""), ("한국어", "ko"), ("English", "en")],
                    value="",
                    label="Answer language / 답변 언어",
                    elem_id="language",
                    min_width=200,
                )
            with gr.Column(elem_id="examples"):
                example_sets = [
                    gr.Dataset(
                        components=["textbox"],
                        samples=[[q] for q in examples],
                        label=f"Examples: {persona}",
                        elem_classes="example-set",
                    )
                    for persona, examples in pipeline.domain.examples.items()
                ]
            with gr.Row(elem_id="viewer-controls"):
                view_target = gr.Textbox(elem_id="view-target", show_label=False)
                view_open = gr.Button("view", elem_id="view-open")
        # The conversation shown is kept server-side (gr.State) and is never an input: a
        # Chatbot value sent by the browser could name any file (FileData) for Gradio to copy.
        shown = gr.State([])

        def respond(
            message: str,
            chat: Any,
            turns: Any,
            kept: Any,
            area: str,
            chosen: Any,
            answer_language: str,
            request: gr.Request,
        ) -> Iterator[tuple[Any, ...]]:
            session = getattr(request, "session_hash", None) or ""
            for step in chat_app.respond(
                message, chat, turns, kept, area, chosen, answer_language, session
            ):
                yield (step[0], *step)

        def ask_example(
            sample: Any,
            chat: Any,
            turns: Any,
            kept: Any,
            area: str,
            chosen: Any,
            answer_language: str,
            request: gr.Request,
        ) -> Iterator[tuple[Any, ...]]:
            text = str(sample[0]) if isinstance(sample, list) and sample else ""
            yield from respond(text, chat, turns, kept, area, chosen, answer_language, request)

        def briefing(kept: Any, answer_language: str, request: gr.Request) -> tuple[Any, ...]:
            text, md_file, docx_file = chat_app.briefing(
                kept, request_base_url(request), answer_language
            )
            return (
                text,
                gr.File(value=md_file, visible=md_file is not None),
                gr.File(value=docx_file, visible=docx_file is not None),
            )

        # Gradio finds the gr.Request parameter by its annotation, a string under `from
        # __future__ import annotations`: give it the class.
        for fn in (respond, ask_example, briefing):
            fn.__annotations__["request"] = gr.Request

        inputs = [question, shown, history, answers, region, docs, language]
        outputs = [chatbot, shown, history, answers, sources, question, note, viewer]
        # One listener for the button and Enter: while it runs, neither sends again.
        gr.on(
            [send.click, question.submit],
            respond,
            inputs,
            outputs,
            api_name="respond",
            trigger_mode="once",
        )
        for example_set in example_sets:
            example_set.click(
                ask_example,
                [example_set, shown, history, answers, region, docs, language],
                outputs,
                trigger_mode="once",
                api_visibility="undocumented",
            )
        clear.click(lambda: ([], [], [], [], render_sources(None), "", "", ""), None, outputs)
        view_open.click(
            chat_app.view, [view_target, answers], [viewer], api_visibility="undocumented"
        )
        brief_button.click(
            briefing, [answers, language], [brief_md, brief_file_md, brief_file_docx]
        )

        with gr.Tab("Search / 검색"):
            search_box = gr.Textbox(label="Search / 검색", elem_id="search")
            results = gr.HTML()
            search_box.submit(
                lambda q: render_passages(pipeline.search(q[:2000], 8)) if q.strip() else "",
                search_box,
                results,
            )
        with gr.Tab("About / 정보"):
            about = gr.Markdown()
            demo.load(chat_app.about, None, about)
        # Documents added or removed since the app started are listed on the next page load.
        demo.load(lambda: gr.Dropdown(choices=chat_app.document_choices()), None, docs)
    return demo


def build_admin_app(
    settings: Settings | None = None,
    pipeline: Pipeline | None = None,
    upload_root: Path | None = None,
) -> Any:
    """The administration page: upload and remove documents. Mounted at /admin, where only
    administrators (POLICYQA_ADMINS) may log in."""
    import gradio as gr

    pipeline = pipeline or Pipeline(settings or Settings.from_env())
    admin = DocumentAdmin(pipeline, upload_root)

    def upload(files: list[Any] | None, request: gr.Request) -> tuple[str, Any]:
        result = admin.upload(files, getattr(request, "username", None))
        return result, gr.Dropdown(choices=admin.documents(), value=None)

    def remove(doc_id: str, request: gr.Request) -> tuple[str, Any]:
        result = admin.remove(doc_id, getattr(request, "username", None))
        return result, gr.Dropdown(choices=admin.documents(), value=None)

    # Gradio finds the gr.Request parameter by its annotation, which `from __future__ import
    # annotations` turned into a string naming a local import: give it the class.
    upload.__annotations__["request"] = remove.__annotations__["request"] = gr.Request

    with gr.Blocks(title="policyqa administration") as demo:
        gr.Markdown(
            "# policyqa: documents\nUploaded documents are marked as such in citations. / "
            "업로드한 문서는 인용에 업로드 문서로 표시됩니다."
        )
        with gr.Tab("Documents (admin) / 문서 관리"):
            files = gr.File(
                label="Upload PDF, Markdown or text",
                file_count="multiple",
                file_types=list(ALLOWED_UPLOADS),
                elem_id="upload",
            )
            ingest_button = gr.Button("Add to index / 색인에 추가", elem_id="ingest")
            ingest_result = gr.Markdown(elem_id="ingest-result")
            remove_choice = gr.Dropdown(
                admin.documents(), label="Remove document / 문서 삭제", elem_id="remove-choice"
            )
            remove_button = gr.Button("Remove / 삭제", variant="stop", elem_id="remove")
            remove_result = gr.Markdown(elem_id="remove-result")
            ingest_button.click(upload, files, [ingest_result, remove_choice])
            remove_button.click(remove, remove_choice, [remove_result, remove_choice])
        demo.load(lambda: gr.Dropdown(choices=admin.documents()), None, remove_choice)
    return demo


# Bodies of requests other than uploads: a question, a history and filters fit in far less.
MAX_REQUEST_BYTES = 1_000_000
# An upload request may carry this many files of the largest allowed size.
FILES_PER_UPLOAD = 4


# No interactive docs or schema, here or in the mounted Gradio apps: they list every route.
NO_DOCS: dict[str, Any] = {"docs_url": None, "redoc_url": None, "openapi_url": None}


def public_answerer(name: str) -> str:
    """The answerer's name without where it runs (an LLM endpoint's URL is internal)."""
    return name.split("@", 1)[0]


def build_server(settings: Settings | None = None, pipeline: Pipeline | None = None) -> Any:
    """FastAPI app serving the API, the corpus files, the Gradio UI and (with POLICYQA_ADMIN or
    POLICYQA_ADMINS) the administration page at /admin, on one port."""
    import gradio as gr
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import FileResponse, JSONResponse, Response
    from gradio.utils import get_upload_folder
    from starlette.concurrency import run_in_threadpool

    from policyqa.core.settings import SettingsError

    settings = settings or (pipeline.settings if pipeline else Settings.from_env())
    pipeline = pipeline or Pipeline(settings)
    accounts = Accounts(parse_auth(settings.auth), parse_auth(settings.admins, "POLICYQA_ADMINS"))
    admin_on = settings.admin or bool(accounts.admins)
    if admin_on and accounts.users and not accounts.admins:
        raise SettingsError(
            "POLICYQA_ADMIN is on and the app has a login (POLICYQA_AUTH), but no administrator "
            "account: set POLICYQA_ADMINS (user:password) for the people who may upload and "
            "remove documents"
        )
    limiter = LoginLimiter(settings.login_attempts)
    server = FastAPI(title="policyqa", **NO_DOCS)
    gradio_apps: list[Any] = []  # the question app, once mounted: its login cookie counts

    def logged_in(request: Request) -> bool:
        if not accounts.login:
            return True
        if accounts.basic(request.headers.get("authorization", "")) is not None:
            return True
        for app in gradio_apps:
            for kind in ("access-token", "access-token-unsecure"):
                token = request.cookies.get(f"{kind}-{app.cookie_id}")
                if token and app.tokens.get(token) is not None:
                    return True
        return False

    def login_required() -> JSONResponse:
        return JSONResponse(
            {"error": "Login required: log in to the app, or send HTTP Basic credentials."},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="policyqa", charset="UTF-8"'},
        )

    @server.get("/api/health")
    async def health(request: Request) -> JSONResponse:
        if not logged_in(request):
            return login_required()
        try:
            # A real query: a damaged vector index answers counts but fails here.
            await run_in_threadpool(pipeline.search, "health check", 1)
            body = {
                "status": "ok",
                "documents": len(pipeline.store.manifest()),
                "chunks": pipeline.store.count_chunks(),
                "answerer": public_answerer(pipeline.answerer_name()),
            }
        except Exception:
            log.exception("health check failed")
            return JSONResponse(
                {"status": "error", "error": "The index cannot be searched; see the log."},
                status_code=503,
            )
        return JSONResponse(body)

    @server.post("/api/ask")
    async def ask(request: Request) -> JSONResponse:
        if not logged_in(request):
            return login_required()
        try:
            payload = await request.json()
        except Exception:
            return JSONResponse({"error": "the body must be JSON"}, status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("question"), str):
            return JSONResponse({"error": "'question' (a string) is required"}, status_code=400)
        history = payload.get("history") or []
        filters = payload.get("filters") or None
        problem = validate_request(history, filters, pipeline.domain.areas)
        if problem:
            return JSONResponse({"error": problem}, status_code=400)
        try:
            answer = await run_in_threadpool(
                pipeline.ask, payload["question"], history, filters, bool(payload.get("briefing"))
            )
        except AnswerError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception:
            log.exception("api ask failed")
            return JSONResponse({"error": "internal error (logged)"}, status_code=500)
        body = answer.to_json()
        uploaded = UploadLog(settings.home).uploaded()
        for citation in body.get("citations", []):
            record = uploaded.get(citation.get("doc"))
            citation["uploaded"] = (
                {"by": record.get("user"), "at": record.get("at")} if record else None
            )
        if payload.get("briefing"):
            body["briefing"] = pipeline.brief(answer)
        return JSONResponse(body)

    @server.get("/files/{doc_id:path}", response_model=None)
    def files(doc_id: str, request: Request) -> FileResponse | JSONResponse:
        if not logged_in(request):
            return login_required()
        path = corpus_file(settings, pipeline.store.manifest(), doc_id)
        if path is None:
            raise HTTPException(404, "no such document")
        media = "application/pdf" if path.suffix.lower() == ".pdf" else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=media, content_disposition_type="inline")

    page_images = PageImages(settings.home / "pages", settings.page_cache_mb)

    @server.get("/pages/{doc_id:path}", response_model=None)
    def pages(doc_id: str, request: Request, page: int = 1) -> Response | JSONResponse:
        """A page of a corpus PDF as an image, for the citation viewer: the same login and
        path rules as /files."""
        if not logged_in(request):
            return login_required()
        manifest = pipeline.store.manifest()
        path = corpus_file(settings, manifest, doc_id)
        if path is None or not is_paged(doc_id) or not 1 <= page <= manifest[doc_id].pages:
            raise HTTPException(404, "no such page")
        try:
            data = page_images.png(path, manifest[doc_id].file_hash, page)
        except Exception:
            log.exception("rendering %s p.%s failed", doc_id, page)
            raise HTTPException(404, "the page cannot be shown") from None
        return Response(data, media_type="image/png", headers={"Cache-Control": "private"})

    from policyqa.index.store import IndexDamagedError, IndexMismatchError, damaged

    try:  # a damaged vector index opens and counts, but fails here
        pipeline.search("health check", 1)
    except (IndexMismatchError, IndexDamagedError):
        raise
    except Exception as exc:
        raise IndexDamagedError(
            damaged(settings.home / "chroma", f"a test search failed: {type(exc).__name__}")
        ) from exc
    blocked = [str(Path(settings.home).resolve()), str(Path(settings.corpus).resolve())]
    if admin_on:
        admin_demo = build_admin_app(settings, pipeline, Path(get_upload_folder())).queue(
            default_concurrency_limit=1
        )
        gr.mount_gradio_app(
            server,
            admin_demo,
            path="/admin",
            auth=(lambda user, password: accounts.check(user, password, admin=True))
            if accounts.admins
            else None,
            show_error=False,
            css=CSS,
            max_file_size=int(settings.max_file_mb * 1_000_000),
            blocked_paths=blocked,
            footer_links=[],
            app_kwargs=dict(NO_DOCS),  # Gradio adds to it
        )
        guard_files(admin_demo)
    demo = build_app(settings, pipeline).queue(default_concurrency_limit=4)
    gr.mount_gradio_app(
        server,
        demo,
        path="/",
        auth=(lambda user, password: accounts.check(user, password)) if accounts.login else None,
        show_error=False,
        css=CSS,
        js=VIEWER_JS,
        max_file_size=MAX_REQUEST_BYTES,
        blocked_paths=blocked,
        footer_links=[],
        app_kwargs=dict(NO_DOCS),
    )
    guard_files(demo)
    gradio_apps.extend(
        getattr(route, "app", None)
        for route in server.routes
        if getattr(route, "path", None) in ("", "/")
    )
    upload_limit = int(settings.max_file_mb * 1_000_000) * FILES_PER_UPLOAD + MAX_REQUEST_BYTES
    return RequestGuard(server, limiter, MAX_REQUEST_BYTES, upload_limit, upload_prefix="/admin/")


def guard_files(demo: Any) -> None:
    """Turn on Gradio's check of the file paths that requests name.

    Gradio copies any file that a request's data names (a FileData dict, in any component's
    value) into its cache and serves it. `processing_utils._check_allowed` refuses paths outside
    its upload folder, but returns at once while `blocks.has_launched` is false, and only
    `Blocks.launch()` sets it: `mount_gradio_app` does not, so every path was accepted. The flag
    is set here, and a probe makes sure the check now refuses a path outside the upload folder
    (a Gradio that changed how this works stops the app instead of serving files).
    """
    from gradio.context import LocalContext
    from gradio.exceptions import InvalidPathError
    from gradio.processing_utils import _check_allowed

    demo.has_launched = True
    token = LocalContext.blocks.set(demo)
    try:
        _check_allowed(__file__, check_in_upload_folder=True)
    except InvalidPathError:
        return
    finally:
        LocalContext.blocks.reset(token)
    raise RuntimeError(
        "Gradio's file path check is not active; refusing to serve (see ui.guard_files)"
    )


LOOPBACK = ("127.", "localhost", "::1")


def serve(settings: Settings | None = None) -> None:
    import sys

    import uvicorn

    from policyqa.core.settings import SettingsError
    from policyqa.index.store import IndexDamagedError, IndexMismatchError

    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    try:
        settings = settings or Settings.from_env()
        if settings.admin and not settings.admins and not host.startswith(LOOPBACK):
            raise SettingsError(
                f"POLICYQA_ADMIN is on without administrator accounts and the app would serve "
                f"{host}: set POLICYQA_ADMINS (and POLICYQA_AUTH), or serve 127.0.0.1"
            )
        app = build_server(settings)
    except (SettingsError, IndexMismatchError, IndexDamagedError, ValueError, OSError) as exc:
        print(f"policyqa: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"policyqa on http://{host}:{port} (API: /api/ask, /api/health)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
