"""Whole sentences from overlapping chunks: a chunk often starts or ends mid-sentence."""

from __future__ import annotations

import dataclasses
import json

from policyqa.answering.sentences import is_list_item
from policyqa.core.models import Chunk
from policyqa.core.text import Span, sentence_spans
from policyqa.core.tuning import COMPLETION_EDGE as _EDGE
from policyqa.core.tuning import LIST_BLOCK_CHARS
from policyqa.core.tuning import MAX_COMPLETION as _MAX_COMPLETION


def complete_sentences(chunk: Chunk, previous: Chunk | None, following: Chunk | None) -> Chunk:
    """`chunk` with the sentence it starts in the middle of begun from `previous`, and the one
    it ends in the middle of finished from `following` (where they overlap it), or, when it
    ends with a lead-in ("... meets the following criteria:"), with the list items that
    follow it there; the same chunk when none applies. Outline offsets move with the text."""
    prefix = suffix = ""
    text = chunk.text
    if previous is not None and len(text) >= _EDGE:
        at = previous.text.rfind(text[:_EDGE])
        if at > 0:
            joined = previous.text[:at] + text
            for span in sentence_spans(joined):
                if span.start < at < span.end:
                    prefix = joined[span.start : at]
                    break
    if following is not None and len(text) >= _EDGE:
        at = following.text.find(text[-_EDGE:])
        if at >= 0:
            joined = text + following.text[at + _EDGE :]
            spans = sentence_spans(joined)
            for span in spans:
                if span.start < len(text) < span.end:
                    suffix = joined[len(text) : span.end]
                    break
            if len(suffix) > _MAX_COMPLETION:
                suffix = ""
            suffix += _introduced_items(joined, len(text) + len(suffix), spans)
    if len(prefix) > _MAX_COMPLETION:
        prefix = ""
    if not prefix and not suffix:
        return chunk
    outline = chunk.outline
    if outline and prefix:
        marks = json.loads(outline)
        outline = json.dumps(
            [[m[0] + len(prefix) if m[0] else 0, m[1]] for m in marks], ensure_ascii=False
        )
    return dataclasses.replace(chunk, text=prefix + text + suffix, outline=outline)


def _introduced_items(joined: str, end: int, spans: list[Span]) -> str:
    """The list items (as many as fit in LIST_BLOCK_CHARS) that follow in `joined` the
    sentence ending at `end` when that sentence ends with a colon; "" otherwise."""
    lead = next((s for s in spans if s.end == end), None)
    if lead is None or not lead.text.rstrip().endswith((":", "：")):
        return ""
    stop = end
    for span in spans:
        if span.start < end:
            continue
        if joined[stop : span.start].strip() or not is_list_item(span.text):
            break
        if stop > end and span.end - end > LIST_BLOCK_CHARS:
            break
        stop = span.end
    return joined[end:stop]
