"""Bilingual lexicon: mined term pairs, question translation, romanisation."""

import re

import pytest

from policyqa.domain import load_domain
from policyqa.index.glosses import TermPair, mine_term_pairs
from policyqa.retrieval.crosslang import Lexicon, romanize, romanized_forms

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon(domain=load_domain("korea"))


# -- mine_term_pairs ----------------------------------------------------------------------------


def _pairs(text: str) -> set[tuple[str, str]]:
    return {(p.ko, p.en) for p in mine_term_pairs(text)}


def test_mines_english_term_glossed_in_korean() -> None:
    pairs = mine_term_pairs("Special mega-region agreement (초광역특별협약)")
    assert {(p.ko, p.en) for p in pairs} == {("초광역특별협약", "Special mega-region agreement")}
    assert all(p.source == "corpus" for p in pairs)


def test_mined_english_side_drops_leading_function_words() -> None:
    assert _pairs("to introduce the special mega-region agreement (초광역특별협약)") == {
        ("초광역특별협약", "special mega-region agreement")
    }


def test_mines_korean_term_glossed_with_acronym() -> None:
    assert _pairs("지역내총생산(GRDP)") == {("지역내총생산", "GRDP")}


def test_mines_acronym_glossed_in_korean() -> None:
    assert _pairs("RISE(지역혁신중심 대학지원체계)") == {("지역혁신중심 대학지원체계", "RISE")}


def test_mining_normalises_decomposed_hangul() -> None:
    decomposed = "지역내총생산(GRDP)".replace("지", "\u110c\u1175")
    assert _pairs(decomposed) == {("지역내총생산", "GRDP")}


@pytest.mark.parametrize(
    "text",
    [
        "(segye.com 20250930518307)",
        "기사(segye.com 20250930518307)",
        "출처: 세계일보(segye.com 20250930518307)",
        "연합뉴스(yna.co.kr)",
        "기사(kr)",
    ],
)
def test_url_and_source_id_noise_yields_no_pair(text: str) -> None:
    assert mine_term_pairs(text) == []


# -- Lexicon.translate --------------------------------------------------------------------------


def test_korean_glossary_term_gets_english_translation(lexicon: Lexicon) -> None:
    terms = lexicon.translate("포괄보조 규모는 얼마인가요?")
    assert "block grant" in terms


def test_english_glossary_term_gets_korean_translation(lexicon: Lexicon) -> None:
    assert lexicon.translate("How large are the block grants?") == ["포괄보조"]


def test_english_match_is_whole_word(lexicon: Lexicon) -> None:
    # "bus" must not match inside "business"
    assert "버스" not in lexicon.translate("What business incentives exist?")


def test_korean_place_name_translates_to_its_region(lexicon: Lexicon) -> None:
    assert "Gangwon" in lexicon.translate("춘천에 대한 지원은?")


def test_english_place_name_translates_to_korean_region_terms(lexicon: Lexicon) -> None:
    terms = lexicon.translate("What is planned for Changwon?")
    assert "동남권" in terms
    assert all(_HANGUL.search(t) for t in terms)


def test_term_inside_longer_matched_term_adds_no_translation(lexicon: Lexicon) -> None:
    terms = lexicon.translate("국가균형성장 전략은?")
    assert "national balanced growth" in terms
    assert "balanced growth" not in terms
    assert "growth" not in terms
    assert "strategy" in terms


def test_longest_term_comes_first(lexicon: Lexicon) -> None:
    assert lexicon.translate("국가균형성장 전략은?")[0] == "national balanced growth"


def test_translation_has_no_duplicates(lexicon: Lexicon) -> None:
    for question in [
        "Tell me about the block grant and block grants for the block grant scheme",
        "포괄보조와 포괄보조금, 포괄보조 예산",
        "춘천과 원주, 강릉의 지원",
    ]:
        terms = lexicon.translate(question)
        assert len(terms) == len(set(terms)), (question, terms)


def test_translation_omits_terms_already_in_question(lexicon: Lexicon) -> None:
    # "AI" would add 인공지능 and 지역내총생산 would add GRDP, but both are already asked
    assert lexicon.translate("인공지능(AI) 전략") == ["artificial intelligence", "strategy"]
    assert lexicon.translate("GRDP 지역내총생산") == ["gross regional domestic product"]


def test_question_without_known_terms_translates_to_nothing(lexicon: Lexicon) -> None:
    assert lexicon.translate("Hello there, friend") == []


def test_mined_pairs_extend_the_lexicon() -> None:
    texts = ["Special mega-region agreement (초광역특별협약) 체결", "no parens"]
    lexicon = Lexicon(pair for text in texts for pair in mine_term_pairs(text))
    assert "Special mega-region agreement" in lexicon.translate("초광역특별협약 현황은?")
    assert "초광역특별협약" in lexicon.translate("Who signed the special mega-region agreement?")


def test_duplicate_pairs_are_added_once() -> None:
    pair = TermPair("초광역특별협약", "Mega agreement", "corpus")
    pairs = [pair, TermPair("초광역특별협약", "mega AGREEMENT", "corpus")]
    lexicon = Lexicon(pairs, load_domain("korea"))
    assert sum(p.ko == "초광역특별협약" for p in lexicon.pairs) == 1


def test_standalone_english_term_is_not_hidden_by_a_longer_word_containing_it(
    lexicon: Lexicon,
) -> None:
    terms = lexicon.translate("Will the taxi fleet get a tax cut?")
    assert "택시" in terms
    assert "세제" in terms


# -- romanisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hangul", "latin"),
    [("새만금", "saemangeum"), ("창원", "changwon"), ("강원", "gangwon"), ("울산", "ulsan")],
)
def test_romanize_known_place_names(hangul: str, latin: str) -> None:
    assert romanize(hangul) == latin


def test_romanize_non_hangul_is_empty() -> None:
    assert romanize("Seoul") == ""
    assert romanize("서울1") == ""


def test_romanized_forms_maps_latin_to_hangul_for_multi_syllable_words() -> None:
    forms = romanized_forms(["새만금", "창원", "가", "abc", "강원", "울산"])
    assert forms == {
        "saemangeum": "새만금",
        "changwon": "창원",
        "gangwon": "강원",
        "ulsan": "울산",
    }


def test_romanized_forms_skips_short_romanisations() -> None:
    assert romanized_forms(["오이"]) == {}  # "oi": too short to be a useful search form


def test_translations_are_grouped_by_the_word_they_translate(lexicon: Lexicon) -> None:
    groups = lexicon.translate_groups("포괄보조 목표는?")
    target = next(g for g in groups if "target" in g)
    assert "goal" in target  # alternatives for 목표, one group
    assert not any("target" in g for g in groups if g is not target)
    assert lexicon.translate("포괄보조 목표는?") == [t for g in groups for t in g]


def test_a_korean_term_must_not_straddle_a_morpheme_boundary(lexicon: Lexicon) -> None:
    from policyqa.index.lexical import Tokenizer

    tokenizer = Tokenizer()
    question = "전북이 특별자치도로 출범한 게 언제예요?"
    assert "road" in lexicon.translate(question)  # plain substring matching: 자치"도로"
    assert "road" not in lexicon.translate(question, tokenizer.boundaries)
    # a term inside one compound still counts
    assert "mega-region" in lexicon.translate("초광역특별협약은 뭐예요?", tokenizer.boundaries)
    assert "medical" in lexicon.translate("지역의료 대책은?", tokenizer.boundaries)


def test_the_strategys_short_name_translates_both_ways(lexicon: Lexicon) -> None:
    from policyqa.index.lexical import Tokenizer

    boundaries = Tokenizer().boundaries
    # "5극3특" is one term, written with or without a space; its parts are not added again
    for question in ("목포는 5극3특에서 어느 권역이에요?", "5극 3특 계획이 뭐예요?"):
        groups = lexicon.translate_groups(question, boundaries)
        assert any(g[0] == "5 poles and 3 special" for g in groups)
        assert not any("5 poles" in g or "3 special" in g for g in groups)
    assert "region" in lexicon.translate("목포는 5극3특에서 어느 권역이에요?", boundaries)
    english = lexicon.translate("What does the 5 poles 3 special plan mean for us?")
    assert "5극3특" in english and "계획" in english
