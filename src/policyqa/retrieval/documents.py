"""Which document a question is about: a prior over the indexed documents, learned from the
documents themselves, that lifts the chunks of the document a question names.

A question about one filing among many names its company and year ("3M", "FY2018"), words
that the document's file name and title hold and few other documents do. Chunk rankers see
those words only where a chunk repeats them; the document's profile (its file name split into
words, and its title) holds them once. A document scores the idf (over whole documents) of the
question terms its profile holds. Its prior is that score's z-score over all documents, so it
goes to the document (or the few) that stand out, times the evidence: a match on a word most
documents hold says little, one on a word a single document holds says as much as a name can.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policyqa.core.models import Chunk
from policyqa.core.tuning import DOCUMENT_PRIOR_CAP, DOCUMENT_PRIOR_WEIGHT, ROUTED_DOCUMENTS
from policyqa.index.lexical import QUESTION_WORDS, Tokenizer
from policyqa.retrieval.fusion import Fused

# File-name words: separators, then camel-case and letter/digit boundaries ("AnnualReport2019").
_SEPARATORS = re.compile(r"[_\-.\s/\\]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_PREFIXED_NUMBER = re.compile(r"\b([A-Za-z]{1,3})(\d{2,4})\b")  # FY2018, Q3 ...
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
# A word of letters and digits together ("3M", "10K", "A380"): tokenizers split it, but as a
# name it is one word.
_MIXED_WORD = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{2,}(?![A-Za-z0-9])"
)


def name_words(doc_id: str, title: str = "") -> str:
    """A document's id (its file name) and title as words: "ACTIVISIONBLIZZARD_2019_10K.pdf"
    -> "ACTIVISIONBLIZZARD 2019 10 K"."""
    out: list[str] = []
    for name in (_EXTENSION.sub("", doc_id.rsplit("/", 1)[-1]), title):
        for part in _SEPARATORS.split(name):
            out.extend(w for w in _CAMEL.split(part) if w)
    return " ".join(out)


def mixed_words(text: str) -> set[str]:
    """Lower-cased words of letters and digits together: "3M_2018_10K" -> {"3m", "10k"}."""
    return {m.group(0).lower() for m in _MIXED_WORD.finditer(text)}


def joined_words(text: str, longest: int = 3) -> list[str]:
    """Runs of 2..`longest` adjacent Latin words written as one ("Activision Blizzard" ->
    "ActivisionBlizzard"): file names often drop the spaces of a company's name."""
    words = [m.group(0) for m in _LATIN_WORD.finditer(text)]
    return [
        "".join(words[i : i + n]) for n in range(2, longest + 1) for i in range(len(words) - n + 1)
    ]


def split_numbers(text: str) -> str:
    """ "FY2018" -> "FY 2018": a fiscal year or quarter written as one word meets the year a
    document's name or cover states."""
    return _PREFIXED_NUMBER.sub(r"\1 \2", text)


@dataclass(frozen=True)
class DocumentProfiles:
    doc_ids: tuple[str, ...]
    profiles: tuple[frozenset[str], ...]  # name, title and first-page tokens per document
    idf: Mapping[str, float]  # over whole documents (every token of each one's chunks)

    def scores(self, terms: Iterable[str]) -> np.ndarray:
        """Per document: the idf summed over the distinct `terms` its profile holds."""
        weighted = [(t, self.idf.get(t, 0.0)) for t in set(terms)]
        weighted = [(t, w) for t, w in weighted if w > 0]
        return np.array(
            [sum(w for t, w in weighted if t in profile) for profile in self.profiles],
            dtype=np.float64,
        )


class DocumentRouter:
    """The indexed documents' profiles (file name and title words), made once per state of
    the index, and the gain each document's chunks get for a question."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        tokens_of: Callable[[Chunk], Sequence[str]],
        manifest: Mapping[str, Mapping[str, Any]],
        tokenizer: Tokenizer,
    ) -> None:
        self.tokenizer = tokenizer
        titles = {d: str(record.get("title") or "") for d, record in manifest.items()}
        tokens: dict[str, set[str]] = {}
        languages: dict[str, set[str]] = {}
        for chunk in chunks:
            tokens.setdefault(chunk.doc_id, set()).update(tokens_of(chunk))
            languages.setdefault(chunk.doc_id, set()).add(chunk.language)
        ids = sorted(tokens)
        names = []
        for doc_id in ids:
            words = name_words(doc_id, titles.get(doc_id, ""))
            # Lower-cased too: a long all-capital file name word is not an acronym.
            names.append(
                set(tokenizer.tokenize(words))
                | set(tokenizer.tokenize(words.lower()))
                | mixed_words(f"{doc_id} {titles.get(doc_id, '')}")
            )
        held = [languages[d] for d in ids]
        self.profiles = build_profiles(ids, [tokens[d] for d in ids], names, held)

    def gains(self, query: str) -> dict[str, float]:
        """Doc id -> what its chunks' fused scores gain (`document_prior`); only those > 0."""
        terms = question_terms(query, self.tokenizer.tokenize)
        terms += self.tokenizer.capitalised_forms(query)
        prior = document_prior(
            self.profiles.scores(terms), DOCUMENT_PRIOR_WEIGHT, DOCUMENT_PRIOR_CAP
        )
        return {d: float(g) for d, g in zip(self.profiles.doc_ids, prior, strict=True) if g > 0}


def routed(gains: Mapping[str, float], count: int = ROUTED_DOCUMENTS) -> list[str]:
    """The documents a question singles out most, best first."""
    return sorted(gains, key=lambda d: (-gains[d], d))[:count]


def script(token: str) -> str:
    """ "ko" for a Hangul token, "en" for a Latin one, "" for numbers and the rest."""
    if _HANGUL.search(token):
        return "ko"
    return "en" if any(c.isascii() and c.isalpha() for c in token) else ""


def build_profiles(
    doc_ids: Sequence[str],
    token_sets: Sequence[Iterable[str]],
    profile_tokens: Sequence[Iterable[str]],
    languages: Sequence[Collection[str]] | None = None,
) -> DocumentProfiles:
    """`token_sets[i]`: every token of document i; `profile_tokens[i]`: the tokens of its file
    name and title; `languages[i]`: the languages of its chunks. A word's idf is counted among
    the documents that could hold it, those with text in its script: "budget" in the one
    English document of ten Korean ones is no rarer than in an English corpus."""
    frequency: dict[str, int] = {}
    for tokens in token_sets:
        for token in set(tokens):
            frequency[token] = frequency.get(token, 0) + 1
    profiles = tuple(frozenset(p) for p in profile_tokens)
    for profile in profiles:  # name words no chunk holds are still the document's
        for token in profile:
            frequency.setdefault(token, 1)
    langs = languages or [("ko", "en")] * len(doc_ids)
    writing = {
        code: sum(1 for held in langs if code in held or "mixed" in held) for code in ("ko", "en")
    }
    idf = {}
    for token, df in frequency.items():
        count = max(writing.get(script(token), len(doc_ids)), df)
        idf[token] = math.log(1 + (count - df + 0.5) / (df + 0.5))
    return DocumentProfiles(tuple(doc_ids), profiles, idf)


def question_terms(query: str, tokenize: Callable[[str], list[str]]) -> list[str]:
    """The tokens a question's document is looked up by: its own, those of its prefixed
    numbers split ("FY2018" -> "2018"), and of its adjacent words joined, lower-cased (an
    all-capital file name word is not kept as an acronym when long); no question words
    ("how", "어떻다"), which name no document."""
    joined = " ".join(w.lower() for w in joined_words(query))
    terms = tokenize(query) + tokenize(split_numbers(query)) + (tokenize(joined) if joined else [])
    terms += sorted(mixed_words(query))
    return [t for t in terms if t not in QUESTION_WORDS]


def document_prior(scores: np.ndarray, weight: float, cap: float) -> np.ndarray:
    """Per document, what its chunks' fused scores gain: `weight` times the z-score of its
    score over all documents, clipped to [0, cap], times the evidence (the best score over
    the idf of a word one document alone holds, at most 1). All equal (no term singles a
    document out), or fewer than three documents: nothing."""
    if len(scores) < 3 or weight <= 0:
        return np.zeros(len(scores))
    spread = float(scores.std())
    if spread <= 1e-9:
        return np.zeros(len(scores))
    z = (scores - scores.mean()) / spread
    # Evidence: a question that matches a name on one common word ("bank") says little; one
    # that matches a word only one document holds says as much as a name can.
    singular = math.log(1 + (len(scores) - 0.5) / 1.5)
    strength = min(1.0, float(scores.max()) / singular)
    return np.asarray(weight * strength * np.clip(z, 0.0, cap), dtype=np.float64)


def lift(
    fused: Sequence[Fused],
    chunks: Sequence[Chunk],
    position: Mapping[str, int],
    gains: Mapping[str, float],
) -> list[Fused]:
    """The fused ranking with each chunk's score raised by its document's gain."""
    if not any(gains.values()):
        return list(fused)
    out = []
    for item in fused:
        index = position.get(item.chunk_id)
        gain = gains.get(chunks[index].doc_id, 0.0) if index is not None else 0.0
        out.append(Fused(item.chunk_id, item.score + gain, item.parts))
    out.sort(key=lambda f: (-f.score, f.chunk_id))
    return out
