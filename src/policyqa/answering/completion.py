"""Whole sentences from overlapping chunks: a chunk often starts or ends mid-sentence."""

from __future__ import annotations

import dataclasses
import json

from policyqa.core.models import Chunk
from policyqa.core.text import sentence_spans
from policyqa.core.tuning import COMPLETION_EDGE as _EDGE
from policyqa.core.tuning import MAX_COMPLETION as _MAX_COMPLETION


def complete_sentences(chunk: Chunk, previous: Chunk | None, following: Chunk | None) -> Chunk:
    """`chunk` with the sentence it starts in the middle of begun from `previous`, and the one
    it ends in the middle of finished from `following` (where they overlap it); the same
    chunk when neither applies. Outline offsets move with the text."""
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
            for span in sentence_spans(joined):
                if span.start < len(text) < span.end:
                    suffix = joined[len(text) : span.end]
                    break
    if len(prefix) > _MAX_COMPLETION:
        prefix = ""
    if len(suffix) > _MAX_COMPLETION:
        suffix = ""
    if not prefix and not suffix:
        return chunk
    outline = chunk.outline
    if outline and prefix:
        marks = json.loads(outline)
        outline = json.dumps(
            [[m[0] + len(prefix) if m[0] else 0, m[1]] for m in marks], ensure_ascii=False
        )
    return dataclasses.replace(chunk, text=prefix + text + suffix, outline=outline)
