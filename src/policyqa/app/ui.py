"""The Gradio pages: the question app (chat, citation viewer, sources, briefing, filters,
examples, search, about) and the administration page; `ChatApp` answers their events."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from policyqa.app.admin import ALLOWED_UPLOADS, DocumentAdmin
from policyqa.app.chat import ChatApp
from policyqa.app.render import render_passages, render_sources
from policyqa.core.settings import Settings
from policyqa.core.tuning import MAX_QUESTION_CHARS
from policyqa.domain import DomainPack
from policyqa.pipeline import Pipeline
from policyqa.retrieval.filters import NATIONWIDE


def region_choices(domain: DomainPack) -> list[tuple[str, str]]:
    """The region facet: every area of the domain pack, and the passages naming none."""
    return (
        [("All regions / 전체", "")]
        + [(f"{a.name_en} / {a.name_ko}", a.id) for a in domain.areas.values()]
        + [("Nationwide only / 전국 공통", NATIONWIDE)]
    )


def request_base_url(request: Any) -> str:
    """The app's address as the browser reached it, for links in downloaded briefings."""
    headers = getattr(request, "headers", None) or {}
    host = headers.get("x-forwarded-host") or headers.get("host") or ""
    if not host or not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host):
        return ""
    scheme = headers.get("x-forwarded-proto") or "http"
    return f"{'https' if scheme == 'https' else 'http'}://{host}"


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
