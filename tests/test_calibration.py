from pathlib import Path

import numpy as np
import pytest

from policyqa.core.tuning import OWN_LANGUAGE_PRIOR, REPEATED_TRANSLATED_WEIGHT
from policyqa.retrieval.calibration import (
    Calibration,
    ChunkView,
    TermTable,
    build_term_tables,
    counterpart_share,
    english_terms,
    korean_terms,
    match_level,
    nearest_terms,
    other_language_prior,
    phrases,
    pseudo_questions,
    table_with_vectors,
)
from policyqa.retrieval.calibration_store import CalibrationStore


def _table(language: str, tokens: list[str], vectors: list[list[float]]) -> TermTable:
    v = np.asarray(vectors, dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return TermTable(language, tuple(tokens), tuple(tokens), v)


def test_nearest_terms_keeps_the_closest_word_above_the_threshold() -> None:
    table = _table("ko", ["예산", "주택", "청년"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    words = ["budget", "housing", "weather"]
    vectors = np.array([[0.9, 0.1, 0.0], [0.1, 1.0, 0.1], [0.5, 0.5, 0.5]])
    found = nearest_terms(words, vectors, table, threshold=0.7)
    assert [(m.word, m.token) for m in found] == [("budget", "예산"), ("housing", "주택")]
    assert all(0.7 <= m.similarity <= 1.0 for m in found)
    # a word no indexed word is close to finds nothing, however the table is ordered
    assert nearest_terms(["weather"], vectors[2:], table, threshold=0.7) == []


def test_a_token_matched_by_two_words_keeps_its_best_similarity() -> None:
    table = _table("ko", ["청년"], [[1, 0]])
    found = nearest_terms(["youth", "young people"], np.array([[0.8, 0.6], [1.0, 0.1]]), table)
    assert len(found) == 1 and found[0].word == "young people"


def test_phrases_pair_only_neighbouring_content_words() -> None:
    words = [("Youth", True), ("Job", True), ("in", False), ("Creation", True), ("2024", False)]
    assert phrases(words) == ["Youth", "Job", "Creation", "Youth Job"]


def test_korean_terms_need_two_chunks_and_hangul() -> None:
    df = {"예산": 5, "주택": 1, "budget": 9, "정책": 3, "가": 9}
    assert korean_terms(df) == ["예산", "정책"]
    assert korean_terms(df, limit=1) == ["예산"]


def test_english_terms_embed_each_stem_as_its_most_frequent_written_form() -> None:
    def stem(word: str) -> str | None:
        return None if word.lower() == "the" else word.lower().rstrip("s")

    texts = ["Housing loans and the housing plan", "housing", "GDP grows; Loans"]
    pairs = english_terms(texts, stem, {"housing": 3, "loan": 2, "plan": 1, "gdp": 5})
    # "plan" is in one chunk only, "GDP" is an acronym, "the" has no stem
    assert pairs == [("housing", "housing"), ("loan", "loans")]


def test_table_vectors_are_reused_and_only_new_words_embedded() -> None:
    embedded: list[str] = []

    def embed(texts: list[str]) -> list[list[float]]:
        embedded.extend(texts)
        return [[float(len(t)), 1.0] for t in texts]

    first = table_with_vectors("ko", [("예산", "예산")], None, embed)
    second = table_with_vectors("ko", [("예산", "예산"), ("주택정비", "주택정비")], first, embed)
    assert embedded == ["예산", "주택정비"]
    assert len(second) == 2 and np.allclose(np.linalg.norm(second.vectors, axis=1), 1.0)
    assert np.allclose(second.vectors[0], first.vectors[0])


def test_build_term_tables_covers_both_languages() -> None:
    def embed(texts: list[str]) -> list[list[float]]:
        return [[1.0, float(i)] for i, _ in enumerate(texts)]

    tables = build_term_tables(
        {"예산": 2, "budget": 2}, ["the budget", "a budget"], lambda w: w.lower(), embed
    )
    assert tables["ko"].tokens == ("예산",) and tables["en"].tokens == ("budget",)


def _chunks() -> list[ChunkView]:
    text = (
        "The council approved the regional transport plan last spring. "
        "Bus routes will connect every county seat to the rail hub by 2027. "
        "Funding comes from the provincial budget and a national grant."
    )
    out = []
    for page in range(1, 6):
        out.append(ChunkView(f"d#p{page}#c0", ("d", page), "en", text))
        out.append(ChunkView(f"d#p{page}#c1", ("d", page), "en", f"Page {page} annex."))
    out.append(ChunkView("e#p1#c0", ("e", 1), "en", text))  # alone on its page
    return out


def test_pseudo_questions_are_deterministic_and_ask_for_the_rest_of_the_page() -> None:
    def split(text: str) -> list[str]:
        return [s for s in text.split(". ") if s]

    first = pseudo_questions(_chunks(), split, per_language=3, seed=1)
    again = pseudo_questions(_chunks(), split, per_language=3, seed=1)
    assert first == again and len(first) == 3
    for q in first:
        assert q.source.startswith("d#") and q.source not in q.targets
        page = q.source.split("#c")[0]
        assert q.targets and all(t.startswith(page) for t in q.targets)
        assert 6 <= len(q.text.split()) <= 40


def test_pseudo_questions_skip_sentences_the_neighbours_repeat() -> None:
    same = "a sentence of enough words to be asked as a question here"
    chunks = [ChunkView("a", ("d", 1), "en", same), ChunkView("b", ("d", 1), "en", same)]
    assert pseudo_questions(chunks, lambda t: [t]) == []


def test_match_level_is_the_median() -> None:
    assert match_level([0.2, 0.9, 0.4]) == pytest.approx(0.4)
    assert match_level([]) == 0.0


def test_store_round_trip_and_damaged_files(tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path / "cal")
    assert store.load() is None and store.load_terms() == {}
    calibration = Calibration(
        "tok", {("use-multilingual", "ko"): 0.42}, {"ko": 0.5}, {"ko": 3}, {"ko": 2}, 1.5
    )
    store.save(calibration)
    store.save_terms({"ko": _table("ko", ["예산", "주택"], [[1, 0], [0, 1]])})
    assert store.load() == calibration
    table = store.load_terms()["ko"]
    assert table.tokens == ("예산", "주택") and table.vectors.shape == (2, 2)
    (tmp_path / "cal" / "calibration.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "cal" / "terms-ko.npz").write_bytes(b"damaged")
    assert store.load() is None and store.load_terms() == {}


def test_the_other_language_is_discounted_only_as_far_as_it_repeats_the_question_language() -> None:
    assert counterpart_share([0.7, 0.65, 0.3, 0.2]) == 0.5
    assert counterpart_share([]) == 0.0
    assert other_language_prior(0.0) == 1.0
    assert other_language_prior(1.0) == pytest.approx(OWN_LANGUAGE_PRIOR)
    # a bilingual corpus whose Korean passages all have English counterparts: an English
    # question prefers English passages and weighs translated BM25 as before calibration
    parallel = Calibration("t", counterparts={"ko": 1.0, "en": 0.0})
    assert parallel.other_language_prior("en") == pytest.approx(OWN_LANGUAGE_PRIOR)
    assert parallel.translated_weight("en") == pytest.approx(REPEATED_TRANSLATED_WEIGHT)
    # the English passages have no Korean counterpart: a Korean question has no reason to
    # prefer Korean ones, and translations are full evidence
    assert parallel.other_language_prior("ko") == 1.0 and parallel.translated_weight("ko") == 1.0
    assert Calibration("t").other_language_prior("mixed") == 1.0
