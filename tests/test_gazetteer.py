import re
import time

import pytest

from policyqa.domain import load_domain
from policyqa.domain.gazetteer import Gazetteer
from policyqa.domain.gazetteer import PlaceMatch as RegionMatch

_GAZETTEER = load_domain("korea").gazetteer
assert isinstance(_GAZETTEER, Gazetteer)
GROUPS, PROVINCES, PLACES = _GAZETTEER.areas, _GAZETTEER.provinces, _GAZETTEER.places
find_regions, groups_in = _GAZETTEER.find, _GAZETTEER.areas_in
search_terms, describe = _GAZETTEER.search_terms, _GAZETTEER.describe

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _one(text: str) -> RegionMatch:
    matches = find_regions(text)
    assert len(matches) == 1, (text, matches)
    return matches[0]


def _triples(text: str) -> list[tuple[str, str | None, str | None]]:
    return [(m.area, m.province, m.place) for m in find_regions(text)]


# -- data ------------------------------------------------------------------------------------


def test_data_is_consistent() -> None:
    assert len(GROUPS) == 8
    assert len(PROVINCES) == 17
    assert {g.kind for g in GROUPS.values()} == {"pole", "special"}
    assert sum(g.kind == "special" for g in GROUPS.values()) == 3
    for group in GROUPS.values():
        assert group.provinces, group.id
        for province in group.provinces:
            assert PROVINCES[province].area == group.id
    for province in PROVINCES.values():
        assert province.area in GROUPS
    assert sorted(p for g in GROUPS.values() for p in g.provinces) == sorted(PROVINCES)
    for place in PLACES:
        assert place.province in PROVINCES, place
        assert not place.name_ko.endswith(("시", "군")), place
    keys = [(p.name_ko, p.province) for p in PLACES]
    assert len(keys) == len(set(keys))


def test_place_coverage() -> None:
    # All 시/군 as of 2024: 159 (+ two districts, 강남 and 해운대).
    counts: dict[str, int] = {}
    for place in PLACES:
        counts[place.province] = counts.get(place.province, 0) + 1
    assert counts["gyeonggi"] == 31
    assert counts["gangwon"] == 18
    assert counts["chungbuk"] == 11
    assert counts["chungnam"] == 15
    assert counts["jeonbuk"] == 14
    assert counts["jeonnam"] == 22
    assert counts["gyeongbuk"] == 22
    assert counts["gyeongnam"] == 18
    assert counts["jeju"] == 2
    assert len(PLACES) == 161
    gunwi = [p for p in PLACES if p.name_ko == "군위"]
    assert [p.province for p in gunwi] == ["daegu"]  # moved from Gyeongbuk in July 2023


def test_group_membership() -> None:
    assert GROUPS["capital"].provinces == ("seoul", "incheon", "gyeonggi")
    assert GROUPS["southeast"].provinces == ("busan", "ulsan", "gyeongnam")
    assert GROUPS["daegyeong"].provinces == ("daegu", "gyeongbuk")
    assert GROUPS["central"].provinces == ("daejeon", "sejong", "chungbuk", "chungnam")
    assert GROUPS["honam"].provinces == ("gwangju", "jeonnam")
    for special in ("gangwon", "jeonbuk", "jeju"):
        assert GROUPS[special].kind == "special"
        assert GROUPS[special].provinces == (special,)


# -- provinces --------------------------------------------------------------------------------


@pytest.mark.parametrize("province_id", sorted(PROVINCES))
def test_province_from_korean_short_name(province_id: str) -> None:
    province = PROVINCES[province_id]
    match = _one(f"{province.short_ko} 지역 정책은?")
    assert (match.area, match.province, match.place) == (province.area, province.id, None)
    assert match.mention == province.short_ko
    assert _one(f"{province.name_ko}의 계획").province == province.id


@pytest.mark.parametrize("province_id", sorted(PROVINCES))
def test_province_from_english_names(province_id: str) -> None:
    province = PROVINCES[province_id]
    for name in (province.name_en, province_id.capitalize(), *province.aliases_en):
        match = _one(f"What does the plan say about {name}?")
        assert (match.area, match.province, match.place) == (province.area, province.id, None)
        assert match.mention == name


def test_english_variants() -> None:
    for text in ("Gyeongsangnam-do", "Gyeongsangnam do", "South Gyeongsang", "GYEONGNAM"):
        assert _triples(text) == [("southeast", "gyeongnam", None)], text
    for text in ("Jeollanam-do", "South Jeolla", "Jeonnam"):
        assert _triples(text) == [("honam", "jeonnam", None)], text
    for text in ("Jeju-do", "Jeju Island", "jeju"):
        assert _triples(text) == [("jeju", "jeju", None)], text
    assert _triples("Gyeongsangnam‑do") == [("southeast", "gyeongnam", None)]  # non-breaking hyphen


# -- places -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "group", "province", "place"),
    [
        ("I live in Changwon", "southeast", "gyeongnam", "Changwon"),
        ("포항시청에서 일하는데", "daegyeong", "gyeongbuk", "Pohang"),
        ("춘천 사는데", "gangwon", "gangwon", "Chuncheon"),
        ("Seogwipo", "jeju", "jeju", "Seogwipo"),
        ("서귀포시에서", "jeju", "jeju", "Seogwipo"),
        ("전주에 사는데", "jeonbuk", "jeonbuk", "Jeonju"),
        ("목포", "honam", "jeonnam", "Mokpo"),
        ("Yeosu", "honam", "jeonnam", "Yeosu"),
        ("청주", "central", "chungbuk", "Cheongju"),
        ("수원시 담당자", "capital", "gyeonggi", "Suwon"),
        ("Gumi", "daegyeong", "gyeongbuk", "Gumi"),
        ("Gangneung", "gangwon", "gangwon", "Gangneung"),
        ("Changwon-si", "southeast", "gyeongnam", "Changwon"),
        ("Yangpyeong County", "capital", "gyeonggi", "Yangpyeong"),
        ("군위군", "daegyeong", "daegu", "Gunwi"),
        ("제주시", "jeju", "jeju", "Jeju"),
        ("Jeju City", "jeju", "jeju", "Jeju"),
        ("남양주에서", "capital", "gyeonggi", "Namyangju"),
        ("울릉도", "daegyeong", "gyeongbuk", "Ulleung"),
    ],
)
def test_places(text: str, group: str, province: str, place: str) -> None:
    assert _triples(text) == [(group, province, place)]


def test_every_place_is_found_with_its_suffix() -> None:
    names_ko = {p.name_ko for p in PLACES}
    for place in PLACES:
        if place.name_ko == "고성" or (place.name_ko == "광주" and place.province == "gyeonggi"):
            continue  # ambiguous: needs the province, tested below
        suffixes = ("시", "군", "구")
        found = [_triples(f"{place.name_ko}{s} 발전 계획") for s in suffixes]
        assert [(PROVINCES[place.province].area, place.province, place.name_en)] in found, place
        if place.name_en not in ("Jeju", "Gwangju", "Goseong", "Yeongdong"):
            match = _one(f"Plans for {place.name_en} are")
            assert (match.province, match.place) == (place.province, place.name_en)
    assert len(names_ko) == len(PLACES) - 1  # 고성 in Gangwon and in Gyeongnam


def test_ulsan_is_a_province_not_a_place() -> None:
    assert _triples("울산 사는데") == [("southeast", "ulsan", None)]


# -- longest match, groups --------------------------------------------------------------------


def test_longest_match() -> None:
    match = _one("강원특별자치도의 특례는?")
    assert (match.mention, match.area, match.province) == ("강원특별자치도", "gangwon", "gangwon")
    assert _one("전북특별자치도").mention == "전북특별자치도"
    assert _one("South Gyeongsang Province").mention == "South Gyeongsang Province"
    assert _one("Gangwon Special Self-Governing Province").area == "gangwon"
    assert _one("세종특별자치시").province == "sejong"
    assert _one("남양주").place == "Namyangju"  # not 양주


def test_group_names() -> None:
    for text, group in [
        ("동남권", "southeast"),
        ("부울경 메가시티", "southeast"),
        ("대경권", "daegyeong"),
        ("대구경북 통합", "daegyeong"),
        ("중부권", "central"),
        ("충청권", "central"),
        ("호남권", "honam"),
        ("서남권", "honam"),
        ("수도권 집중", "capital"),
        ("the capital area", "capital"),
        ("Seoul metropolitan area", "capital"),
        ("the capital region", "capital"),
        ("the Southeast region", "southeast"),
        ("southeastern region", "southeast"),
        ("Busan-Ulsan-Gyeongnam", "southeast"),
        ("Honam", "honam"),
        ("Chungcheong", "central"),
        ("the Central pole", "central"),
        ("Daegu-Gyeongbuk", "daegyeong"),
        ("Daegyeong", "daegyeong"),
    ]:
        match = _one(text)
        assert (match.area, match.province, match.place) == (group, None, None), text


def test_special_groups_carry_their_province() -> None:
    assert _triples("강원도") == [("gangwon", "gangwon", None)]
    assert _triples("Jeonbuk State") == [("jeonbuk", "jeonbuk", None)]
    assert _triples("전라북도") == [("jeonbuk", "jeonbuk", None)]
    assert _triples("제주도") == [("jeju", "jeju", None)]


def test_offsets_and_mentions() -> None:
    text = "Compare Busan and 광주전남 with 강원."
    matches = find_regions(text)
    assert [m.mention for m in matches] == ["Busan", "광주", "전남", "강원"]
    for m in matches:
        assert text[m.start : m.start + len(m.mention)] == m.mention


# -- ambiguity guards -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "경기 침체가 심하다",
        "경기도 좋지 않다",
        "세종대왕",
        "세종대왕이 한글을 만들었다",
        "세종시대",
        "King Sejong",
        "비수도권 지역",
        "대전환의 시대",
        "세계 대전",
        "부산물",
        "고양이",
        "예산을 늘려야 한다",
        "역량 강화가 필요하다",
        "목표를 달성했다",
        "권한을 부여한다",
        "고령화 대응",
        "음성 인식",
        "양산 체제 구축",
        "금산분리 완화",
        "영주권 제도",
        "구미호",
        "잉여수익",
        "무주택자 지원",
        "동해안 관광",
        "고성",
        "중구 동구 서구 남구 북구",
        "the central government",
        "capital investment",
        "Southeast Asia",
        "the southeast of the city",
        "a non-capital-region share",
        "see busan.com for details",
        "김포공항",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert find_regions(text) == []


def test_weak_names_in_lists() -> None:
    assert _triples("서울·경기") == [("capital", "seoul", None), ("capital", "gyeonggi", None)]
    assert _triples("인천, 경기") == [("capital", "incheon", None), ("capital", "gyeonggi", None)]
    assert _triples("경기와 인천") == [("capital", "gyeonggi", None), ("capital", "incheon", None)]
    assert [m.province for m in find_regions("대전·세종·충북")] == ["daejeon", "sejong", "chungbuk"]
    assert [m.province for m in find_regions("대전세종연구원")] == ["daejeon", "sejong"]
    assert [m.place for m in find_regions("전주·완주 통합")] == ["Jeonju", "Wanju"]
    assert [m.province for m in find_regions("서울 경기 침체")] == ["seoul"]  # a space: no list
    assert [m.province for m in find_regions("Daejeon and Sejong")] == ["daejeon", "sejong"]


def test_weak_names_with_suffix_or_context() -> None:
    assert _triples("경기도") == [("capital", "gyeonggi", None)]
    assert _triples("경기 남부") == [("capital", "gyeonggi", None)]
    assert _triples("세종시") == [("central", "sejong", None)]
    assert _triples("세종에 가면") == [("central", "sejong", None)]
    assert _triples("세종 행정수도") == [("central", "sejong", None)]
    assert _triples("강원 영동 지역") == [("gangwon", "gangwon", None)]  # not Yeongdong county
    assert _triples("충북 영동")[1] == ("central", "chungbuk", "Yeongdong")
    assert _triples("Sejong") == [("central", "sejong", None)]
    assert _triples("예산군") == [("central", "chungnam", "Yesan")]
    assert _triples("강화군") == [("capital", "incheon", "Ganghwa")]
    assert _triples("경북 상주") == [
        ("daegyeong", "gyeongbuk", None),
        ("daegyeong", "gyeongbuk", "Sangju"),
    ]
    assert _triples("상주 인구") == []


def test_gwangju_and_goseong() -> None:
    assert _triples("광주") == [("honam", "gwangju", None)]
    assert _triples("Gwangju") == [("honam", "gwangju", None)]
    assert _triples("광주광역시") == [("honam", "gwangju", None)]
    assert _triples("경기 광주") == [
        ("capital", "gyeonggi", None),
        ("capital", "gyeonggi", "Gwangju"),
    ]
    assert _triples("Gwangju, Gyeonggi")[0] == ("capital", "gyeonggi", "Gwangju")
    assert _triples("강원 고성") == [
        ("gangwon", "gangwon", None),
        ("gangwon", "gangwon", "Goseong"),
    ]
    assert _triples("경남 고성군")[1] == ("southeast", "gyeongnam", "Goseong")
    assert _triples("Goseong, South Gyeongsang")[0] == ("southeast", "gyeongnam", "Goseong")


def test_direction_prefix_and_chains() -> None:
    assert _triples("서부경남") == [("southeast", "gyeongnam", None)]
    assert [m.province for m in find_regions("광주전남")] == ["gwangju", "jeonnam"]


# -- groups_in, search_terms, describe ---------------------------------------------------------


def test_groups_in_order_and_dedup() -> None:
    text = "창원과 부산, 그리고 춘천과 강원도, 서울, Changwon, Seoul"
    assert groups_in(text) == ["southeast", "gangwon", "capital"]
    assert groups_in("수도권과 비수도권") == ["capital"]
    assert groups_in("") == []


def test_search_terms_examples() -> None:
    assert search_terms("gangwon", "en") == ["Gangwon Special Self-Governing Province", "Gangwon"]
    assert search_terms("southeast", "ko") == ["동남권", "부울경", "부산", "울산", "경남"]
    assert search_terms("southeast", "en") == ["Southeast", "Busan", "Ulsan", "Gyeongnam"]
    assert "경기도" in search_terms("capital", "ko")  # not the ambiguous "경기"


@pytest.mark.parametrize("group_id", sorted(GROUPS))
def test_search_terms_and_describe_languages(group_id: str) -> None:
    ko = search_terms(group_id, "ko")
    en = search_terms(group_id, "en")
    assert 1 <= len(ko) <= 8 and 1 <= len(en) <= 8
    assert len(set(ko)) == len(ko) and len(set(en)) == len(en)
    assert all(HANGUL.search(t) for t in ko)
    assert all(t.isascii() for t in en)
    assert "Central" not in en and "central" not in en
    assert HANGUL.search(describe(group_id, "ko"))
    assert describe(group_id, "en").isascii()
    # every term names the group when matched
    for term in ko + en:
        assert group_id in groups_in(f"{term} 지역" if HANGUL.search(term) else f"{term} area")


def test_describe_examples() -> None:
    assert describe("southeast", "en") == "Southeast (Busan, Ulsan and Gyeongnam)"
    assert describe("honam", "en") == "Honam (Gwangju and Jeonnam)"
    assert describe("southeast", "ko") == "동남권(부산·울산·경남)"
    assert describe("central", "ko") == "중부권(대전·세종·충북·충남)"
    assert describe("gangwon", "en") == "Gangwon Special Self-Governing Province"
    assert describe("jeju", "ko") == "제주특별자치도"


def test_bad_arguments() -> None:
    with pytest.raises(KeyError):
        search_terms("nowhere", "ko")
    with pytest.raises(ValueError):
        describe("capital", "fr")


# -- speed ------------------------------------------------------------------------------------


def test_speed() -> None:
    question = (
        "경상남도 창원시와 부산, 울산을 묶는 동남권 메가시티 계획에서 전북특별자치도와 "
        "강원특별자치도는 어떻게 다른가요? What about Gangwon and Jeju in the capital area "
        "comparison, and the budget for 세종시 and Daejeon?"
    )
    question = (question * 2)[:200]
    find_regions(question)
    best = min(_timed(question) for _ in range(5))
    assert best < 1e-3, best


def _timed(text: str) -> float:
    start = time.perf_counter()
    for _ in range(20):
        find_regions(text)
    return (time.perf_counter() - start) / 20
