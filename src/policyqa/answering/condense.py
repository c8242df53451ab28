"""Follow-up questions made self-contained before retrieval.

Rule-based by default (no model): a question that leans on the conversation ("What about
Gangwon?", "그중 국비는 얼마였고요?", "And what was the title of that report?") is joined with the
previous user question; when both name a region and the follow-up swaps it, the previous
question is rewritten with the new region instead. With an LLM, `prompts/condense.md` does it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

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
_SWAP_EN = re.compile(r"^(?:and |so )?(?:what|how) about\b", re.IGNORECASE)
_SWAP_KO = re.compile(r"(?:은|는)요\??$|도요\??$|는\?$|은\?$|의 경우는")


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


def condense(question: str, history: Sequence[Turn], domain: DomainPack | None = None) -> str:
    """A self-contained question for retrieval; unchanged when it needs no context. With a
    domain, a follow-up that names another place swaps it into the previous question."""
    previous = last_user_question(history)[:2000]  # a turn is held to the question limit
    if not previous or not needs_context(question):
        return question
    new_regions = domain.find_places(question) if domain is not None else []
    old_regions = domain.find_places(previous) if domain is not None else []
    swapping = _SWAP_EN.search(question) or _SWAP_KO.search(question)
    if new_regions and old_regions and swapping:
        rewritten = previous
        for old in sorted(old_regions, key=lambda m: -m.start):
            rewritten = (
                rewritten[: old.start]
                + new_regions[0].mention
                + rewritten[old.start + len(old.mention) :]
            )
        return rewritten
    return f"{previous} {question}"


def format_history(history: Sequence[Turn], limit: int = 6) -> str:
    lines = []
    for turn in list(history)[-limit:]:
        role = "User" if turn.get("role") == "user" else "Assistant"
        lines.append(f"{role}: {turn.get('content', '').strip()}")
    return "\n".join(lines)
