"""The chat UI's callbacks (`ChatApp`): answering with streaming, the citation viewer, the
briefing download and the About tab, on one shared pipeline."""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from policyqa.answering import prompts
from policyqa.answering.answer import Answer, AnswerError
from policyqa.answering.brief import brief_docx, brief_markdown
from policyqa.app.admin import UploadLog
from policyqa.app.render import (
    esc,
    in_language,
    keep,
    render_answer,
    render_sources,
    render_viewer,
    reveal,
)
from policyqa.app.viewer import PageImages, passage_in_context
from policyqa.core.labels import is_paged
from policyqa.core.language import detect_language
from policyqa.core.models import Filters
from policyqa.core.settings import Settings
from policyqa.core.text import clean_question
from policyqa.core.tuning import MAX_KEPT_ANSWERS, MAX_QUESTION_CHARS
from policyqa.ingest.load import decode_text
from policyqa.pipeline import Pipeline

log = logging.getLogger(__name__)


def corpus_file(settings: Settings, manifest: Collection[str], doc_id: str) -> Path | None:
    """The file of an indexed document, inside the corpus folder; None for anything else."""
    if "\x00" in doc_id or doc_id not in manifest:
        return None
    corpus = Path(settings.corpus).resolve()
    path = (corpus / doc_id).resolve()
    if not path.is_file() or not path.is_relative_to(corpus):
        return None
    return path


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

    def filters(self, region: str, docs: Sequence[str] | None) -> Filters | None:
        filters: dict[str, str | list[str]] = {}
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
                in_language(language, "_Ask a question first._", "_먼저 질문해 주세요._"),
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
