"""What the answering stage hands to its callers: an `Answer`, streamed as `AnswerEvent`s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policyqa.answering.conversation import ConversationState
from policyqa.answering.verify import CheckedSentence, Citation
from policyqa.core.models import Passage
from policyqa.core.tuning import MAX_QUESTION_CHARS as MAX_QUESTION_CHARS


class AnswerError(ValueError):
    """The question cannot be asked as given (empty, too long); the message says why."""


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    answered: bool
    language: str
    citations: list[Citation] = field(default_factory=list)
    sentences: list[CheckedSentence] = field(default_factory=list)  # shown, each cited
    passages: list[Passage] = field(default_factory=list)
    unsupported: list[CheckedSentence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    answerer: str = "extractive"
    support: float = 0.0
    # why not answered: "not-found", "not-specified", "no-detail", "unverified"
    refusal: str = ""
    latency_ms: float = 0.0
    # The conversation's subject after this question (what a follow-up will inherit).
    conversation: ConversationState = field(default_factory=ConversationState)

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "answered": self.answered,
            "citations": [c.to_json() for c in self.citations],
            "language": self.language,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "subject": self.conversation.to_json(),
            "notes": self.notes,
            "regions": self.regions,
            "unsupported": [{"text": s.text, "reason": s.reason} for s in self.unsupported],
            "closest": [
                {
                    "doc": p.chunk.doc_id,
                    "page": p.chunk.page,
                    "page_label": p.chunk.page_label,
                    "title": p.chunk.title,
                    "text": p.chunk.text,
                }
                for p in self.passages[:3]
            ]
            if not self.answered
            else [],
            "answerer": self.answerer,
            "refusal": self.refusal,
            "support": round(self.support, 3),
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass
class AnswerEvent:
    """Streaming: `delta` text that has passed verification, then one event with the `answer`."""

    delta: str = ""
    answer: Answer | None = None
