"""Calibration at the edges: `CalibrationStore` keeps what calibration derived from an index
with it (term tables, match levels, counterparts), and `refresh` measures a searcher's index
with the pure functions of `calibration`."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.core.language import other_language
from policyqa.core.text import sentence_spans
from policyqa.core.tuning import COUNTERPART_SAMPLE
from policyqa.retrieval.calibration import (
    PSEUDO_SEED,
    Calibration,
    ChunkView,
    TermTable,
    build_term_tables,
    counterpart_share,
    match_level,
    pseudo_questions,
)

log = logging.getLogger(__name__)


# -- storage ----------------------------------------------------------------------------------


class CalibrationStore:
    """What calibration derived from an index, under `directory` (per collection, beside the
    lexical cache): `terms-<language>.npz` and `calibration.json`. Derived data: a missing or
    unreadable file only means the defaults are used until the next ingest recomputes it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _terms_path(self, language: str) -> Path:
        return self.directory / f"terms-{language}.npz"

    def load_terms(self) -> dict[str, TermTable]:
        tables: dict[str, TermTable] = {}
        for language in ("ko", "en"):
            path = self._terms_path(language)
            if not path.exists():
                continue
            try:
                with np.load(path, allow_pickle=False) as data:
                    tables[language] = TermTable(
                        language,
                        tuple(str(t) for t in data["tokens"]),
                        tuple(str(s) for s in data["surfaces"]),
                        np.asarray(data["vectors"], dtype=np.float32),
                    )
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable term table %s: %s", path, exc)
        return tables

    def save_terms(self, tables: Mapping[str, TermTable]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for language, table in tables.items():
            path = self._terms_path(language)
            tmp = path.with_name(f".{path.name}.tmp.npz")
            np.savez(
                tmp,
                tokens=np.array(table.tokens, dtype=str),
                surfaces=np.array(table.surfaces, dtype=str),
                # half precision: a similarity needs no more, and the file is half the size
                vectors=table.vectors.astype(np.float16),
            )
            tmp.replace(path)

    def load(self) -> Calibration | None:
        path = self.directory / "calibration.json"
        if not path.exists():
            return None
        try:
            return Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable calibration %s: %s", path, exc)
            return None

    def save(self, calibration: Calibration) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / "calibration.json"
        tmp = path.with_name(".calibration.json.tmp")
        tmp.write_text(json.dumps(calibration.to_json(), indent=1), encoding="utf-8")
        tmp.replace(path)


# -- the adapter: calibrate a searcher's index ------------------------------------------------


def refresh(searcher: Any, store: CalibrationStore, force: bool = False) -> Calibration:
    """Calibrate the index `searcher` reads (a `retrieve.HybridSearcher`), unless the stored
    calibration is for its current state; store it and hand it to the searcher. Term vectors of
    words already in the stored tables are reused, so after an ingest only new words are
    embedded."""
    state = searcher.lexical()
    stored = store.load()
    if stored is not None and stored.token == state.token and not force:
        searcher.use_calibration(stored, store.load_terms())
        return stored
    started = time.perf_counter()
    multilingual = searcher.multilingual_encoder()
    if multilingual is None:
        raise ValueError("calibration needs an embedder that covers Korean and English")
    tokenizer = searcher.tokenizer

    def stem(word: str) -> str | None:
        tokens = tokenizer.tokenize(word)
        return tokens[0] if len(tokens) == 1 else None

    tables = build_term_tables(
        state.index.document_frequency(),
        [c.text for c in state.chunks if c.language in ("en", "mixed")],
        stem,
        multilingual.embed_documents,
        known=store.load_terms(),
    )
    store.save_terms(tables)
    questions = pseudo_questions(
        [ChunkView(c.id, (c.doc_id, c.page), c.language, c.text) for c in state.chunks],
        lambda text: [span.text for span in sentence_spans(text)],
    )
    levels: dict[tuple[str, str], float] = {}
    for spec, embeddings in searcher.embedders:
        for language in ("ko", "en"):
            asked = [q for q in questions if q.language == language and spec.covers(language)]
            if not asked:
                continue
            vectors = embeddings.embed_documents([q.text for q in asked])
            best = []
            for question, vector in zip(asked, vectors, strict=True):
                hits = searcher.store.query(spec, list(vector), 11, None)
                best.append(max((v for cid, v in hits if cid != question.source), default=0.0))
            levels[(spec.slug, language)] = match_level(best)
    counterparts = _counterparts(searcher, state.chunks)
    calibration = Calibration(
        token=state.token,
        dense_levels=levels,
        counterparts=counterparts,
        questions={lang: sum(q.language == lang for q in questions) for lang in ("ko", "en")},
        terms={lang: len(t) for lang, t in tables.items()},
        seconds=round(time.perf_counter() - started, 2),
    )
    store.save(calibration)
    searcher.use_calibration(calibration, tables)
    log.info(
        "calibrated in %.1f s: %s pseudo-questions, term tables %s, match levels %s, "
        "counterparts %s",
        calibration.seconds,
        calibration.questions,
        calibration.terms,
        levels,
        counterparts,
    )
    return calibration


def _counterparts(searcher: Any, chunks: Sequence[Any]) -> dict[str, float]:
    """Per language, the share of a seeded sample of its chunks that have a counterpart in the
    other language (the first embedder's vectors; one filtered vector query per sampled chunk)."""
    spec = searcher.embedders[0][0]
    rng = random.Random(PSEUDO_SEED)
    out: dict[str, float] = {}
    by_language = {lang: [c for c in chunks if c.language == lang] for lang in ("ko", "en")}
    for language, own in by_language.items():
        other = other_language(language)
        if not own or not by_language[other]:
            continue
        sample = rng.sample(own, min(COUNTERPART_SAMPLE, len(own)))
        vectors = searcher.store.vectors_by_hash(spec, [c.content_hash for c in sample])
        best = []
        for chunk in sample:
            vector = vectors.get(chunk.content_hash)
            if vector is not None:
                hits = searcher.store.query(spec, vector, 1, {"language": other})
                best.append(hits[0][1] if hits else 0.0)
        out[language] = round(counterpart_share(best), 3)
    return out
