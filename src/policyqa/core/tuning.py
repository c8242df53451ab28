"""Every tuning constant, declared once with why it has its value: the weights, boosts and
thresholds that rank passages and pick sentences, the geometry rules of PDF layout, and the
limits on what a request or a conversation may hold.

Modules import the constants by name; `TUNING` lists them (with their stage and reason) for
`policyqa stats --json`. They are not settings: each was measured or reasoned for the rules it
serves, and changing one is a change to the code, checked with `policyqa eval`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Tuning:
    name: str
    value: object
    stage: str  # the pipeline stage whose rules it tunes
    reason: str


_REGISTRY: dict[str, Tuning] = {}


def _tuned(name: str, value: T, stage: str, reason: str) -> T:
    if name in _REGISTRY:
        raise ValueError(f"tuning constant {name} declared twice")
    _REGISTRY[name] = Tuning(name, value, stage, reason)
    return value


# -- core: what a line is ---------------------------------------------------------------------

HEADING_WIDTH: Final = _tuned(
    "HEADING_WIDTH",
    60,
    "core",
    "Widest heading (columns, a Hangul syllable counting two): official documents' numbered "
    "headings run up to about 25 Hangul syllables or 55 Latin characters; a longer numbered "
    "line is a paragraph.",
)
LABEL_WIDTH: Final = _tuned(
    "LABEL_WIDTH",
    24,
    "core",
    "Widest field name of a labelled item ('□ 추진 배경: ...'), in columns.",
)
CELL_CHARS: Final = _tuned(
    "CELL_CHARS",
    32,
    "core",
    "A line narrower than this (columns) after another is a table cell as PDF extraction gives "
    "them, one per line: kept a unit of its own, so a table does not read as one long sentence.",
)

# -- ingest: PDF layout ------------------------------------------------------------------------

RUN_GAP_EMS: Final = _tuned(
    "RUN_GAP_EMS",
    2.0,
    "ingest",
    "Characters nearer than this (ems) on one line are one run; a wider gap separates table "
    "cells or columns (word spaces are 0.25-0.5 em, justified text up to about 1 em).",
)
RULE_SNAP: Final = _tuned(
    "RULE_SNAP",
    3.0,
    "ingest",
    "Ruling-line coordinates closer than this (pt) are one line.",
)
MIN_RULE: Final = _tuned(
    "MIN_RULE",
    2.0,
    "ingest",
    "Ruling segments shorter than this (pt) are dots, not lines.",
)
SPANNING_SHARE: Final = _tuned(
    "SPANNING_SHARE",
    0.6,
    "ingest",
    "Lines wider than this share of the page cross any column gutter (titles, full-width tables).",
)

# -- index: lexical ----------------------------------------------------------------------------

ACRONYM_LETTERS: Final = _tuned(
    "ACRONYM_LETTERS",
    6,
    "index",
    "Upper-case words up to this long are acronyms, not stemmed: 'RISE' (a programme) is not "
    "'rising'.",
)

# -- retrieval ---------------------------------------------------------------------------------

LEXICAL_WEIGHT: Final[Mapping[str, float]] = _tuned(
    "LEXICAL_WEIGHT",
    MappingProxyType({"ko": 0.8, "en": 0.35, "mixed": 0.5}),
    "retrieval",
    "Lexical weight in the fused score, by question language. Chosen on every set at once "
    "(bench/retrieval_ablation.py plus both answer sets, weights 0.35-0.9): for Korean "
    "questions each set ranks better as the weight rises to 0.8 (ko-docs-dev MRR@10 0.917 -> "
    "0.927, real-docs-dev Korean 0.787 -> 0.823, curated Korean 0.886 -> 0.941). For English "
    "ones 0.5 ranks slightly better than 0.35 (ko-docs-dev en->ko MRR@10 0.587 -> 0.638, "
    "real-docs-dev English 0.878 -> 0.889, en-filings-dev 0.403 -> 0.405) but answers worse: "
    "key facts 0.797 -> 0.785 on the curated set and 0.688 -> 0.562 on real-docs-dev's English "
    "questions on Korean pages, follow-up questions lose the passage their subject is in; so "
    "0.35. Above 0.5 the filings fall.",
)
LEXICAL_SCALE_FLOOR: Final = _tuned(
    "LEXICAL_SCALE_FLOOR",
    0.1,
    "retrieval",
    "Own-language BM25 scores are normalised by max(best score, this share of the query's "
    "maximum possible score): lifted English questions over Korean pages (ko-docs-dev en->ko "
    "MRR@10 0.463 -> 0.517), curated set unchanged; 0.15 cost refusals and Korean hit@1.",
)
DENSE_DEPTH: Final = _tuned(
    "DENSE_DEPTH",
    3,
    "retrieval",
    "The dense search asks for this many times `candidates` and keeps the top `candidates` of "
    "the other language besides the overall top: a Chroma query filtered by language took "
    "250 ms at 100k chunks against 2-4 ms.",
)
TRANSLATED_WEIGHT: Final = _tuned(
    "TRANSLATED_WEIGHT",
    0.5,
    "retrieval",
    "Weight of BM25 on translated terms, relative to BM25 on the question's own words, for an "
    "index not calibrated yet; a calibrated one sets it from how far the other language's "
    "passages repeat the question's language (Calibration.translated_weight).",
)
REGION_BOOST: Final = _tuned(
    "REGION_BOOST",
    1.5,
    "retrieval",
    "Passages naming the area a question is about rank above equally good ones that do not.",
)
MISSING_FACTOR: Final = _tuned(
    "MISSING_FACTOR",
    0.7,
    "retrieval",
    "A chunk a retriever cannot judge scores the weighted mean of the evidence that exists, "
    "times this: a passage in the question's own language is likelier to be the one asked "
    "about.",
)

PAGE_HEAD_CHARS: Final = _tuned(
    "PAGE_HEAD_CHARS",
    800,
    "index",
    "A page head (index.pages) is the page's first this many characters, whitespace collapsed: "
    "MiniLM on 800-character heads ranked en-filings-dev pages at hit@5 0.488 against 0.366 "
    "for each page's first chunk alone (scored outside the product).",
)
PAGE_HEADS_MIN_PAGES: Final = _tuned(
    "PAGE_HEADS_MIN_PAGES",
    5,
    "index",
    "Documents of fewer pages get no page heads (index.pages.wants_heads); their chunks stand "
    "for their pages. With heads on every page the curated set (bundled corpus, 1-4 pages a "
    "document) fell from hit@1/MRR@10 0.889/0.924 to 0.833/0.899 with false refusals 0.063 -> "
    "0.103 (policyqa eval); at 5 it is unchanged, ko-docs-dev (6-51 pages) keeps its figures, "
    "and real-docs-dev en->ko MRR is 0.575 (0.558 at 10).",
)
PAGE_SHARE: Final = _tuned(
    "PAGE_SHARE",
    0.7,
    "retrieval",
    "Share of the dense weight that page-head lists (retrieval.pages) carry beside the chunk "
    "dense lists (bench/retrieval_ablation.py, no document prior): en-filings-dev hit@5/MRR@10 "
    "0.390/0.268 -> 0.561/0.346 at 0.7, 0.537/0.367 at 0.5; ko-docs-dev ko MRR 0.917 -> 0.927, "
    "en->ko 0.590 -> 0.587. Added on top of the dense weight instead, heads cost ko-docs-dev ko "
    "MRR 0.06: the lexical side lost its share.",
)
PAGE_CANDIDATES: Final = _tuned(
    "PAGE_CANDIDATES",
    50,
    "retrieval",
    "Page heads asked for per embedder, once over all documents and once over the routed ones: "
    "the same depth as the chunk candidates.",
)
DOCUMENT_PRIOR_WEIGHT: Final = _tuned(
    "DOCUMENT_PRIOR_WEIGHT",
    0.05,
    "retrieval",
    "Fused-score gain per unit z-score of a document's name match (retrieval.documents), "
    "bench/retrieval_ablation.py with page heads (PAGE_SHARE 0.7): en-filings-dev MRR@10 0.346 "
    "-> 0.402 (hit@1 0.220 -> 0.293); 0.2 reached 0.414 but cost ko-docs-dev ko MRR 0.02-0.03 "
    "(questions routed to a sibling document on the same topic); 0.05 leaves it at 0.916 "
    "(0.917 without). Its idf counts a word among the documents in its script: real-docs-dev "
    "en->ko hit@5 0.900, 0.800 when English 'budget' was rare among Korean documents.",
)
DOCUMENT_PRIOR_CAP: Final = _tuned(
    "DOCUMENT_PRIOR_CAP",
    3.0,
    "retrieval",
    "Highest z-score a document's name match counts for: a question naming one of 25 filings "
    "reaches about 4.9; the cap keeps the gain bounded whatever the number of documents.",
)
ROUTED_DOCUMENTS: Final = _tuned(
    "ROUTED_DOCUMENTS",
    2,
    "retrieval",
    "Documents of highest prior whose page heads are also searched on their own (their pages "
    "may be far down a search of all): en-filings-dev MRR@10 0.366 -> 0.393 at 2, 3 no better "
    "(measured with heads weighed on top of the dense weight, before PAGE_SHARE); a company's "
    "filing of another year stands next to the one asked about.",
)

# -- answering ---------------------------------------------------------------------------------

MAX_QUESTION_CHARS: Final = _tuned(
    "MAX_QUESTION_CHARS",
    2000,
    "answering",
    "Longest question (and history turn) accepted: far above any real question, and it bounds "
    "the work one request can cause.",
)
CONTEXT_CREDIT: Final = _tuned(
    "CONTEXT_CREDIT",
    0.8,
    "answering",
    "A sentence's share of the question terms counted with the previous sentence's, "
    "discounted by this.",
)
DETAIL_BOOST: Final = _tuned(
    "DETAIL_BOOST",
    1.25,
    "answering",
    "A sentence that gives the kind of detail asked for ('how much?' -> a figure).",
)
UNIT_CONTEXT_CHARS: Final = _tuned(
    "UNIT_CONTEXT_CHARS",
    300,
    "answering",
    "How far before a sentence its table's unit line may stand ('(단위: 백만원)' above the rows) "
    "for a figure in it to count as an amount of money.",
)
ROW_SUBJECT_SHARE: Final = _tuned(
    "ROW_SUBJECT_SHARE",
    0.5,
    "answering",
    "A table row is about what its label cell names: a row whose label shares less than this "
    "IDF-weighted share with the question is another subject's row (the budget row of another "
    "programme on a sheet laid out like the one asked about).",
)
PERIOD_BOOST: Final = _tuned(
    "PERIOD_BOOST",
    1.25,
    "answering",
    "A sentence that names a year the question asks about (the 2024 row of a table, not "
    "2022's), against one that names only other years.",
)
OTHER_LANGUAGE_FACTOR: Final = _tuned(
    "OTHER_LANGUAGE_FACTOR",
    0.35,
    "answering",
    "Score factor of a sentence matched only through translated terms: the question's language "
    "is preferred when both say the same, and translated terms are weaker evidence.",
)
FRAGMENT_CHARS: Final = _tuned(
    "FRAGMENT_CHARS",
    100,
    "answering",
    "A sentence shorter than this with a parenthesis left open is pieces of two table cells "
    "that PDF extraction interleaved, not a sentence.",
)
LIST_ITEM_CHARS: Final = _tuned(
    "LIST_ITEM_CHARS",
    120,
    "answering",
    "List items up to this long form list blocks: a run of short items answers as one unit.",
)
LIST_BLOCK_CHARS: Final = _tuned(
    "LIST_BLOCK_CHARS",
    480,
    "answering",
    "Longest run of list items taken as one unit.",
)
COMPLETION_EDGE: Final = _tuned(
    "COMPLETION_EDGE",
    40,
    "answering",
    "Characters of a chunk's edge looked for in its neighbour (chunks overlap).",
)
MAX_COMPLETION: Final = _tuned(
    "MAX_COMPLETION",
    400,
    "answering",
    "Longest piece of a sentence taken from a neighbouring chunk.",
)
NOT_SPECIFIED_COVERAGE: Final = _tuned(
    "NOT_SPECIFIED_COVERAGE",
    0.5,
    "answering",
    "A 'not specified' sentence answers the question only if it contains at least this share "
    "of the question's terms (it must be about what was asked).",
)
DETAIL_RELEVANCE: Final = _tuned(
    "DETAIL_RELEVANCE",
    0.45,
    "answering",
    "Share of the best sentence's question coverage a detail-giving sentence needs.",
)
SENTENCE_RELEVANCE: Final = _tuned(
    "SENTENCE_RELEVANCE",
    0.5,
    "answering",
    "Share of a chosen sentence's question coverage a sentence from another document needs to "
    "be shown with it: real-docs-dev citations on documents holding no gold page 24 -> 22 of "
    "301, key facts and refusals unchanged on both answer sets (policyqa eval).",
)
SAME_MEANING: Final = _tuned(
    "SAME_MEANING",
    0.6,
    "answering",
    "Cosine (multilingual USE) above which a Korean and an English sentence say the same "
    "thing: the bundled corpus's translation pairs measured 0.62-0.75, related but different "
    "sentences 0.56 or less.",
)
SAME_MEANING_POOL: Final = _tuned(
    "SAME_MEANING_POOL",
    24,
    "answering",
    "Same-language sentences compared for a translation pair, best-scored first.",
)

# -- app: request and conversation limits ------------------------------------------------------

MAX_REQUEST_BYTES: Final = _tuned(
    "MAX_REQUEST_BYTES",
    1_000_000,
    "app",
    "Bodies of requests other than uploads: a question, a history and filters fit in far less.",
)
FILES_PER_UPLOAD: Final = _tuned(
    "FILES_PER_UPLOAD",
    4,
    "app",
    "An upload request may carry this many files of the largest allowed size.",
)
MAX_FILTER_KEYS: Final = _tuned(
    "MAX_FILTER_KEYS", 20, "app", "Metadata filters one API request may set."
)
MAX_FILTER_VALUES: Final = _tuned(
    "MAX_FILTER_VALUES", 200, "app", "Values one API filter may list."
)
MAX_KEPT_ANSWERS: Final = _tuned(
    "MAX_KEPT_ANSWERS",
    30,
    "app",
    "Answers kept per conversation for the viewer ([n] of an earlier answer still opens).",
)

PAGE_WIDTH_PX: Final = _tuned(
    "PAGE_WIDTH_PX",
    1100,
    "app",
    "Page images of the citation viewer: sharp on a 2x phone screen and beside a chat on a "
    "desktop, a few hundred kB per page; pages of any size are scaled to it, so a huge page "
    "cannot take memory.",
)
MIN_QUOTE_MATCH: Final = _tuned(
    "MIN_QUOTE_MATCH",
    8,
    "app",
    "A passage shorter than this (normalised characters) is too ambiguous to place on a page "
    "image.",
)

# -- measured on the indexed documents, fusion and answer coherence ---------------------------

TERM_THRESHOLD: Final = _tuned(
    "TERM_THRESHOLD",
    0.45,
    "retrieval",
    "Question words and indexed words are compared in the multilingual space. USE gives "
    "translation pairs of single words 0.55-0.95 ('budget'/예산 0.91, 'loan'/융자 0.74, "
    "'startup'/ 창업 0.59); a matched word counts for its similarity. 0.45 was chosen on "
    "ko-docs-dev's English questions (0.5: hit@5 0.833, MRR 0.652; 0.45: 0.854, 0.670; 0.55 "
    "and 0.6 lower) and left the other sets unchanged (bench/retrieval_ablation.py).",
)
TERM_LIMIT: Final = _tuned(
    "TERM_LIMIT",
    20_000,
    "retrieval",
    "Words embedded per language at most (the most widespread ones): bounds the work at "
    "ingest (about 100 short words a second with USE on this 2-core machine under load) and "
    "the table's memory (20k x 512 float32 = 40 MB) for any corpus size.",
)
TERM_MIN_CHUNKS: Final = _tuned(
    "TERM_MIN_CHUNKS",
    2,
    "retrieval",
    "A word must occur in this many chunks to be in the table: a word of one chunk is more "
    "often a PDF extraction fragment than a term, and costs an embedding for little.",
)
SURFACE_SAMPLE: Final = _tuned(
    "SURFACE_SAMPLE",
    20_000,
    "retrieval",
    "English chunks read for the written forms of stems: enough for every frequent stem, "
    "bounded for a corpus of any size (every n-th chunk, so the sample is deterministic).",
)
PSEUDO_QUESTIONS: Final = _tuned(
    "PSEUDO_QUESTIONS",
    60,
    "retrieval",
    "Pseudo-questions per chunk language: enough for a stable median, few enough that "
    "calibrating costs seconds (one batch of query embeddings and one vector query each).",
)
COUNTERPART_COSINE: Final = _tuned(
    "COUNTERPART_COSINE",
    0.6,
    "retrieval",
    "A chunk 'has a counterpart' in the other language when the multilingual embedder puts "
    "one of that language's chunks this close to it: the cosine at which the answer "
    "composer already takes two sentences of different languages to say the same "
    "(`answer.SAME_MEANING`; translation pairs of the bundled corpus measured 0.62-0.75).",
)
COUNTERPART_SAMPLE: Final = _tuned(
    "COUNTERPART_SAMPLE",
    60,
    "retrieval",
    "Chunks sampled per language to measure it.",
)
OWN_LANGUAGE_PRIOR: Final = _tuned(
    "OWN_LANGUAGE_PRIOR",
    0.7,
    "retrieval",
    "The question's own language is preferred over the other by this factor where every "
    "passage of the other language has a counterpart in it (a bilingual corpus says "
    "everything twice, and an answer in the question's language is then there to be had); "
    "not at all where none has.",
)
REPEATED_TRANSLATED_WEIGHT: Final = _tuned(
    "REPEATED_TRANSLATED_WEIGHT",
    0.5,
    "retrieval",
    "BM25 on translated terms weighs as much as on the question's own words where the other "
    "language's passages hold content of their own, and this share where they only repeat "
    "the question's language (the weight it had before calibration: a translation is weaker "
    "evidence).",
)
DENSE_SHARE_OF_STRENGTH: Final = _tuned(
    "DENSE_SHARE_OF_STRENGTH",
    0.5,
    "retrieval",
    "How a language's strength is read: this share from the multilingual embedder's best "
    "match in it, the rest from how much of the question's terms (or their translations) "
    "its best passage holds. Chosen on real-docs-dev (bench/retrieval_ablation.py); both "
    "signals compare the two languages on one scale, which no single list's own "
    "normalisation does.",
)
DENSE_FLOOR_SHARE: Final = _tuned(
    "DENSE_FLOOR_SHARE",
    0.8,
    "retrieval",
    "A dense list's best match counts as a full match only if it reaches this share of the "
    "calibrated match level (`calibration.match_level`, per embedder and chunk language). "
    "Chosen on real-docs-dev (bench/retrieval_ablation.py).",
)
MULTILINGUAL_SHARE: Final = _tuned(
    "MULTILINGUAL_SHARE",
    0.5,
    "retrieval",
    "The weight of a multilingual embedder beside a language-specific one, on the chunks the "
    "latter covers, relative to it, in a corpus whose passages mostly have translations (USE "
    "beside MiniLM on English chunks: a third of the dense weight); elsewhere none. A fixed "
    "0.5 let USE dilute MiniLM on English filings (en-filings-dev hit@5 0.293 against MiniLM "
    "alone 0.390); a fixed 0 lost answers on the bilingual bundled corpus (curated key facts "
    "0.785 -> 0.767, false refusals 0.063 -> 0.087); 0.5 scaled by the share of translated "
    "passages (0.37 there) lost the follow-up 'What about Gangwon?' after a question on Jeju.",
)
TRANSLATED_CORPUS_SHARE: Final = _tuned(
    "TRANSLATED_CORPUS_SHARE",
    0.5,
    "retrieval",
    "A corpus counts as translated for a language when at least this share of its chunks in "
    "that language have a counterpart in the other (most of them): the bundled corpus 0.73, "
    "real-docs-dev 0, English filings none.",
)
ANTECEDENT_MIN_CHARS: Final = _tuned(
    "ANTECEDENT_MIN_CHARS",
    20,
    "answering",
    "The sentence pointed to must say something: not a heading or a label.",
)
SHOWN_SUPPORT: Final = _tuned(
    "SHOWN_SUPPORT",
    0.3,
    "answering",
    "Least share of the question's terms (or their translations) the sentences an answer "
    "shows must hold together: words scattered over the top passages do not make an answer "
    "of sentences that meet a quarter of the question. Measured on curated and "
    "real-docs-dev (commit message).",
)
FOLLOWING_DETAIL_SENTENCES: Final = _tuned(
    "FOLLOWING_DETAIL_SENTENCES",
    2,
    "answering",
    "How many sentences right after a chosen one may be added because they give a kind of "
    "detail the question asks and no chosen sentence gives ('$800 in vouchers' followed by "
    "'$500 in May ... $300 in January' for 'how much, and when?'): two, a detail and its "
    "counterpart; measured on curated and real-docs-dev (commit message).",
)
YEAR_SEARCH_K: Final = _tuned(
    "YEAR_SEARCH_K",
    8,
    "answering",
    "Passages of one document searched for the years a question names.",
)

TUNING: Final[Mapping[str, Tuning]] = MappingProxyType(_REGISTRY)


def tuning_table() -> list[dict[str, object]]:
    """Every constant as JSON-ready rows: name, value, stage, reason."""
    rows: list[dict[str, object]] = []
    for t in TUNING.values():
        value = dict(t.value) if isinstance(t.value, Mapping) else t.value
        rows.append({"name": t.name, "value": value, "stage": t.stage, "reason": t.reason})
    return rows
