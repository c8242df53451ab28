"""Gradio app: search the indexed documents and read the cited passages.

Retrieval only for now; the chat with composed answers builds on this (issue 5).
"""

from __future__ import annotations

import html
from typing import Any

from .models import Passage
from .pipeline import Pipeline
from .settings import Settings

EXAMPLES = [
    "강원특별자치도는 언제 출범했나요?",
    "포괄보조는 얼마나 늘어나나요?",
    "How much will block grants grow in 2026?",
    "What is the 60-minute living sphere?",
]


def render_passages(passages: list[Passage]) -> str:
    """Markdown for the results; document text is escaped, never rendered as markup."""
    if not passages:
        return "_No passage found. Is the index built (`policyqa ingest`)?_"
    parts = []
    for p in passages:
        c = p.chunk
        where = (
            f"{html.escape(c.title)} — `{html.escape(c.doc_id)}`, p. {html.escape(c.page_label)}"
        )
        section = f"<br><small>{html.escape(c.section)}</small>" if c.section else ""
        text = html.escape(c.text).replace("\n", "<br>")
        parts.append(f"**[{p.rank}]** {where} (score {p.score:.3f}){section}\n\n> {text}\n")
    return "\n".join(parts)


def build_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> Any:
    import gradio as gr

    pipeline = pipeline or Pipeline(settings or Settings.from_env())
    documents = sorted(pipeline.store.manifest())

    def search(question: str, k: float, doc: str, language: str) -> str:
        filters: dict[str, Any] = {}
        if doc and doc != "(all)":
            filters["doc_id"] = doc
        if language and language != "(all)":
            filters["language"] = language
        question = (question or "").strip()
        if not question:
            return "_Type a question._"
        return render_passages(pipeline.search(question[:2000], int(k), filters or None))

    with gr.Blocks(title="policyqa") as demo:
        gr.Markdown("# policyqa\nSearch the policy documents (Korean and English).")
        with gr.Row():
            question = gr.Textbox(label="Question / 질문", scale=4)
            button = gr.Button("Search / 검색", variant="primary", scale=1)
        with gr.Row():
            k = gr.Slider(1, 20, value=pipeline.settings.top_k, step=1, label="Passages")
            doc = gr.Dropdown(["(all)", *documents], value="(all)", label="Document")
            language = gr.Dropdown(["(all)", "ko", "en"], value="(all)", label="Passage language")
        results = gr.Markdown()
        gr.Examples(EXAMPLES, inputs=question)
        button.click(search, [question, k, doc, language], results)
        question.submit(search, [question, k, doc, language], results)
    return demo
