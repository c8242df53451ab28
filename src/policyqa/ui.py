"""The web app: a Gradio chat with cited answers, plus an HTTP API on the same port.

`build_server()` returns one FastAPI app: `/api/ask`, `/api/health`, `/files/<doc>` (the corpus
PDFs, opened at the cited page) and the Gradio UI at `/`. Per-browser state (conversation, last
answer) lives in `gr.State`, so concurrent users never share a conversation. Document text is
HTML-escaped everywhere it is shown.
"""

from __future__ import annotations

import fnmatch
import html
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

# At module level: FastAPI resolves the route annotations (postponed by __future__) here.
from fastapi import Request

from . import regions
from .answer import MAX_QUESTION_CHARS, Answer, AnswerError
from .brief import brief_docx
from .condense import is_history
from .ingest import IngestLockedError
from .models import Passage
from .pipeline import Pipeline
from .retrieve import is_metadata_key
from .settings import Settings

log = logging.getLogger(__name__)

EXAMPLES = {
    "official": [
        "포괄보조는 2026년에 얼마로 늘어나나요?",
        "Which body approved the blueprint, and when?",
    ],
    "citizen": [
        "춘천 사는데 이 정책이 우리 지역에 뭘 해주나요?",
        "I live in Changwon. Which pole are we in?",
    ],
    "staff": [
        "초광역특별협약은 영어 자료에서 어떻게 번역돼 있나요?",
        "What are the three areas of the blueprint?",
    ],
}
ALLOWED_UPLOADS = (".pdf", ".md", ".markdown", ".txt")
REGION_CHOICES = (
    [("All regions / 전체", "")]
    + [(f"{g.name_en} / {g.name_ko}", g.id) for g in regions.GROUPS.values()]
    + [("Nationwide only / 전국 공통", "nationwide")]
)
CSS = """
.refusal {border-left: 4px solid #d97706; padding-left: .6em}
.cite {border-bottom: 1px solid #e5e7eb; padding: .4em 0}
.cite blockquote {margin: .3em 0 .3em .5em; color: #374151}
.note {color: #6b7280; font-size: .9em}
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
    return f"/files/{url_quote(doc_id)}#page={page}"


def render_answer(answer: Answer, visible_text: str | None = None) -> str:
    """The chat message for an answer: escaped text with [n] markers; refusals look different."""
    text = answer.text if visible_text is None else visible_text
    body = esc(text)
    body = re.sub(r"&#91;(\d+)&#93;", r"<sup>[\1]</sup>", body)
    body = re.sub(r"</sup>\s+(?!<sup>)", "</sup><br>", body)  # one cited sentence per line
    notes = "".join(f"<br><span class='note'>{esc(n)}</span>" for n in answer.notes)
    if not answer.answered:
        head = "문서에 없는 내용" if answer.language == "ko" else "Not in the documents"
        return f"<div class='refusal'><b>⚠ {head}</b><br>{body}{notes}</div>"
    return f"{body}{notes}"


def render_sources(answer: Answer | None) -> str:
    if answer is None:
        return (
            "<p class='note'>Sources of the answer appear here. / "
            "답변의 출처가 여기에 표시됩니다.</p>"
        )
    parts = []
    if answer.citations:
        parts.append("<h3>Sources / 출처</h3>")
        for c in answer.citations:
            where = f"{esc(c.title)}, p. {esc(c.page_label)}"
            section = f"<br><small>{esc(c.section)}</small>" if c.section else ""
            parts.append(
                f"<details class='cite' id='cite-{c.n}'><summary><b>[{c.n}]</b> {where}</summary>"
                f"<small>{esc(c.doc)}</small>{section}<blockquote>{esc(c.quote)}</blockquote>"
                f"<a class='page-link' href='{file_url(c.doc, c.page)}' target='_blank' "
                f"rel='noopener'>Open p. {esc(c.page_label)} / 원문 보기</a></details>"
            )
    if not answer.answered and answer.passages:
        parts.append("<h3>Closest passages / 가장 가까운 구절</h3>")
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
    return (
        f"<div class='cite'><b>{esc(c.title)}</b>, p. {esc(c.page_label)} "
        f"<a class='page-link' href='{file_url(c.doc_id, c.page)}' target='_blank' "
        f"rel='noopener'>open</a><blockquote>{esc(c.text[:400])}</blockquote></div>"
    )


def render_passages(passages: list[Passage]) -> str:
    """Search results (the Search tab); escaped like everything else."""
    if not passages:
        return "_No passage found. Is the index built (`policyqa ingest`)?_"
    return "\n".join(_passage_html(p) for p in passages)


def reveal(text: str) -> Iterator[str]:
    """Word by word prefixes of a verified answer, for streaming it into the chat."""
    words = text.split(" ")
    step = max(1, len(words) // 12)
    for end in range(step, len(words) + step, step):
        yield " ".join(words[:end])


# -- app -----------------------------------------------------------------------------------------


def parse_auth(value: str) -> list[tuple[str, str]]:
    """`user:password[,user2:password2]` or a path to a file with one `user:password` per line."""
    if not value:
        return []
    path = Path(value)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else value.split(",")
    users = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise ValueError("POLICYQA_AUTH entries must look like user:password")
        users.append((user, password))
    return users


class ChatApp:
    """Callbacks of the UI, on one shared pipeline; per-session data comes in as arguments."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self._ingest_lock = threading.Lock()
        self.downloads = Path(tempfile.mkdtemp(prefix="policyqa-briefs-"))

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
        region: str,
        docs: list[str],
        language: str,
    ) -> Iterator[tuple[Any, ...]]:
        chat = list(chat or [])
        history = list(history or [])
        question = (message or "").strip()
        chat.append({"role": "user", "content": esc(question)})
        try:
            stream = self.pipeline.assistant.stream(
                question,
                history,
                self.filters(region, docs),
                language=language or None,
            )
            answer: Answer | None = None
            draft = ""
            chat.append({"role": "assistant", "content": "…"})
            for event in stream:
                if event.answer is not None:
                    answer = event.answer
                elif event.delta:
                    draft += event.delta
                    chat[-1] = {"role": "assistant", "content": esc(draft)}
                    yield chat, history, None, render_sources(None), ""
        except AnswerError as exc:
            _reply(chat, f"<div class='refusal'>{esc(str(exc))}</div>")
            yield chat, history, None, render_sources(None), ""
            return
        except Exception:  # the user sees a message; the stack trace goes to the log
            log.exception("answering failed")
            _reply(
                chat,
                "<div class='refusal'>Something went wrong while answering; the error was "
                "logged. / 답변 중 오류가 발생했습니다.</div>",
            )
            yield chat, history, None, render_sources(None), ""
            return
        assert answer is not None
        if answer.answered:
            for prefix in reveal(answer.text):
                chat[-1] = {"role": "assistant", "content": render_answer(answer, prefix)}
                yield chat, history, None, render_sources(None), ""
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        history = [
            *history,
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]
        yield chat, history, answer, render_sources(answer), ""

    def briefing(self, answer: Answer | None) -> tuple[str, Any, Any]:
        if answer is None:
            return "_Ask a question first. / 먼저 질문해 주세요._", None, None
        markdown = self.pipeline.brief(answer)
        folder = self.downloads / secrets.token_hex(8)
        folder.mkdir(parents=True)
        md_path = folder / "briefing.md"
        md_path.write_text(markdown, encoding="utf-8")
        docx_path = folder / "briefing.docx"
        docx_path.write_bytes(brief_docx(markdown))
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

    # administrator: upload and remove documents ---------------------------------------------
    def upload(self, files: list[Any] | None) -> str:
        if not files:
            return "No file selected."
        corpus = Path(self.settings.corpus)
        corpus.mkdir(parents=True, exist_ok=True)
        limit = int(self.settings.max_file_mb * 1_000_000)
        lines, accepted = [], []
        for item in files:
            source = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
            name = safe_upload_name(source.name)
            if name is None:
                lines.append(f"| {esc(source.name)} | rejected | unsupported file type |")
                continue
            excluded = [g.strip() for g in self.settings.exclude.split(",") if g.strip()]
            if any(fnmatch.fnmatch(name, pattern) for pattern in excluded):
                lines.append(
                    f"| {esc(name)} | rejected | the name matches POLICYQA_EXCLUDE "
                    f"({esc(self.settings.exclude)}), so it would never be indexed; rename it |"
                )
                continue
            size = source.stat().st_size
            if size > limit:
                lines.append(f"| {esc(name)} | rejected | {size / 1e6:.1f} MB is over the limit |")
                continue
            if name.lower().endswith(".pdf") and not source.read_bytes()[:1024].lstrip().startswith(
                b"%PDF"
            ):
                lines.append(f"| {esc(name)} | rejected | not a PDF file |")
                continue
            target = corpus / name
            shutil.copyfile(source, target)
            accepted.append(target)
        if accepted:
            try:
                with self._ingest_lock:
                    report = self.pipeline.ingest(accepted)
            except IngestLockedError:
                for target in accepted:
                    target.unlink(missing_ok=True)
                    lines.append(
                        f"| {esc(target.name)} | not added | another ingest is running; "
                        "try again when it has finished |"
                    )
                return "| File | Result | Reason |\n|---|---|---|\n" + "\n".join(lines)
            self.pipeline.searcher.invalidate()
            rejected = {Path(r.path).name: r.reason for r in report.rejected}
            for target in accepted:
                if target.name in rejected:
                    target.unlink(missing_ok=True)  # keep unreadable files out of the corpus
                    lines.append(
                        f"| {esc(target.name)} | rejected | {esc(rejected[target.name])} |"
                    )
                else:
                    lines.append(f"| {esc(target.name)} | indexed | |")
            lines.append(f"\n{esc(report.summary())}")
        return "| File | Result | Reason |\n|---|---|---|\n" + "\n".join(lines)

    def remove(self, doc_id: str) -> str:
        if not doc_id:
            return "Choose a document."
        if doc_id not in self.pipeline.store.manifest():
            return f"{esc(doc_id)} is not in the index."
        with self._ingest_lock:
            chunks = self.pipeline.store.remove_document(doc_id)
            self.pipeline.store.touch_state()
        corpus = Path(self.settings.corpus).resolve()
        path = (corpus / doc_id).resolve()
        if path.is_file() and path.is_relative_to(corpus):
            # Kept, not deleted: a removed document can be restored by moving it back.
            stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
            archive = Path(self.settings.home) / "removed" / stamp
            archive.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), archive / path.name)
        self.pipeline.searcher.invalidate()
        return (
            f"Removed {esc(doc_id)} ({chunks} chunks). The file was moved to the removed/ folder."
        )


def _reply(chat: list[dict[str, Any]], content: str) -> None:
    """The assistant's message: replaces the '…' placeholder if it is still there."""
    if chat and chat[-1] == {"role": "assistant", "content": "…"}:
        chat[-1] = {"role": "assistant", "content": content}
    else:
        chat.append({"role": "assistant", "content": content})


def validate_request(history: Any, filters: Any) -> str:
    """Why an API request's history or filters are malformed ("" when they are fine)."""
    if not is_history(history):
        return '\'history\' must be a list of {"role", "content"} objects with string content'
    if any(len(t["content"]) > MAX_QUESTION_CHARS for t in history):
        return f"a history turn is too long (the limit is {MAX_QUESTION_CHARS} characters)"
    if filters is None:
        return ""
    if not isinstance(filters, dict):
        return "'filters' must be an object"
    scalar = (str, int, float)
    for key, value in filters.items():
        if not is_metadata_key(key):
            return f"filter key {key!r} is not a metadata field"
        ok = isinstance(value, scalar) and not isinstance(value, bool)
        ok = ok or (
            isinstance(value, list) and bool(value) and all(isinstance(v, scalar) for v in value)
        )
        if not ok:
            return f"filter {key!r} must be a string, a number or a non-empty list of them"
    return ""


def safe_upload_name(name: str) -> str | None:
    """A plain file name (no folders, no traversal, no hidden files) with an allowed type."""
    base = Path(name.replace("\\", "/")).name.strip()
    if base.startswith((".", "_")):
        return None  # hidden and underscore files are skipped by ingest: refuse, do not rename
    base = re.sub(r"[^\w.\-가-힣 ]", "_", base).strip(" .")
    if not base or not base.lower().endswith(ALLOWED_UPLOADS):
        return None
    return base


def build_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> Any:
    """The Gradio Blocks UI (without the HTTP API; see `build_server`)."""
    import gradio as gr

    pipeline = pipeline or Pipeline(settings or Settings.from_env())
    chat_app = ChatApp(pipeline)
    admin = pipeline.settings.admin if settings is None else settings.admin
    documents = sorted(pipeline.store.manifest())

    with gr.Blocks(title="policyqa") as demo:
        gr.Markdown(
            "# policyqa\nAsk about the policy documents in Korean or English. Every answer "
            "quotes its sources. / 한국어나 영어로 질문하세요. 모든 답변은 출처를 인용합니다."
        )
        history = gr.State([])
        last_answer = gr.State(None)
        with gr.Tab("Chat / 대화"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="policyqa", height=460, elem_id="chat")
                with gr.Row():
                    question = gr.Textbox(
                        label="Question / 질문",
                        scale=5,
                        elem_id="question",
                        placeholder="예: 포괄보조는 얼마나 늘어나나요? / "
                        "e.g. What is the blueprint?",
                    )
                    send = gr.Button("Ask / 질문", variant="primary", scale=1, elem_id="ask")
                with gr.Row():
                    region = gr.Dropdown(
                        REGION_CHOICES, value="", label="Region / 지역", elem_id="region"
                    )
                    docs = gr.Dropdown(
                        documents, multiselect=True, label="Documents / 문서", elem_id="docs"
                    )
                    language = gr.Dropdown(
                        [("Auto / 자동", ""), ("한국어", "ko"), ("English", "en")],
                        value="",
                        label="Answer language / 답변 언어",
                        elem_id="language",
                    )
                for persona, examples in EXAMPLES.items():
                    gr.Examples(examples, inputs=question, label=f"Examples: {persona}")
                clear = gr.Button("New conversation / 새 대화", elem_id="clear")
            with gr.Column(scale=2):
                sources = gr.HTML(render_sources(None), elem_id="sources")
                brief_button = gr.Button("Briefing / 브리핑", elem_id="briefing")
                brief_md = gr.Markdown(elem_id="brief")
                with gr.Row():
                    brief_file_md = gr.File(label="briefing.md", elem_id="brief-md")
                    brief_file_docx = gr.File(label="briefing.docx", elem_id="brief-docx")
        # The conversation shown is kept server-side (gr.State) and is never an input: a
        # Chatbot value sent by the browser could name any file (FileData) for Gradio to copy.
        shown = gr.State([])

        def respond(*args: Any) -> Iterator[tuple[Any, ...]]:
            for chat, *rest in chat_app.respond(*args):
                yield (chat, chat, *rest)

        inputs = [question, shown, history, region, docs, language]
        outputs = [chatbot, shown, history, last_answer, sources, question]
        send.click(respond, inputs, outputs)
        question.submit(respond, inputs, outputs)
        clear.click(lambda: ([], [], [], None, render_sources(None), ""), None, outputs)
        brief_button.click(
            chat_app.briefing, [last_answer], [brief_md, brief_file_md, brief_file_docx]
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
        if admin:
            with gr.Tab("Documents (admin) / 문서 관리"):
                upload = gr.File(
                    label="Upload PDF, Markdown or text",
                    file_count="multiple",
                    file_types=list(ALLOWED_UPLOADS),
                    elem_id="upload",
                )
                ingest_button = gr.Button("Add to index / 색인에 추가", elem_id="ingest")
                ingest_result = gr.Markdown(elem_id="ingest-result")
                ingest_button.click(chat_app.upload, upload, ingest_result)
                remove_choice = gr.Dropdown(documents, label="Remove document / 문서 삭제")
                remove_button = gr.Button("Remove / 삭제", variant="stop")
                remove_result = gr.Markdown()
                remove_button.click(chat_app.remove, remove_choice, remove_result)
    return demo


def build_server(settings: Settings | None = None, pipeline: Pipeline | None = None) -> Any:
    """FastAPI app serving the API, the corpus files and the Gradio UI on one port."""
    import gradio as gr
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import FileResponse, JSONResponse

    settings = settings or (pipeline.settings if pipeline else Settings.from_env())
    pipeline = pipeline or Pipeline(settings)
    users = parse_auth(settings.auth)
    server = FastAPI(title="policyqa", docs_url="/api/docs", openapi_url="/api/openapi.json")

    def authorised(request: Request) -> bool:
        if not users:
            return True
        import base64

        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except Exception:
            return False
        return any(
            secrets.compare_digest(user, u) and secrets.compare_digest(password, p)
            for u, p in users
        )

    @server.get("/api/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "documents": len(pipeline.store.manifest()),
            "chunks": pipeline.store.count_chunks(),
            "answerer": pipeline.answerer_name(),
        }

    @server.post("/api/ask")
    async def ask(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse(
                {"error": "login required"}, status_code=401, headers={"WWW-Authenticate": "Basic"}
            )
        try:
            payload = await request.json()
        except Exception:
            return JSONResponse({"error": "the body must be JSON"}, status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("question"), str):
            return JSONResponse({"error": "'question' (a string) is required"}, status_code=400)
        history = payload.get("history") or []
        filters = payload.get("filters") or None
        problem = validate_request(history, filters)
        if problem:
            return JSONResponse({"error": problem}, status_code=400)
        try:
            from starlette.concurrency import run_in_threadpool

            answer = await run_in_threadpool(
                pipeline.ask, payload["question"], history, filters, bool(payload.get("briefing"))
            )
        except AnswerError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception:
            log.exception("api ask failed")
            return JSONResponse({"error": "internal error (logged)"}, status_code=500)
        body = answer.to_json()
        if payload.get("briefing"):
            body["briefing"] = pipeline.brief(answer)
        return JSONResponse(body)

    @server.get("/files/{doc_id:path}")
    def files(doc_id: str, request: Request) -> FileResponse:
        if not authorised(request) and users:
            raise HTTPException(401, "login required")
        manifest = pipeline.store.manifest()
        corpus = Path(settings.corpus).resolve()
        path = (corpus / doc_id).resolve()
        if doc_id not in manifest or not path.is_file() or not path.is_relative_to(corpus):
            raise HTTPException(404, "no such document")
        media = "application/pdf" if path.suffix.lower() == ".pdf" else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=media, content_disposition_type="inline")

    demo = build_app(settings, pipeline).queue(default_concurrency_limit=4)
    mounted = gr.mount_gradio_app(
        server,
        demo,
        path="/",
        auth=users or None,
        show_error=False,
        css=CSS,
        max_file_size=int(settings.max_file_mb * 1_000_000),
        blocked_paths=[str(Path(settings.home).resolve()), str(Path(settings.corpus).resolve())],
    )
    guard_files(demo)
    return mounted


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


def serve(settings: Settings | None = None) -> None:
    import uvicorn

    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    print(f"policyqa on http://{host}:{port} (API: /api/ask, /api/health)")
    uvicorn.run(build_server(settings), host=host, port=port, log_level="warning")
