"""The document prior (`retrieval.documents`) and page heads (`index.pages`,
`retrieval.pages`): pure scoring on tiny fakes, and heads through a real ingest and search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policyqa.core.models import Chunk, Document, Page
from policyqa.core.settings import Settings
from policyqa.index.lexical import Tokenizer
from policyqa.index.pages import head_text, page_heads, query_heads, stored_heads
from policyqa.pipeline import Pipeline
from policyqa.retrieval.documents import (
    DocumentRouter,
    build_profiles,
    document_prior,
    joined_words,
    lift,
    mixed_words,
    name_words,
    question_terms,
    routed,
    split_numbers,
)
from policyqa.retrieval.fusion import Fused, RankedList
from policyqa.retrieval.pages import (
    PageView,
    head_where,
    page_lists,
    page_positions,
    spread,
    weighs,
    with_page_share,
)

from .conftest import CountingFake


def _chunk(doc_id: str, page: int, text: str, ordinal: int = 0, language: str = "en") -> Chunk:
    return Chunk(
        id=f"{doc_id}#p{page}#c{ordinal}",
        doc_id=doc_id,
        title=doc_id.rsplit(".", 1)[0],
        page=page,
        page_label=str(page),
        section="",
        language=language,  # type: ignore[arg-type]
        text=text,
        content_hash=f"{doc_id}-{page}-{ordinal}",
        ordinal=ordinal,
    )


# -- names and question terms -------------------------------------------------------------------


def test_name_words_split_separators_case_and_digits() -> None:
    assert name_words("ACTIVISIONBLIZZARD_2019_10K.pdf") == "ACTIVISIONBLIZZARD 2019 10 K"
    assert name_words("reports/AnnualReport2019.pdf") == "Annual Report 2019"
    assert name_words("x.md", "Budget-plan") == "x Budget plan"


def test_question_terms_join_names_and_split_fiscal_years() -> None:
    assert "ActivisionBlizzard" in joined_words("for Activision Blizzard in 2019")
    assert split_numbers("the FY2018 capex") == "the FY 2018 capex"
    terms = question_terms("What did Activision Blizzard spend in FY2018?", Tokenizer().tokenize)
    assert "activisionblizzard" in terms
    assert "2018" in terms


# -- the prior ------------------------------------------------------------------------------------


def test_prior_goes_to_the_document_a_rare_name_word_singles_out() -> None:
    profiles = build_profiles(
        ["a", "b", "c", "d"],
        [{"acme", "cash"}, {"zenith", "cash"}, {"orbit", "cash"}, {"delta", "cash"}],
        [{"acme"}, {"zenith"}, {"orbit"}, {"delta"}],
    )
    scores = profiles.scores(["acme", "cash"])
    assert scores[0] > 0 and not scores[1:].any()  # "cash" is in every document: no idf
    gains = document_prior(scores, 0.1, 3.0)
    assert gains[0] > 0 and not gains[1:].any()


def test_a_word_is_rare_only_among_documents_that_could_hold_it() -> None:
    # "budget" in the one English document of four: a Korean document cannot hold it.
    profiles = build_profiles(
        ["en", "ko1", "ko2", "ko3"],
        [{"budget"}, {"예산"}, {"예산"}, {"예산"}],
        [{"budget"}, set(), set(), set()],
        [{"en"}, {"ko"}, {"ko"}, {"ko"}],
    )
    alone = build_profiles(
        ["en", "x", "y", "z"], [{"budget"}, {"a"}, {"b"}, {"c"}], [{"budget"}, set(), set(), set()]
    )
    assert profiles.idf["budget"] < 0.5 * alone.idf["budget"]


def test_prior_is_nothing_when_no_document_stands_out() -> None:
    assert not document_prior(np.array([1.0, 1.0, 1.0]), 0.1, 3.0).any()
    assert not document_prior(np.zeros(5), 0.1, 3.0).any()
    assert not document_prior(np.array([2.0, 0.0]), 0.1, 3.0).any()  # too few documents


def test_prior_is_weaker_on_a_common_word_than_on_a_singular_one() -> None:
    singular = np.log(1 + (10 - 0.5) / 1.5)
    strong = document_prior(np.array([singular] + [0.0] * 9), 0.1, 3.0)
    weak = document_prior(np.array([singular / 4] + [0.0] * 9), 0.1, 3.0)
    assert strong[0] == pytest.approx(4 * weak[0])


def test_router_routes_by_file_name_and_lift_raises_its_chunks() -> None:
    chunks = [
        _chunk(f"{name}_2019_10K.pdf", 1, "Net cash from operating activities")
        for name in ("ACME", "ZENITH", "ORBIT", "DELTA")
    ]
    tokenizer = Tokenizer()
    router = DocumentRouter(chunks, lambda c: tokenizer.tokenize(c.context_text), {}, tokenizer)
    gains = router.gains("What was Acme's operating cash flow in FY2019?")
    assert routed(gains) == ["ACME_2019_10K.pdf"]
    fused = [Fused(c.id, 0.5 - 0.01 * i, {}) for i, c in enumerate(reversed(chunks))]
    position = {c.id: i for i, c in enumerate(chunks)}
    lifted = lift(fused, chunks, position, gains)
    assert lifted[0].chunk_id == chunks[0].id
    assert lift(fused, chunks, position, {}) == fused


def test_a_name_of_letters_and_digits_routes_as_one_word() -> None:
    """ "3M" is "3" and "m" to the tokenizer, words every filing holds; as a name it is one."""
    assert mixed_words("3M_2018_10K.pdf for 3M's A380") == {"3m", "10k", "a380"}
    names = ("3M", "ACME", "ZENITH", "ORBIT", "DELTA")
    chunks = [_chunk(f"{n}_2018_10K.pdf", 1, "3 m units of revenue, $ in m") for n in names]
    tokenizer = Tokenizer()
    router = DocumentRouter(chunks, lambda c: tokenizer.tokenize(c.context_text), {}, tokenizer)
    assert routed(router.gains("What was the FY2018 capital expenditure of 3M?")) == [
        "3M_2018_10K.pdf"
    ]


# -- page heads -----------------------------------------------------------------------------------


def test_page_heads_one_per_page_with_chunks() -> None:
    doc = Document(
        doc_id="f.pdf",
        title="f",
        language="en",
        pages=(Page(1, "1", "CASH   FLOWS\n\nfrom operations " * 100), Page(2, "ii", "  ")),
        page_count=2,
    )
    heads = page_heads(doc, [_chunk("f.pdf", 1, "x"), _chunk("f.pdf", 2, "y")])
    assert [h.page for h in heads] == [1]  # a blank page has no head
    assert heads[0].text == head_text(doc.pages[0].text) and len(heads[0].text) == 800
    assert heads[0].text.startswith("CASH FLOWS from operations")
    assert heads[0].metadata()["doc_id"] == "f.pdf"


def test_spread_gives_a_page_score_to_its_allowed_chunks() -> None:
    chunks = [_chunk("a", 1, "x", 0), _chunk("a", 1, "y", 1), _chunk("a", 2, "z", 0)]
    positions = page_positions(chunks)
    hits = [("a", 1, 0.8), ("a", 2, 0.5), ("a", 1, 0.6), ("gone", 3, 0.9)]
    assert spread(hits, positions, chunks) == {"a#p1#c0": 0.8, "a#p1#c1": 0.8, "a#p2#c0": 0.5}
    allowed = np.array([False, True, False])
    assert spread(hits, positions, chunks, allowed) == {"a#p1#c1": 0.8}


def test_head_search_takes_only_filters_heads_can_answer() -> None:
    assert head_where(None) is None
    assert head_where({"doc_id": "a"}) == {"doc_id": "a"}
    assert head_where({"section": "Budget"}) is None  # applied to the chunks instead


def test_no_head_search_for_an_embedder_without_weight_on_the_index() -> None:
    from policyqa.index.embed import parse_embedders

    use, minilm = parse_embedders("use-multilingual,sentence-transformers:all-MiniLM-L6-v2@en")
    english_only = {"ko": np.array([False]), "en": np.array([True]), "mixed": np.array([False])}
    assert not weighs(use, {"en": 0.0, "mixed": 0.0}, english_only)
    assert weighs(minilm, {}, english_only)
    both = {**english_only, "ko": np.array([True])}
    assert weighs(use, {"en": 0.0, "mixed": 0.0}, both)  # it judges the Korean chunks


def test_page_lists_take_their_share_of_the_dense_weight() -> None:
    def make(name: str) -> RankedList:
        return RankedList(name=name, scores={"c": 1.0}, weight=0.6, judges=lambda _: True)

    plain = [make("lexical"), make("dense:m")]
    assert with_page_share(plain, 0.7) == plain
    shared = with_page_share([*plain, make("page:m")], 0.7)
    assert [x.weight for x in shared] == pytest.approx([0.6, 0.6 * 0.3, 0.6])


class _FakeHeads:
    """A head collection that answers every query with the same heads."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def query(self, **_: Any) -> dict[str, Any]:
        return {"ids": [self.ids], "distances": [[0.2] * len(self.ids)]}


class _FakeStore:
    def __init__(self, ids: list[str]) -> None:
        self.heads = _FakeHeads(ids)

    def pages(self, spec: Any) -> _FakeHeads:
        return self.heads


def test_chunks_of_a_document_without_heads_keep_their_own_similarity() -> None:
    from policyqa.index.embed import parse_embedders

    spec = parse_embedders("use-multilingual")[0]
    chunks = [
        _chunk("long.pdf", 3, "a", 0),
        _chunk("long.pdf", 3, "b", 1),
        _chunk("short.md", 1, "c"),
    ]
    manifest = {"long.pdf": {"pages": 40}, "short.md": {"pages": 1}}
    languages = {"en": np.array([True, True, True])}
    view = PageView.of(chunks, manifest, languages)
    assert set(view.headless) == {"short.md#p1#c0"}
    chunk_hits = [("short.md#p1#c0", 0.5), ("long.pdf#p3#c1", 0.4)]
    store: Any = _FakeStore(["long.pdf#p3"])
    lists = page_lists(store, [(spec, [0.0], {}, chunk_hits)], view, None, None, [], 0.5)
    assert lists[0].scores == {"long.pdf#p3#c0": 0.8, "long.pdf#p3#c1": 0.8, "short.md#p1#c0": 0.5}
    assert not page_lists(
        _FakeStore([]), [(spec, [0.0], {}, chunk_hits)], view, None, None, [], 0.5
    )  # type: ignore[arg-type]


def test_ingest_stores_heads_once_and_a_search_uses_them(
    fake_settings: Settings,
    fakes: dict[str, CountingFake],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("policyqa.index.pages.PAGE_HEADS_MIN_PAGES", 1)  # one-page files here
    corpus = fake_settings.corpus
    corpus.mkdir(parents=True)
    (corpus / "ACME_2019_10K.md").write_text(
        "# Cash flows\n\nNet cash provided by operating activities was 12 million.\n",
        encoding="utf-8",
    )
    (corpus / "ZENITH_2019_10K.md").write_text(
        "# Balance sheet\n\nTotal assets were 40 million at year end.\n", encoding="utf-8"
    )
    pipeline = Pipeline(fake_settings, embedder_overrides=dict(fakes))
    first = pipeline.ingest([corpus])
    assert first.page_heads_embedded == 4  # two pages, two embedders
    spec = pipeline.specs[0]
    assert set(stored_heads(pipeline.store, spec, "ACME_2019_10K.md")) == {"ACME_2019_10K.md#p1"}
    vector = fakes["use-multilingual"].embed_query("cash")
    scoped = query_heads(pipeline.store, spec, vector, 5, {"doc_id": "ZENITH_2019_10K.md"})
    assert [(d, p) for d, p, _ in scoped] == [("ZENITH_2019_10K.md", 1)]
    passages = pipeline.searcher.search("Acme operating cash", 3)
    assert passages and passages[0].chunk.doc_id == "ACME_2019_10K.md"
    # The prior lifts Acme's chunks, the heads search all pages; the filter still decides.
    filtered = pipeline.searcher.search("Acme total assets", 3, {"doc_id": "ZENITH_2019_10K.md"})
    assert {p.chunk.doc_id for p in filtered} == {"ZENITH_2019_10K.md"}
    calls = sum(f.calls for f in fakes.values())
    (corpus / "ACME_2019_10K.md").touch()
    assert pipeline.ingest([corpus]).page_heads_embedded == 0
    assert sum(f.calls for f in fakes.values()) == calls
    pipeline.store.remove_document("ACME_2019_10K.md")
    assert not stored_heads(pipeline.store, spec, "ACME_2019_10K.md")


def test_the_named_documents_best_chunks_are_candidates_beside_the_corpus_top(
    fake_settings: Settings, fakes: dict[str, CountingFake]
) -> None:
    """Among many filings the one a question names rarely reaches the top of all of them on
    shared words: its best chunks join BM25's candidates."""
    corpus = fake_settings.corpus
    corpus.mkdir(parents=True)
    for number in range(12):
        name = f"OTHER{chr(ord('A') + number)}"
        (corpus / f"{name}_2019_10K.md").write_text(
            "# Cash flows\n\nOperating cash flow and operating cash rose; operating cash "
            "flow was strong.\n",
            encoding="utf-8",
        )
    (corpus / "ACME_2019_10K.md").write_text(
        "# Liquidity\n\nOperating cash was 12 million, against a debt of 40 million.\n",
        encoding="utf-8",
    )
    pipeline = Pipeline(fake_settings, embedder_overrides=dict(fakes))
    pipeline.ingest([corpus])
    searcher = pipeline.searcher
    searcher.candidates = 1
    question = "Acme operating cash flow"
    searcher.search(question, 5)  # makes the document router
    state = searcher.lexical()
    assert state.router is not None
    named = routed(state.router.gains(question))
    assert named[0] == "ACME_2019_10K.md"

    def documents(scores: Any) -> set[str]:
        return {state.chunks[state.position[c]].doc_id for c in scores}

    alone = searcher._lexical_lists(state, question, "en", None)[0]
    assert "ACME_2019_10K.md" not in documents(alone.scores)
    with_named = searcher._lexical_lists(state, question, "en", None, named=named)[0]
    assert "ACME_2019_10K.md" in documents(with_named.scores)
