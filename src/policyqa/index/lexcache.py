"""The lexical side's per-chunk analyses (tokens, glossed term pairs, areas), cached on disk by
content hash so that restarts and index changes only analyse new text."""

from __future__ import annotations

import logging
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyqa.core.models import Chunk
from policyqa.index.glosses import TermPair, mine_term_pairs
from policyqa.index.lexical import Tokenizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkAnalysis:
    """What the lexical side derives from one chunk, cached by its content hash (which covers
    title, section and text): BM25 tokens, glossed term pairs, the domain areas it is about."""

    tokens: list[str]
    pairs: tuple[TermPair, ...]
    regions: frozenset[str]


class LexicalCache:
    """Chunk analyses per content hash, kept on disk so that restarts and index changes only
    analyse new text (Kiwi, gloss mining and the area scan are the costly parts). The areas
    depend on the domain pack: a cache file serves one domain."""

    # 3: tokens are shared string objects, so the pickle stores each once. 4: acronyms keep
    # their capitals ("RISE"); older files hold other tokens and are analysed again.
    VERSION = 4

    def __init__(
        self, path: Path | None, areas_of: Callable[[Chunk], frozenset[str]] | None = None
    ) -> None:
        self.path = path
        self.areas_of = areas_of or (lambda chunk: frozenset())
        self._entries: dict[str, ChunkAnalysis] = {}
        if path is not None:
            with _SAVES_LOCK:
                _wait_for_save(path)
        if path is not None and path.exists():
            try:
                with path.open("rb") as handle:
                    loaded = pickle.load(handle)
                version = loaded.get("version") if isinstance(loaded, dict) else None
                if version == self.VERSION:
                    self._entries = {h: _interned(a) for h, a in loaded["entries"].items()}
            except Exception as exc:  # a damaged cache only costs a re-analysis
                log.warning("ignoring unreadable lexical cache %s: %s", path, exc)

    def get(self, content_hash: str) -> ChunkAnalysis | None:
        return self._entries.get(content_hash)

    def analyses(self, chunks: Sequence[Chunk], tokenizer: Tokenizer) -> list[ChunkAnalysis]:
        missing = [c for c in chunks if c.content_hash not in self._entries]
        if missing:
            token_lists = tokenizer.tokenize_many([c.context_text for c in missing])
            for chunk, tokens in zip(missing, token_lists, strict=True):
                pairs = tuple(mine_term_pairs(chunk.text))
                self._entries[chunk.content_hash] = _interned(
                    ChunkAnalysis(tokens, pairs, self.areas_of(chunk))
                )
            self._save({c.content_hash for c in chunks})
        return [self._entries[c.content_hash] for c in chunks]

    def _save(self, live: set[str]) -> None:
        self._entries = {h: a for h, a in self._entries.items() if h in live}
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        # Writing 100k entries takes seconds: a background thread does it, so a search after
        # an ingest does not wait. Not a daemon, so the process finishes the write before it
        # exits; a reader of the same file waits for it (`_wait_for_save`).
        payload = {"version": self.VERSION, "entries": dict(self._entries)}
        thread = threading.Thread(target=_write_cache, args=(self.path, payload))
        with _SAVES_LOCK:
            _wait_for_save(self.path)
            _SAVES[self.path] = thread
            thread.start()


def _interned(analysis: ChunkAnalysis) -> ChunkAnalysis:
    """The analysis with its tokens interned: each chunk's tokens are separate string objects
    (from Kiwi or from unpickling), about 300 MB at 100k chunks where the vocabulary needs a
    few MB. The tokens list is replaced in place (the analysis is frozen, its list is not)."""
    analysis.tokens[:] = [sys.intern(t) for t in analysis.tokens]
    return analysis


_SAVES: dict[Path, threading.Thread] = {}
_SAVES_LOCK = threading.Lock()


def _wait_for_save(path: Path) -> None:
    pending = _SAVES.pop(path, None)
    if pending is not None:
        pending.join()


def _write_cache(path: Path, payload: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError as exc:  # a cache that cannot be written only costs a re-analysis later
        log.warning("could not write the lexical cache %s: %s", path, exc)
