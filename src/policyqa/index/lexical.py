"""Lexical retrieval: BM25 (bm25s) over Kiwi morphemes for Korean, stems for English.

Korean text is analysed with Kiwi and keeps content morphemes (nouns, verb and adjective
stems, roots, numbers, foreign words); Latin-script words are lower-cased, stop words dropped
and stemmed (Snowball). Long Korean compound nouns also add their character bigrams, so a query
for "특별협약" finds "초광역특별협약".
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.core.memo import BoundedCache
from policyqa.core.text import fold_width
from policyqa.core.tuning import ACRONYM_LETTERS

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’\-]*|\d+(?:[.,]\d+)*")
_KEEP_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG", "W_")
_STRIP = ".,;:!?()[]{}\"'`’“”%·-"


def _word_list(name: str) -> frozenset[str]:
    """One word a line from `index/data/<name>`; `#` starts a comment line."""
    text = (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


ENGLISH_STOP_WORDS = _word_list("english_stop_words.txt")
# Words that carry the form of a question, not its subject (after tokenisation: Kiwi lemmas,
# English stems). They are left out when measuring how much of a question the documents cover.
QUESTION_WORDS = _word_list("question_words.txt")


@functools.cache
def shared_kiwi() -> Any:
    """One Kiwi per process: loading its model takes about a second."""
    from kiwipiepy import Kiwi

    return Kiwi()


def _acronym_length(word: str) -> bool:
    """Letters only, and no more of them than an acronym has: written in capitals, such a word
    is kept as itself."""
    return 2 <= len(word) <= ACRONYM_LETTERS and word.isalpha()


def other_number(word: str) -> str:
    """An English noun's plural if it reads as a singular, else its singular ("sheet" <->
    "sheets", "tax" <-> "taxes", "loss" <-> "losses", "entry" <-> "entries"), in lower case;
    "" where no plural rule fits ("gas", "status": an "s" that is not a plural's). A wrong
    guess ("series" -> "sery") costs nothing: a form counts only where the index holds it."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith(("ss", "x", "ch", "sh", "z")):
        return word + "es"
    if word.endswith(("us", "is", "as")):
        return ""
    if word.endswith("s"):
        return word[:-1]
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


class Tokenizer:
    """Language-aware tokens for BM25. Kiwi loads on first Korean text, once per process."""

    def __init__(self, bigrams: bool = True) -> None:
        self._kiwi: Any = None
        self._stemmer: Any = None
        self._lock = threading.Lock()
        self._recent: BoundedCache[str, list[Any]] = BoundedCache(256)
        self.bigrams = bigrams

    @property
    def kiwi(self) -> Any:
        with self._lock:
            if self._kiwi is None:
                self._kiwi = shared_kiwi()
            return self._kiwi

    def _stem(self, word: str) -> str:
        if self._stemmer is None:
            import Stemmer

            self._stemmer = Stemmer.Stemmer("english")
        return str(self._stemmer.stemWord(word))

    def _latin(self, word: str) -> str | None:
        written = word.strip(_STRIP)
        word = written.lower().replace("’", "'")
        if not word or word in ENGLISH_STOP_WORDS:
            return None
        if _acronym_length(written) and written.isupper():
            # An acronym stays itself: "RISE" (a programme) is not "rising", "CARE" not "care".
            return written
        if word[0].isdigit():
            return word.replace(",", "")
        return self._stem(word)

    def capitalised_forms(self, text: str) -> list[str]:
        """The tokens a question's words take where a document writes them in capitals: an
        all-capital word of a document stays itself (an acronym), so "cash flow" would never
        meet a heading's "CASH FLOWS", nor "Boeing" a title's "BOEING"."""
        forms = []
        for match in _WORD.finditer(fold_width(text)):
            written = match.group(0).strip(_STRIP)
            if written.isupper() or written.lower() in ENGLISH_STOP_WORDS:
                continue
            # The plural or singular a heading may use instead ("balance sheet" meets
            # "BALANCE SHEETS", "cash flow" "CASH FLOWS").
            forms += [w.upper() for w in (written, other_number(written)) if _acronym_length(w)]
        return forms

    def tokenize(self, text: str) -> list[str]:
        text = fold_width(text)
        if not _HANGUL.search(text):
            return self._english(text)
        return self._korean(self._analysed(text))

    def forget(self) -> None:
        """Drop the analyses kept for recent questions (benchmarks time questions cold)."""
        self._recent.clear()

    def _analysed(self, text: str) -> list[Any]:
        """Kiwi's analysis of one text (a question), kept for the few calls that follow: a
        search tokenizes the question and then needs its morpheme boundaries."""
        cached = self._recent.get(text)
        if cached is None:
            cached = list(self.kiwi.tokenize(text))
            self._recent.put(text, cached)
        return cached

    def boundaries(self, text: str) -> set[int]:
        """Offsets in `text` where a word or a Korean morpheme starts or ends (every offset
        next to a character that is not Hangul counts)."""
        out = {0, len(text)}
        for i, ch in enumerate(text):
            if not _HANGUL.match(ch):
                out.update((i, i + 1))
        if _HANGUL.search(text):
            for token in self._analysed(text):
                out.update((token.start, token.start + token.len))
        return out

    def content_words(self, text: str) -> list[tuple[str, bool]]:
        """The text's words in reading order as (word as written, whether it is a content word:
        a noun for Korean, a word that is no stop word, question word or acronym for English).
        Numbers are left out. For looking words up in another language, not for BM25."""
        out: list[tuple[str, bool]] = []
        if _HANGUL.search(text):
            for token in self._analysed(text):
                tag = str(token.tag)
                if tag.startswith(("SN", "SF", "SP", "SS", "SE", "SO", "SW")):
                    continue
                form = str(token.form)
                keep = tag.startswith(("NNG", "NNP")) and len(form) >= 2
                out.append((form, keep and form not in QUESTION_WORDS))
            return out
        for match in _WORD.finditer(text):
            word = match.group(0).strip(_STRIP)
            if not word or word[0].isdigit():
                continue
            token = self._latin(word)
            keep = (
                token is not None
                and len(word) >= 3
                and not word.isupper()
                and token not in QUESTION_WORDS
            )
            out.append((word, keep))
        return out

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        texts = [fold_width(t) for t in texts]
        results: list[list[str] | None] = [None] * len(texts)
        korean_idx = [i for i, t in enumerate(texts) if _HANGUL.search(t)]
        korean = set(korean_idx)
        for i, text in enumerate(texts):
            if results[i] is None and i not in korean:
                results[i] = self._english(text)
        if korean_idx:
            analysed = self.kiwi.tokenize([texts[i] for i in korean_idx])
            for i, tokens in zip(korean_idx, analysed, strict=True):
                results[i] = self._korean(tokens)
        return [r if r is not None else [] for r in results]

    def _english(self, text: str) -> list[str]:
        out = []
        for match in _WORD.finditer(text):
            token = self._latin(match.group(0))
            if token:
                out.append(token)
        return out

    def _korean(self, tokens: Iterable[Any]) -> list[str]:
        out: list[str] = []
        for token in tokens:
            tag = str(token.tag)
            if not tag.startswith(_KEEP_TAGS):
                continue
            form = str(token.form)
            if tag.startswith(("SL", "SN", "SH", "W_")):
                latin = self._latin(form)
                if latin:
                    out.append(latin)
                continue
            if tag.startswith(("VV", "VA")):
                form = form + "다"
            out.append(form)
            if self.bigrams and tag.startswith("NN") and len(form) >= 4:
                out.extend(form[i : i + 2] for i in range(len(form) - 1))
        return out


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k highest scores above zero (within `mask`), in no particular order.
    Only chunks sharing a term score above zero: selecting among those, not all chunks, saves
    about a millisecond per query at 100k chunks."""
    hits = scores > 0
    nonzero = np.flatnonzero(hits & mask if mask is not None else hits)
    if len(nonzero) > k:
        values = scores[nonzero]
        cut = len(values) - k
        nonzero = nonzero[np.argpartition(values, cut)[cut:]]
    return nonzero


class LexicalIndex:
    """BM25 over pre-tokenized chunks; scores every chunk so filters can mask any subset."""

    def __init__(self, ids: Sequence[str], tokens: Sequence[Sequence[str]]) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
        self.ids = list(ids)
        self._bm25: Any = None
        if self.ids:
            self._bm25 = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
            # bm25s needs at least one token per document; "" stands for an empty one.
            corpus = [t if t else [""] for t in tokens]  # no copies: 100k lists cost seconds
            self._bm25.index(corpus, show_progress=False)
            self._vocab = self._bm25.vocab_dict

    def __len__(self) -> int:
        return len(self.ids)

    def contains(self, token: str) -> bool:
        """Whether any chunk holds `token`."""
        return self._bm25 is not None and token in self._vocab

    def vocabulary(self) -> set[str]:
        return set(self._vocab) if self._bm25 is not None else set()

    def scores(
        self, query_tokens: Sequence[str], weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """BM25 score of every chunk (same order as `ids`); zeros when no query term is known.
        `weights` (one per token) scales each term's contribution: a term found by similarity
        counts for as much as it is similar."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        weighted = list(zip(query_tokens, weights or [1.0] * len(query_tokens), strict=True))
        known = [(t, w) for t, w in weighted if t in self._vocab and w > 0]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        # The same sum bm25s computes from its precomputed per-(token, chunk) scores, with one
        # np.bincount instead of an np.add.at per token (several times faster at 100k chunks).
        matrix = self._bm25.scores
        indptr, indices, data = matrix["indptr"], matrix["indices"], matrix["data"]
        token_ids = [self._vocab[t] for t, _ in known]
        rows = np.concatenate([indices[indptr[i] : indptr[i + 1]] for i in token_ids])
        values = np.concatenate([data[indptr[i] : indptr[i + 1]] for i in token_ids])
        if weights is not None:
            values = values * np.repeat(
                [w for _, w in known], [indptr[i + 1] - indptr[i] for i in token_ids]
            )
        summed = np.bincount(rows, weights=values, minlength=len(self.ids))
        return np.asarray(summed, dtype=np.float32)

    def max_score(
        self, query_tokens: Sequence[str], weights: Sequence[float] | None = None
    ) -> float:
        """What a chunk could score at most for these tokens: (k1 + 1) * idf summed over the
        known ones (each term's saturation limit), each times its weight if given."""
        if self._bm25 is None:
            return 0.0
        weighted = list(zip(query_tokens, weights or [1.0] * len(query_tokens), strict=True))
        known = [(t, w) for t, w in weighted if t in self._vocab]
        if not known:
            return 0.0
        idf = self._idf_of([self._vocab[t] for t, _ in known])
        return float((self._bm25.k1 + 1) * (idf * np.array([w for _, w in known])).sum())

    def document_frequency(self) -> dict[str, int]:
        """Token -> number of chunks that hold it."""
        if self._bm25 is None:
            return {}
        df = self._doc_freq()
        return {t: int(df[i]) for t, i in self._vocab.items() if i < len(df)}

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """IDF of each token; a token no chunk contains gets the highest possible IDF."""
        if self._bm25 is None:
            return {}
        n_docs = len(self.ids)
        unseen = float(np.log(1 + (n_docs + 0.5) / 0.5))
        known = [t for t in dict.fromkeys(tokens) if t in self._vocab]
        values = self._idf_of([self._vocab[t] for t in known]) if known else np.zeros(0)
        result = {t: unseen for t in tokens}
        result.update({t: float(v) for t, v in zip(known, values, strict=True)})
        return result

    def _idf_of(self, token_ids: list[int]) -> np.ndarray:
        n_docs = len(self.ids)
        df = self._doc_freq()
        counts = df[np.asarray(token_ids)]
        # Lucene's idf, as bm25s uses for method="lucene".
        return np.asarray(np.log(1 + (n_docs - counts + 0.5) / (counts + 0.5)), dtype=np.float64)

    def _doc_freq(self) -> np.ndarray:
        cached: np.ndarray | None = getattr(self, "_df", None)
        if cached is None:
            indptr = self._bm25.scores["indptr"]
            cached = np.diff(np.asarray(indptr)).astype(np.float64)
            self._df = cached
        return cached
