"""The lexical side's per-chunk analyses (tokens, glossed term pairs, areas), cached on disk by
content hash so that restarts and index changes only analyse new text."""

from __future__ import annotations

import json
import logging
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

    # 3: tokens are shared string objects. 4: acronyms keep their capitals ("RISE"). 5: JSON
    # lines instead of a pickle, which would run any code a planted file holds. Files of other
    # versions are analysed again.
    VERSION = 5

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
                self._entries = _read_cache(path, self.VERSION)
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
    (from Kiwi or from the cache file), about 300 MB at 100k chunks where the vocabulary needs a
    few MB. The tokens list is replaced in place (the analysis is frozen, its list is not)."""
    analysis.tokens[:] = [sys.intern(t) for t in analysis.tokens]
    return analysis


_SAVES: dict[Path, threading.Thread] = {}
_SAVES_LOCK = threading.Lock()


def _wait_for_save(path: Path) -> None:
    pending = _SAVES.pop(path, None)
    if pending is not None:
        pending.join()


def _read_cache(path: Path, version: int) -> dict[str, ChunkAnalysis]:
    """A header line `{"version": n}`, then one `[hash, tokens, pairs, areas]` per line. Data
    only: a file of another version or shape is ignored."""
    entries: dict[str, ChunkAnalysis] = {}
    with path.open(encoding="utf-8") as handle:
        header = json.loads(handle.readline() or "{}")
        if not isinstance(header, dict) or header.get("version") != version:
            return entries
        for line in handle:
            key, tokens, pairs, named = json.loads(line)
            analysis = ChunkAnalysis(
                [str(t) for t in tokens],
                tuple(TermPair(str(ko), str(en), str(source)) for ko, en, source in pairs),
                frozenset(str(r) for r in named),
            )
            entries[str(key)] = _interned(analysis)
    return entries


def _write_cache(path: Path, payload: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps({"version": payload["version"]}) + "\n")
            for key, a in payload["entries"].items():
                pairs = [[p.ko, p.en, p.source] for p in a.pairs]
                row = [key, a.tokens, pairs, sorted(a.regions)]
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(path)
    except OSError as exc:  # a cache that cannot be written only costs a re-analysis later
        log.warning("could not write the lexical cache %s: %s", path, exc)
