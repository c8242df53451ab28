"""The web app: a Gradio chat with cited answers, plus an HTTP API on the same port.

`build_server()` returns one FastAPI app: `/api/ask`, `/api/health`, `/files/<doc>` (the corpus
PDFs, opened at the cited page) and the Gradio UI at `/`. Per-browser state (conversation, last
answer) lives in `gr.State`, so concurrent users never share a conversation. Document text is
HTML-escaped everywhere it is shown.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
import secrets
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

# At module level: FastAPI resolves the route annotations (postponed by __future__) here.
from fastapi import Request

from policyqa.answering.answer import MAX_QUESTION_CHARS, Answer, AnswerError
from policyqa.answering.brief import brief_docx
from policyqa.answering.condense import is_history
from policyqa.app.admin import ALLOWED_UPLOADS, DocumentAdmin, UploadLog
from policyqa.app.auth import Accounts, LoginLimiter, parse_auth
from policyqa.app.limits import RequestGuard
from policyqa.core.models import Passage
from policyqa.core.settings import Settings
from policyqa.domain import DomainPack
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
.cite {border-bottom: 1px solid #e5e7eb; padding: .4em 0}
.cite blockquote {margin: .3em 0 .3em .5em; color: #374151}
.note {color: #6b7280; font-size: .9em}
.uploaded {color: #b45309}
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


def render_sources(
    answer: Answer | None, uploaded: Mapping[str, Mapping[str, Any]] | None = None
) -> str:
    """The sources panel. `uploaded`: documents added through the admin page (doc id -> who and
    when), marked as such so that a reader can tell them from the curated corpus."""
    uploaded = uploaded or {}
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
            origin = ""
            if c.doc in uploaded:
                record = uploaded[c.doc]
                origin = (
                    f"<br><small class='uploaded'>Uploaded by {esc(str(record.get('user', '')))} "
                    f"on {esc(str(record.get('at', ''))[:10])}, not part of the original corpus / "
                    "업로드된 문서</small>"
                )
            parts.append(
                f"<details class='cite' id='cite-{c.n}'><summary><b>[{c.n}]</b> {where}</summary>"
                f"<small>{esc(c.doc)}</small>{origin}{section}"
                f"<blockquote>{esc(c.quote)}</blockquote>"
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


class ChatApp:
    """Callbacks of the UI, on one shared pipeline; per-session data comes in as arguments."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.uploads = UploadLog(self.settings.home)
        self.downloads = Path(tempfile.mkdtemp(prefix="policyqa-briefs-"))

    def documents(self) -> list[str]:
        return sorted(self.pipeline.store.manifest())

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
        yield chat, history, answer, render_sources(answer, self.uploads.uploaded()), ""

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


def _reply(chat: list[dict[str, Any]], content: str) -> None:
    """The assistant's message: replaces the '…' placeholder if it is still there."""
    if chat and chat[-1] == {"role": "assistant", "content": "…"}:
        chat[-1] = {"role": "assistant", "content": content}
    else:
        chat.append({"role": "assistant", "content": content})


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
    documents = chat_app.documents()

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
                        region_choices(pipeline.domain),
                        value="",
                        label="Region / 지역",
                        elem_id="region",
                        visible=bool(pipeline.domain.areas),
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
                for persona, examples in pipeline.domain.examples.items():
                    gr.Examples(list(examples), inputs=question, label=f"Examples: {persona}")
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
        # Documents added or removed since the app started are listed on the next page load.
        demo.load(lambda: gr.Dropdown(choices=chat_app.documents()), None, docs)
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
    from fastapi.responses import FileResponse, JSONResponse
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
        if "\x00" in doc_id:
            raise HTTPException(404, "no such document")
        manifest = pipeline.store.manifest()
        corpus = Path(settings.corpus).resolve()
        path = (corpus / doc_id).resolve()
        if doc_id not in manifest or not path.is_file() or not path.is_relative_to(corpus):
            raise HTTPException(404, "no such document")
        media = "application/pdf" if path.suffix.lower() == ".pdf" else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=media, content_disposition_type="inline")

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
