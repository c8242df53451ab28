from pathlib import Path

import pytest

from policyqa.core.tuning import TRANSLATED_WEIGHT
from policyqa.pipeline import Pipeline
from policyqa.retrieval.filters import parse_filters, to_chroma_where

from .conftest import CountingFake, write_small_corpus


@pytest.fixture
def indexed(fake_pipeline: Pipeline) -> Pipeline:
    write_small_corpus(fake_pipeline.settings.corpus)
    fake_pipeline.ingest()
    return fake_pipeline


def test_korean_lexical_match_ranks_first(indexed: Pipeline) -> None:
    passages = indexed.search("광역철도 확대 계획은?", k=3)
    assert passages[0].chunk.doc_id == "transport-ko.md"
    assert passages[0].lexical_score and passages[0].lexical_score > 0
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))


def test_english_stemmed_match(indexed: Pipeline) -> None:
    passages = indexed.search("how much do block grant budgets grow", k=3)
    # Stems match ("grants"/"grant", "grow"); the Korean budget file also comes up through the
    # translated terms, and with noise embeddings either may lead.
    english = next(p for p in passages[:2] if p.chunk.doc_id == "budget-en.md")
    assert english.lexical_score and english.lexical_score > 0


def test_filters_restrict_both_retrievers(indexed: Pipeline) -> None:
    only_ko = indexed.search("block grants 포괄보조", k=5, filters={"language": "ko"})
    assert only_ko and all(p.chunk.language == "ko" for p in only_ko)
    one_doc = indexed.search("포괄보조", k=5, filters={"doc_id": "transport-ko.md"})
    assert {p.chunk.doc_id for p in one_doc} <= {"transport-ko.md"}
    several = indexed.search("포괄보조", k=5, filters={"doc_id": ["budget-ko.md", "budget-en.md"]})
    assert {p.chunk.doc_id for p in several} <= {"budget-ko.md", "budget-en.md"}


def test_langchain_retriever(indexed: Pipeline) -> None:
    docs = indexed.retriever(k=2).invoke("포괄보조 2026")
    # Both budget files say it (the English one found through the translated term); the fake
    # embeddings are noise, so only membership of the top two is stable here.
    assert {d.metadata["doc_id"] for d in docs} == {"budget-ko.md", "budget-en.md"}
    assert {"page", "page_label", "section", "score", "chunk_id"} <= set(docs[0].metadata)


def test_empty_question_and_empty_index(fake_pipeline: Pipeline) -> None:
    assert fake_pipeline.search("   ") == []
    assert fake_pipeline.search("anything") == []


def test_lexical_index_follows_another_writer(
    indexed: Pipeline, fakes: dict[str, CountingFake]
) -> None:
    """Two app servers on one Chroma: the reader's BM25 is rebuilt from what Chroma holds."""
    reader = Pipeline(
        indexed.settings.replace(home=indexed.settings.home / "reader"),
        embedder_overrides=dict(fakes),
        client=indexed.store.client,
    )
    first = reader.search("포괄보조", filters={"language": "ko"})
    assert first[0].chunk.doc_id == "budget-ko.md"
    (indexed.settings.corpus / "jeju-ko.md").write_text(
        "# 제주\n\n제주특별자치도는 2006년 출범했다.\n", encoding="utf-8"
    )
    indexed.ingest()
    reader.searcher.invalidate()  # skip the refresh throttle
    found = reader.search("제주특별자치도 출범", filters={"language": "ko"})
    assert found[0].chunk.doc_id == "jeju-ko.md" and found[0].lexical_score


def test_filter_parsing() -> None:
    assert parse_filters(["doc_id=a.pdf", "page=3"]) == {"doc_id": "a.pdf", "page": 3}
    assert parse_filters(["language=ko|en"]) == {"language": ["ko", "en"]}
    assert to_chroma_where({"a": 1, "b": ["x", "y"]}) == {
        "$and": [{"a": 1}, {"b": {"$in": ["x", "y"]}}]
    }
    with pytest.raises(ValueError, match="key=value"):
        parse_filters(["nonsense"])


def test_lexical_state_after_a_change_reads_and_analyses_only_new_chunks(
    indexed: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher = indexed.searcher
    before = searcher.lexical()
    old = {c.id: c for c in before.chunks}
    fetched: list[str] = []
    analysed: list[str] = []
    chunks_of = searcher.store.chunks_of
    tokenize_many = searcher.tokenizer.tokenize_many

    def spy_fetch(doc_ids):  # type: ignore[no-untyped-def]
        fetched.extend(doc_ids)
        return chunks_of(doc_ids)

    def spy_tokenize(texts):  # type: ignore[no-untyped-def]
        analysed.extend(texts)
        return tokenize_many(texts)

    def no_full_read():  # type: ignore[no-untyped-def]
        raise AssertionError("read every chunk again")

    monkeypatch.setattr(searcher.store, "chunks_of", spy_fetch)
    monkeypatch.setattr(searcher.store, "all_chunks", no_full_read)
    monkeypatch.setattr(searcher.tokenizer, "tokenize_many", spy_tokenize)
    (indexed.settings.corpus / "jeju-ko.md").write_text(
        "# 제주\n\n제주특별자치도(Jeju Special Self-Governing Province)는 2006년 출범했다.\n",
        encoding="utf-8",
    )
    (indexed.settings.corpus / "budget-en.md").unlink()
    indexed.ingest(prune=True)
    searcher.invalidate()
    after = searcher.lexical()
    assert fetched == ["jeju-ko.md"]  # only the new document's chunks were read
    new_ids = {c.id for c in after.chunks} - set(old)
    assert new_ids and len(analysed) == len(new_ids)
    assert not any(c.doc_id == "budget-en.md" for c in after.chunks)  # the removed one is gone
    for chunk in after.chunks:
        if chunk.id in old:
            assert chunk is old[chunk.id]  # reused, not read again
    # what the new chunk brings is in the state: its tokens, its gloss, its region
    position = after.position[next(iter(new_ids))]
    assert "jeju" in after.regions[position]
    assert any(p.ko == "제주특별자치도" for p in after.lexicon.pairs)
    assert indexed.search("제주특별자치도 출범")[0].chunk.doc_id == "jeju-ko.md"


def test_lexical_cache_survives_a_restart_without_reanalysis(
    indexed: Pipeline, fakes: dict[str, CountingFake], monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed.searcher.lexical()
    again = Pipeline(indexed.settings, embedder_overrides=dict(fakes))

    def fail(texts):  # type: ignore[no-untyped-def]
        raise AssertionError(f"re-analysed {len(texts)} texts")

    with monkeypatch.context() as patched:
        patched.setattr(again.searcher.tokenizer, "tokenize_many", fail)
        state = again.searcher.lexical()
    assert len(state.chunks) == len(indexed.searcher.lexical().chunks)
    assert again.search("포괄보조")[0].chunk.doc_id.startswith("budget")


def test_bm25_scores_equal_bm25s_own() -> None:
    import numpy as np

    from policyqa.index.lexical import LexicalIndex

    tokens = [["예산", "포괄", "보조"], ["예산", "예산", "교통"], [], ["grant", "block"], ["교통"]]
    index = LexicalIndex([f"c{i}" for i in range(len(tokens))], tokens)
    for query in (["예산"], ["예산", "교통", "예산"], ["block", "grant", "없는말"], ["없는말"]):
        known = [t for t in query if t in index._vocab]
        expected = (
            index._bm25.get_scores(known) if known else np.zeros(len(tokens), dtype=np.float32)
        )
        assert np.allclose(index.scores(query), expected, atol=1e-6), query


def test_lexical_cache_shares_token_strings_and_ignores_old_versions(tmp_path: Path) -> None:
    from policyqa.index.lexcache import ChunkAnalysis, LexicalCache, _write_cache
    from policyqa.retrieval.crosslang import TermPair

    path = tmp_path / "lexical.jsonl"
    entries = {
        f"h{i}": ChunkAnalysis(
            ["".join(["예", "산"]), "".join(["교", "통"])],
            (TermPair("예산", "budget", "corpus"),),
            frozenset({"jeju"}),
        )
        for i in range(3)
    }
    _write_cache(path, {"version": LexicalCache.VERSION, "entries": entries})
    cache = LexicalCache(path)
    first, second = cache.get("h0"), cache.get("h1")
    assert first is not None and second is not None
    assert first == entries["h0"]
    assert first.tokens[0] is second.tokens[0]  # read tokens are interned
    # a file of an older version holds tokens of older rules: its chunks are analysed again
    _write_cache(path, {"version": LexicalCache.VERSION - 1, "entries": entries})
    assert LexicalCache(path).get("h0") is None


def test_a_planted_pickle_as_lexical_cache_runs_no_code(tmp_path: Path) -> None:
    """Issue 19, probe 9: the cache was a pickle, so a planted file ran code when loaded."""
    import pickle

    from policyqa.retrieval.searcher import LexicalCache

    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self) -> tuple[object, ...]:
            return (Path.touch, (marker,))

    path = tmp_path / "lexical.jsonl"
    payload = {"version": LexicalCache.VERSION, "entries": {}, "x": Exploit()}
    path.write_bytes(pickle.dumps(payload))
    assert LexicalCache(path).get("h0") is None
    assert not marker.exists()


def test_acronyms_keep_their_capitals() -> None:
    from policyqa.index.lexical import Tokenizer

    tokenize = Tokenizer().tokenize
    assert "RISE" in tokenize("restructure RISE, the regional university support system")
    assert "RISE" not in tokenize("block grants rising to KRW 10.6 trillion")
    assert tokenize("What is RISE?") == ["RISE"]
    assert "AI" in tokenize("AI 특화 계약학과")
    # all-capital stop words are dropped, and long capitalised words are words as usual
    assert tokenize("IT IS THE PLAN") == ["PLAN"]
    assert tokenize("THE INTRODUCTION") == tokenize("the introduction")


def test_a_repeated_question_reuses_its_vector_until_forgotten(
    indexed: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher = indexed.searcher
    calls: list[str] = []
    original = CountingFake.embed_query

    def counting(self: CountingFake, text: str) -> list[float]:
        calls.append(text)
        return original(self, text)

    monkeypatch.setattr(CountingFake, "embed_query", counting)
    first = [p.chunk.id for p in indexed.search("광역철도 확대")]
    embedded = len(calls)
    assert embedded >= 1
    assert [p.chunk.id for p in indexed.search("광역철도 확대")] == first
    assert len(calls) == embedded  # from the cache
    searcher.forget_questions()
    assert [p.chunk.id for p in indexed.search("광역철도 확대")] == first
    assert len(calls) == 2 * embedded  # embedded again, same result


def test_bm25_max_score_bounds_every_chunk(indexed: Pipeline) -> None:
    state = indexed.searcher.lexical()
    for question in ("광역철도 확대", "block grants 2026", "포괄보조 예산"):
        tokens = indexed.searcher.tokenizer.tokenize(question)
        scores = state.index.scores(tokens)
        assert scores.max() <= state.index.max_score(tokens) + 1e-6
        assert state.index.max_score(tokens) > 0
    assert state.index.max_score(["없는낱말"]) == 0.0


def test_a_weak_best_lexical_match_is_not_scored_as_a_full_match(
    fake_pipeline: Pipeline,
) -> None:
    from policyqa.retrieval.searcher import LEXICAL_SCALE_FLOOR

    fruits = ["apple", "banana", "cherry", "damson", "elder", "fig", "guava", "kiwi", "lime"]
    for fruit in fruits:
        (fake_pipeline.settings.corpus / f"{fruit}.md").write_text(
            f"# {fruit}\n\nThe orchard report lists {fruit} trees planted this year.\n",
            encoding="utf-8",
        )
    fake_pipeline.ingest()
    searcher = fake_pipeline.searcher
    state = searcher.lexical()
    # every chunk holds one of the nine rare words asked about: the best match is weak
    question = "Which of " + ", ".join(fruits) + " were planted?"
    own = searcher._lexical_lists(state, question, "en", None, [])[0]
    bound = state.index.max_score(searcher.tokenizer.tokenize(question))
    best = max(own.scores.values())
    assert best < LEXICAL_SCALE_FLOOR * bound  # the case the floor is for
    assert own.scale is not None and own.scale >= LEXICAL_SCALE_FLOOR * bound


def test_dense_candidates_keep_the_other_languages_best(
    indexed: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multilingual embedder ranks a Korean question's Korean chunks above every English
    one; the English chunk a translated BM25 list found must still get its dense score."""
    from policyqa.retrieval.searcher import DENSE_DEPTH

    searcher = indexed.searcher
    searcher.candidates = 2
    state = searcher.lexical()
    korean = [c.id for c in state.chunks if c.language == "ko"]
    english = [c.id for c in state.chunks if c.language == "en"]
    assert len(korean) >= 2 and english
    asked: list[int] = []

    def query(spec: object, vector: object, n: int, where: object) -> list[tuple[str, float]]:
        asked.append(n)
        ranked = [(cid, 0.9 - 0.01 * i) for i, cid in enumerate(korean)]
        ranked += [(cid, 0.5 - 0.01 * i) for i, cid in enumerate(english)]
        return ranked[:n]

    monkeypatch.setattr(searcher.store, "query", query)
    passages = searcher.search("포괄보조 예산은 얼마나 늘어요?", k=5)
    assert asked and all(n == 2 * DENSE_DEPTH for n in asked)
    by_id = {p.chunk.id: p for p in passages}
    found = [cid for cid in english if cid in by_id]
    assert found and by_id[found[0]].dense_score == pytest.approx(0.5)


class _FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_invalidate_forces_a_fresh_read_on_a_clock_that_started_recently(
    indexed: Pipeline,
) -> None:
    """A machine booted a minute ago has a monotonic clock near zero: invalidation must not
    depend on how far the clock is from zero, and the throttle must still hold otherwise."""
    clock = _FakeClock(1.0)
    searcher = indexed.searcher
    searcher._clock = clock
    searcher.invalidate()
    before = searcher.lexical()
    assert any(c.doc_id == "budget-ko.md" for c in before.chunks)
    # removed by another process (an ingest in this one calibrates, which re-reads the index)
    indexed.store.remove_document("budget-ko.md")
    indexed.store.touch_state()
    clock.now = 1.5  # within the refresh interval: without invalidation the old state is kept
    assert searcher.lexical() is before
    searcher.invalidate()
    after = searcher.lexical()
    assert not any(c.doc_id == "budget-ko.md" for c in after.chunks)


def test_a_question_word_meets_its_capitalised_form_in_a_document() -> None:
    from policyqa.index.lexical import LexicalIndex, Tokenizer

    tokenizer = Tokenizer()
    docs = ["CONSOLIDATED STATEMENTS OF CASH FLOWS", "Net sales by segment", "BOEING annual report"]
    index = LexicalIndex(["a", "b", "c"], tokenizer.tokenize_many(docs))
    question = "What does the cash flow statement of Boeing show?"
    forms = tokenizer.capitalised_forms(question)
    assert {"CASH", "FLOW", "BOEING"} <= set(forms)
    assert "WHAT" not in forms and "THE" not in forms  # stop words are not searched
    plain = index.scores(tokenizer.tokenize(question))
    assert plain[2] == 0  # "BOEING" never met the question's "Boeing"
    tokens = tokenizer.tokenize(question) + [f for f in forms if index.contains(f)]
    scores = index.scores(tokens)
    assert scores[0] > plain[0] and scores[2] > 0
    # an acronym in the question stays the acronym only
    assert tokenizer.capitalised_forms("RISE 사업") == []
    # a heading's plural meets the question's singular and the reverse
    sheets = LexicalIndex(["d"], tokenizer.tokenize_many(["CONSOLIDATED BALANCE SHEETS"]))
    asked = "Basing your answer on the balance sheet, what are accounts payable?"
    with_forms = tokenizer.tokenize(asked) + [
        f for f in tokenizer.capitalised_forms(asked) if sheets.contains(f)
    ]
    assert "SHEETS" in with_forms
    assert sheets.scores(with_forms)[0] > sheets.scores(tokenizer.tokenize(asked))[0]
    assert "FLOW" in tokenizer.capitalised_forms("cash flows")
    # plurals of "-es" and "-ies" both ways; an "s" that is not a plural's is not dropped
    assert {"TAXES", "LOSSES"} <= set(tokenizer.capitalised_forms("tax on the loss"))
    assert "ENTRY" in tokenizer.capitalised_forms("journal entries")
    assert "GA" not in tokenizer.capitalised_forms("natural gas")


@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("sheet", "sheets"),
        ("sheets", "sheet"),
        ("tax", "taxes"),
        ("taxes", "tax"),
        ("loss", "losses"),
        ("losses", "loss"),
        ("entry", "entries"),
        ("entries", "entry"),
        ("day", "days"),
        ("gas", ""),
        ("status", ""),
        ("analysis", ""),
    ],
)
def test_other_number_of_an_english_noun(word: str, other: str) -> None:
    from policyqa.index.lexical import other_number

    assert other_number(word) == other


def test_a_language_specific_embedder_carries_its_chunks() -> None:
    from policyqa.core.tuning import MULTILINGUAL_SHARE
    from policyqa.index.embed import EmbedderSpec
    from policyqa.retrieval.weighing import dense_shares

    use = EmbedderSpec("use-multilingual")
    minilm = EmbedderSpec("sentence-transformers:all-MiniLM-L6-v2", "en")
    english = dense_shares([use, minilm], "en")
    # on the chunks MiniLM covers the two split the dense weight 1 : MULTILINGUAL_SHARE (together
    # they weigh what one embedder would), elsewhere USE carries it all
    split = 1.0 + MULTILINGUAL_SHARE
    assert english[use] == {"en": MULTILINGUAL_SHARE / split, "mixed": MULTILINGUAL_SHARE / split}
    assert english[minilm] == {"en": 1.0 / split, "mixed": 1.0 / split}
    assert english[use]["en"] + english[minilm]["en"] == pytest.approx(1.0)
    # a Korean question, or no English embedder: USE counts fully everywhere
    assert dense_shares([use, minilm], "ko")[use] == {}
    assert dense_shares([use], "en")[use] == {}


def test_searched_documents_follow_the_filters(indexed: Pipeline) -> None:
    searcher = indexed.searcher
    everything = ["budget-en.md", "budget-ko.md", "transport-ko.md"]
    assert searcher.documents() == everything
    assert searcher.documents({"language": "ko"}) == ["budget-ko.md", "transport-ko.md"]
    assert searcher.documents({"doc_id": "budget-en.md"}) == ["budget-en.md"]
    assert searcher.documents({"doc_id": "nothing.pdf"}) == []


def test_term_table_finds_the_other_language_for_a_word_no_glossary_knows(
    indexed: Pipeline,
) -> None:
    """'commute' is in no glossary and no document glosses it: the Korean chunk is found
    through the term table's nearest Korean word, and only above the threshold."""
    import numpy as np

    from policyqa.retrieval.calibration import TermTable, unit_rows

    searcher = indexed.searcher
    state = searcher.lexical()
    use = searcher.embedders[0][1]
    near = unit_rows([use.embed_query("commute")])
    table = TermTable("ko", ("광역철도",), ("광역철도",), near)
    searcher.use_calibration(None, {"ko": table})
    question = "What is the plan for the daily commute?"
    matches = searcher.terms.match(state.token, question, "en")
    assert [(m.word, m.token) for m in matches] == [("commute", "광역철도")]
    lists = searcher._lexical_lists(
        state, question, "en", None, searcher.translations(state, question, "en"), matches
    )
    translated = next(x for x in lists if x.name == "lexical:translated")
    assert {state.chunks[state.position[c]].doc_id for c in translated.scores} == {
        "transport-ko.md"
    }
    # an unrelated vector: nothing passes the threshold, the table adds no term
    far = unit_rows([-np.asarray(use.embed_query("commute"))])
    searcher.use_calibration(None, {"ko": TermTable("ko", ("광역철도",), ("광역철도",), far)})
    assert searcher.terms.match(state.token, question, "en") == []


def test_translated_terms_weigh_what_bm25_weighs_on_the_chunks_they_search(
    indexed: Pipeline,
) -> None:
    """An English question's translated terms score Korean chunks with the Korean lexical
    weight (BM25 over Kiwi morphemes is the strong retriever there); a Korean question's
    keep their own, higher, weight on English chunks."""
    searcher = indexed.searcher
    searcher.lexical_weight = {"ko": 0.8, "en": 0.35}
    searcher.use_calibration(None, {})
    state = searcher.lexical()
    for question, language, expected in [
        ("What is the transport budget?", "en", 0.8),
        ("교통 예산은 얼마인가요?", "ko", 0.8),
    ]:
        translations = searcher.translations(state, question, language)
        assert translations, question
        lists = searcher._lexical_lists(state, question, language, None, translations)
        translated = next(x for x in lists if x.name == "lexical:translated")
        assert translated.weight == pytest.approx(expected * TRANSLATED_WEIGHT)
    searcher.lexical_weight = {"ko": 0.3, "en": 0.6}
    lists = searcher._lexical_lists(
        state,
        "교통 예산은 얼마인가요?",
        "ko",
        None,
        searcher.translations(state, "교통 예산은 얼마인가요?", "ko"),
    )
    translated = next(x for x in lists if x.name == "lexical:translated")
    assert translated.weight == pytest.approx(0.6 * TRANSLATED_WEIGHT)


def test_calibration_is_stored_with_the_index_and_redone_when_it_changes(
    indexed: Pipeline, fakes: dict[str, CountingFake]
) -> None:
    first = indexed.calibrate()
    store = indexed.calibration_store
    assert store.load() == first and first.token == indexed.store.state_token()
    assert first.terms["ko"] >= 0 and set(store.load_terms()) == {"ko", "en"}
    before = fakes["use-multilingual"].calls
    again = indexed.calibrate()  # same state of the index: nothing is measured again
    assert again == first and fakes["use-multilingual"].calls == before
    (indexed.settings.corpus / "jeju-ko.md").write_text(
        "# 제주\n\n제주특별자치도는 2006년 출범했다. 제주특별자치도는 2006년 출범했다.\n",
        encoding="utf-8",
    )
    indexed.ingest()  # an ingest that changed the index calibrates it again
    assert indexed.searcher.calibration is not None
    assert indexed.searcher.calibration.token == indexed.store.state_token() != first.token
    redone = indexed.calibrate()
    assert redone == indexed.searcher.calibration
    # a new searcher of the same home starts with the stored calibration
    fresh = Pipeline(indexed.settings, embedder_overrides=dict(fakes))
    fresh.searcher.lexical()
    assert fresh.searcher.calibration == redone


def test_each_retriever_alone_and_rrf(indexed: Pipeline) -> None:
    searcher = indexed.searcher
    for retriever in ("lexical", "dense:use-multilingual", "rrf", "default"):
        searcher.retriever = retriever
        passages = searcher.search("포괄보조 2026", k=3)
        assert passages, retriever
        if retriever == "lexical":
            assert all(p.lexical_score for p in passages if p.chunk.language == "ko")
    searcher.retriever = "dense:nothing-configured"
    assert searcher.search("포괄보조 2026", k=3) == []


def test_the_multilingual_share_follows_the_translations_the_index_holds() -> None:
    from policyqa.core.tuning import MULTILINGUAL_SHARE
    from policyqa.retrieval.calibration import Calibration
    from policyqa.retrieval.weighing import multilingual_share

    # not calibrated yet: the declared share
    assert multilingual_share(None, "en") == MULTILINGUAL_SHARE
    # English filings with no Korean at all: MiniLM carries the English chunks alone
    assert multilingual_share(Calibration("t", counterparts={}), "en") == 0.0
    # a bilingual corpus where most English passages have a Korean counterpart
    parallel = Calibration("t", counterparts={"en": 0.8, "ko": 0.9})
    assert multilingual_share(parallel, "en") == MULTILINGUAL_SHARE
    # a few translated passages in an English corpus do not make it bilingual
    assert multilingual_share(Calibration("t", counterparts={"en": 0.2}), "en") == 0.0
