"""Composers write the answer draft from the passages; the verifier then checks every sentence.

Two kinds, told apart by what they can do rather than by name:
- `ExtractiveComposer` (`quotes_selection`): the answer is the selected sentences, each cited;
  no model, nothing to stream before verification.
- `LLMComposer` (`streams`): a LangChain chat model writes from numbered passages
  (`prompts/answer.md`) and can make a follow-up question self-contained.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from policyqa.answering import prompts
from policyqa.answering.condense import Turn, format_history
from policyqa.answering.sentences import Candidate
from policyqa.core.models import Passage
from policyqa.core.text import collapse, neutralise_markers


class Composer(Protocol):
    name: str
    # The draft is the selected sentences themselves (no text of its own to check first).
    quotes_selection: bool
    # The draft arrives in pieces over time (a model generating).
    streams: bool

    def compose(
        self, question: str, passages: Sequence[Passage], language: str, chosen: Sequence[Candidate]
    ) -> Iterator[str]:
        """Yield the answer text in pieces, sentences ending with [n] passage markers."""
        ...

    def condense(self, question: str, history: Sequence[Turn], language: str) -> str | None:
        """A self-contained follow-up question, or None to leave it to the rules."""
        ...


class ExtractiveComposer:
    """No model: the answer is the selected sentences themselves, each cited."""

    name = "extractive"
    quotes_selection = True
    streams = False

    def compose(
        self, question: str, passages: Sequence[Passage], language: str, chosen: Sequence[Candidate]
    ) -> Iterator[str]:
        for i, cand in enumerate(chosen):
            text = neutralise_markers(collapse(cand.span.text))
            yield ("" if i == 0 else " ") + f"{text} [{cand.passage_index + 1}]"

    def condense(self, question: str, history: Sequence[Turn], language: str) -> str | None:
        return None


class LLMComposer:
    """A LangChain chat model writes the answer from numbered passages (prompts/answer.md)."""

    quotes_selection = False
    streams = True

    def __init__(
        self, chat_model: BaseChatModel, name: str = "llm", max_sentences: int = 4
    ) -> None:
        self.chat_model = chat_model
        self.name = name
        self.max_sentences = max_sentences

    def messages(
        self, question: str, passages: Sequence[Passage], language: str
    ) -> list[BaseMessage]:
        values = {
            "language_name": "in Korean" if language == "ko" else "in English",
            "max_sentences": self.max_sentences,
            "no_answer": prompts.message("no-answer", language),
            "passages": format_passages(passages),
            "question": question,
        }
        return [
            SystemMessage(prompts.render("answer", "system", **values)),
            HumanMessage(prompts.render("answer", "user", **values)),
        ]

    def compose(
        self, question: str, passages: Sequence[Passage], language: str, chosen: Sequence[Candidate]
    ) -> Iterator[str]:
        for chunk in self.chat_model.stream(self.messages(question, passages, language)):
            text = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            if text:
                yield text

    def condense(self, question: str, history: Sequence[Turn], language: str) -> str | None:
        values = {
            "language_name": "Korean" if language == "ko" else "English",
            "history": format_history(history),
            "question": question,
        }
        reply = self.chat_model.invoke(
            [
                SystemMessage(prompts.render("condense", "system", **values)),
                HumanMessage(prompts.render("condense", "user", **values)),
            ]
        )
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        line = text.strip().splitlines()[0].strip() if text.strip() else ""
        return line or question


def format_passages(passages: Sequence[Passage]) -> str:
    blocks = []
    for n, passage in enumerate(passages, start=1):
        c = passage.chunk
        head = f"[{n}] {c.title}, p. {c.page_label}" + (f", {c.section}" if c.section else "")
        # Fenced so that text inside a document reads as quoted data; its own "[n]" cannot pose
        # as a citation marker.
        blocks.append(f"{head}\n<<<\n{neutralise_markers(c.text)}\n>>>")
    return "\n\n".join(blocks)
