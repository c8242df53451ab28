"""Follow-up questions made self-contained before retrieval.

Rule-based by default (no model): a question that leans on the conversation ("What about
Gangwon?", "그중 국비는 얼마였고요?", "교통은요?") inherits the parts of the conversation's subject
it does not replace (`conversation`): a follow-up that only names another place or year is
the previous question with it swapped in; one with a focus of its own is that focus with the
places, programme, periods and way of asking of the conversation. With an LLM,
`prompts/condense.md` writes the question (the subject is still tracked by rule).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from policyqa.answering.conversation import ConversationState, next_state, replay
from policyqa.core.language import is_korean
from policyqa.domain import DomainPack

Turn = Mapping[str, str]  # {"role": "user" | "assistant", "content": "..."}

_EN_CUES = re.compile(
    r"^(?:and|so|but|also|then|what about|how about|and what|what of|same for|ok(?:ay)?|"
    r"why|which of|what else)\b|\b(?:it|its|that|those|these|they|them|there|this one|the same)\b",
    re.IGNORECASE,
)
_KO_CUES = re.compile(
    r"^(?:그럼|그러면|그리고|그건|그거|그게|그중|그 중|그때|거기|그곳|그래서|또|"
    r"그 밖에|그밖에|나머지)|(?:그\s?(?:법안|보고서|회의|계획|사업|지역|돈|금액|기관|날|때)|"
    r"거기|그중|저기|이거|그거|해당)"
)


def is_history(turns: object) -> bool:
    """A conversation as the CLI and the API accept it: a list of {role, content} objects with
    string content."""
    return isinstance(turns, list) and all(
        isinstance(t, dict) and isinstance(t.get("content"), str) for t in turns
    )


def last_user_question(history: Sequence[Turn]) -> str:
    for turn in reversed(history):
        if turn.get("role") == "user" and turn.get("content", "").strip():
            return turn["content"].strip()
    return ""


def needs_context(question: str) -> bool:
    words = question.split()
    if is_korean(question):
        return bool(_KO_CUES.search(question)) or len(question.replace(" ", "")) <= 12
    return bool(_EN_CUES.search(question)) or len(words) <= 4


def user_questions(history: Sequence[Turn]) -> list[str]:
    """The user's questions of a conversation, in order (each held to the question limit)."""
    return [
        turn["content"].strip()[:2000]
        for turn in history
        if turn.get("role") == "user" and turn.get("content", "").strip()
    ]


def condense(question: str, history: Sequence[Turn], domain: DomainPack | None = None) -> str:
    """A self-contained question for retrieval; unchanged when it needs no context. The
    conversation's subject is followed over every earlier question (`conversation`): a
    follow-up keeps the places, programme, periods and kind of detail it does not replace."""
    return follow_up(question, history, domain).standalone


def follow_up(
    question: str,
    history: Sequence[Turn],
    domain: DomainPack | None = None,
    documents: Sequence[str] = (),
) -> ConversationState:
    """The conversation's state after `question`, from the user turns of `history`."""
    state = replay(user_questions(history), domain)
    return next_state(question, state, domain, documents=documents)


def format_history(history: Sequence[Turn], limit: int = 6) -> str:
    lines = []
    for turn in list(history)[-limit:]:
        role = "User" if turn.get("role") == "user" else "Assistant"
        lines.append(f"{role}: {turn.get('content', '').strip()}")
    return "\n".join(lines)
