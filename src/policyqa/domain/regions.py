"""Bilingual gazetteer of South Korean regions, grouped by the 5극 3특 strategy.

Why: questions and documents name places in two languages and at three levels: a pole
("동남권", "Southeast region"), a province ("경남", "South Gyeongsang") or a city or county
("창원", "Changwon"). Retrieval expands a question into the other language (`search_terms`:
"춘천" also searches "Gangwon"), and answers say which of the 8 target regions a question is
about (`find_regions`, `groups_in`, `describe`). Standard library only.

The 8 groups: 5 poles (capital, southeast, daegyeong, central, honam) and 3 special
self-governing provinces (gangwon, jeonbuk, jeju). Sejong is a province-level city of the
central pole, not a special province. For a special province the group and the province share
one id, so a match on "강원" has group "gangwon" and province "gangwon".

Matching rules (`find_regions`):

- Longest surface wins, matches never overlap ("강원특별자치도" is one match, not also "강원").
- English: case-insensitive, whole words, "-"/space variants ("Gyeongsangnam-do",
  "Gyeongsangnam do"). Common words count only in phrases: "capital area/region",
  "Southeast region/pole/area", "southeastern region", "Central region/pole/area"; bare
  "capital", "central" and "southeast" never match.
- Korean has no word boundaries, so names match as substrings, with guards:
  * a name right after another Hangul syllable is part of a longer word and is skipped
    ("비수도권", "잉여수익"), unless it continues a region name ("광주전남", "대전세종") or
    follows a direction ("서부경남");
  * a few names are followed-by guarded ("대전환", "부산물", "고양이", "영주권", "구미호");
  * weak names, which are also common words, count only with their suffix ("예산군",
    "강화군", "구리시"), with their province in front ("경북 상주", "전북 완주"), or in a list
    with another region ("서울·경기", "전주·완주", "인천과 경기", "대전세종"; separators
    · , / 와 과 및 and or, or none at all, but not a bare space: "서울 경기 침체" has no 경기).
    "경기" also counts as "경기도", "경기권", "경기 지역", "경기 남부/북부"; "세종" as
    "세종시", "세종특별자치시", "세종에", "세종으로", "세종 지역", "세종 행정수도". So
    "경기 침체", "세종대왕", "예산 확대", "목표 달성" name no region. Weak names:
    `_WEAK_KO`; a weak name may still be a false positive in a list ("부산, 경기 침체").
- Ambiguous names resolve by the province next to them, else a default:
  bare "광주"/"Gwangju" is the metropolitan city (honam); the Gyeonggi city of the same name
  needs "경기 광주" / "Gwangju, Gyeonggi". "고성"/"Goseong" (Gangwon and Gyeongnam) and the
  city "제주시" named as bare "제주" count only with their province ("강원 고성",
  "Goseong, South Gyeongsang"). The autonomous 구 of the metropolitan cities are not listed
  (중구, 동구, 서구... are ambiguous), except 강남 and 해운대.
- "김포공항" and "김해공항" are airports located in Seoul and Busan: not the cities.

Text is matched as given (callers normalise to NFC); offsets index the input string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import pairwise, product


@dataclass(frozen=True)
class RegionGroup:
    """One of the 8 target regions: a pole ("pole") or a special province ("special")."""

    id: str
    kind: str
    name_ko: str
    name_en: str
    aliases_ko: tuple[str, ...]
    aliases_en: tuple[str, ...]
    provinces: tuple[str, ...]


@dataclass(frozen=True)
class Province:
    """One of the 17 metropolitan or provincial governments."""

    id: str
    name_ko: str
    short_ko: str
    name_en: str
    aliases_en: tuple[str, ...]
    group: str


@dataclass(frozen=True)
class Place:
    """A city (시) or county (군), or one of two well-known districts (구)."""

    name_ko: str
    name_en: str
    province: str


@dataclass(frozen=True)
class RegionMatch:
    mention: str
    start: int
    group: str
    province: str | None
    place: str | None


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------

# fmt: off
GROUPS: dict[str, RegionGroup] = {
    g.id: g
    for g in (
        RegionGroup(
            "capital", "pole", "수도권", "Capital area",
            ("수도권역",),
            ("capital area", "capital region", "Seoul capital area", "Seoul metropolitan area",
             "Seoul metropolitan region", "Sudogwon"),
            ("seoul", "incheon", "gyeonggi"),
        ),
        RegionGroup(
            "southeast", "pole", "동남권", "Southeast",
            ("부울경", "부·울·경", "동남권역"),
            ("Southeast region", "Southeast pole", "Southeast area", "southeastern region",
             "Busan-Ulsan-Gyeongnam", "Bu-Ul-Gyeong", "Dongnam-gwon"),
            ("busan", "ulsan", "gyeongnam"),
        ),
        RegionGroup(
            "daegyeong", "pole", "대경권", "Daegyeong",
            ("대구경북", "대구경북권", "대구·경북권"),
            ("Daegyeong region", "Daegu-Gyeongbuk", "Daegu-North Gyeongsang", "Daegyeong-gwon"),
            ("daegu", "gyeongbuk"),
        ),
        RegionGroup(
            "central", "pole", "중부권", "Central",
            ("충청권", "충청", "충청도"),
            ("Central region", "Central pole", "Central area", "Chungcheong",
             "Chungcheong region", "Jungbu-gwon"),
            ("daejeon", "sejong", "chungbuk", "chungnam"),
        ),
        RegionGroup(
            "honam", "pole", "호남권", "Honam",
            ("호남", "서남권"),
            ("Honam region", "Southwest region", "southwestern region", "Honam-gwon"),
            ("gwangju", "jeonnam"),
        ),
        RegionGroup(
            "gangwon", "special", "강원특별자치도", "Gangwon Special Self-Governing Province",
            ("강원도", "강원"),
            ("Gangwon", "Gangwon-do", "Gangwon Province", "Gangwon State"),
            ("gangwon",),
        ),
        RegionGroup(
            "jeonbuk", "special", "전북특별자치도", "Jeonbuk Special Self-Governing Province",
            ("전라북도", "전북", "전북도"),
            ("Jeonbuk State", "Jeonbuk", "Jeollabuk-do", "North Jeolla", "North Jeolla Province"),
            ("jeonbuk",),
        ),
        RegionGroup(
            "jeju", "special", "제주특별자치도", "Jeju Special Self-Governing Province",
            ("제주도", "제주"),
            ("Jeju", "Jeju-do", "Jeju Island", "Jeju Province"),
            ("jeju",),
        ),
    )
}
# fmt: on

# id, official Korean name, short name, English name, group, English aliases
# fmt: off
PROVINCES: dict[str, Province] = {
    p.id: p
    for p in (
        Province("seoul", "서울특별시", "서울", "Seoul", (
            "Seoul Metropolitan City", "Seoul Special City", "Seoul City",
            "Seoul Metropolitan Government"), "capital"),
        Province("busan", "부산광역시", "부산", "Busan", (
            "Busan Metropolitan City", "Busan City", "Pusan"), "southeast"),
        Province("daegu", "대구광역시", "대구", "Daegu", (
            "Daegu Metropolitan City", "Daegu City", "Taegu"), "daegyeong"),
        Province("incheon", "인천광역시", "인천", "Incheon", (
            "Incheon Metropolitan City", "Incheon City"), "capital"),
        Province("gwangju", "광주광역시", "광주", "Gwangju", (
            "Gwangju Metropolitan City", "Gwangju City", "Kwangju"), "honam"),
        Province("daejeon", "대전광역시", "대전", "Daejeon", (
            "Daejeon Metropolitan City", "Daejeon City", "Taejon"), "central"),
        Province("ulsan", "울산광역시", "울산", "Ulsan", (
            "Ulsan Metropolitan City", "Ulsan City"), "southeast"),
        Province("sejong", "세종특별자치시", "세종", "Sejong", (
            "Sejong City", "Sejong Special Self-Governing City",
            "Sejong Special Autonomous City"), "central"),
        Province("gyeonggi", "경기도", "경기", "Gyeonggi-do", (
            "Gyeonggi", "Gyeonggi Province", "Kyonggi"), "capital"),
        Province("gangwon", "강원특별자치도", "강원", "Gangwon Special Self-Governing Province", (
            "Gangwon", "Gangwon State", "Gangwon-do", "Gangwon Province"), "gangwon"),
        Province("chungbuk", "충청북도", "충북", "Chungcheongbuk-do", (
            "Chungbuk", "North Chungcheong", "North Chungcheong Province"), "central"),
        Province("chungnam", "충청남도", "충남", "Chungcheongnam-do", (
            "Chungnam", "South Chungcheong", "South Chungcheong Province"), "central"),
        Province("jeonbuk", "전북특별자치도", "전북", "Jeonbuk Special Self-Governing Province", (
            "Jeonbuk State", "Jeonbuk", "Jeollabuk-do", "North Jeolla",
            "North Jeolla Province"), "jeonbuk"),
        Province("jeonnam", "전라남도", "전남", "Jeollanam-do", (
            "Jeonnam", "South Jeolla", "South Jeolla Province"), "honam"),
        Province("gyeongbuk", "경상북도", "경북", "Gyeongsangbuk-do", (
            "Gyeongbuk", "North Gyeongsang", "North Gyeongsang Province"), "daegyeong"),
        Province("gyeongnam", "경상남도", "경남", "Gyeongsangnam-do", (
            "Gyeongnam", "South Gyeongsang", "South Gyeongsang Province"), "southeast"),
        Province("jeju", "제주특별자치도", "제주", "Jeju Special Self-Governing Province", (
            "Jeju", "Jeju-do", "Jeju Island", "Jeju Province", "Cheju"), "jeju"),
    )
}
# fmt: on

# Cities (시) and counties (군) by province, "Korean-with-suffix English", as of 2024
# (군위군 moved from Gyeongbuk to Daegu on 2023-07-01). Seoul, Gwangju, Daejeon and Sejong
# have no 시/군; two unambiguous, well-known districts (구) are added.
_PLACE_TABLE: dict[str, str] = {
    "seoul": "강남구 Gangnam",
    "busan": "기장군 Gijang, 해운대구 Haeundae",
    "daegu": "달성군 Dalseong, 군위군 Gunwi",
    "incheon": "강화군 Ganghwa, 옹진군 Ongjin",
    "ulsan": "울주군 Ulju",
    "gyeonggi": (
        "수원시 Suwon, 성남시 Seongnam, 의정부시 Uijeongbu, 안양시 Anyang, 부천시 Bucheon, "
        "광명시 Gwangmyeong, 평택시 Pyeongtaek, 동두천시 Dongducheon, 안산시 Ansan, "
        "고양시 Goyang, 과천시 Gwacheon, 구리시 Guri, 남양주시 Namyangju, 오산시 Osan, "
        "시흥시 Siheung, 군포시 Gunpo, 의왕시 Uiwang, 하남시 Hanam, 용인시 Yongin, "
        "파주시 Paju, 이천시 Icheon, 안성시 Anseong, 김포시 Gimpo, 화성시 Hwaseong, "
        "광주시 Gwangju, 양주시 Yangju, 포천시 Pocheon, 여주시 Yeoju, 연천군 Yeoncheon, "
        "가평군 Gapyeong, 양평군 Yangpyeong"
    ),
    "gangwon": (
        "춘천시 Chuncheon, 원주시 Wonju, 강릉시 Gangneung, 동해시 Donghae, 태백시 Taebaek, "
        "속초시 Sokcho, 삼척시 Samcheok, 홍천군 Hongcheon, 횡성군 Hoengseong, "
        "영월군 Yeongwol, 평창군 Pyeongchang, 정선군 Jeongseon, 철원군 Cheorwon, "
        "화천군 Hwacheon, 양구군 Yanggu, 인제군 Inje, 고성군 Goseong, 양양군 Yangyang"
    ),
    "chungbuk": (
        "청주시 Cheongju, 충주시 Chungju, 제천시 Jecheon, 보은군 Boeun, 옥천군 Okcheon, "
        "영동군 Yeongdong, 증평군 Jeungpyeong, 진천군 Jincheon, 괴산군 Goesan, "
        "음성군 Eumseong, 단양군 Danyang"
    ),
    "chungnam": (
        "천안시 Cheonan, 공주시 Gongju, 보령시 Boryeong, 아산시 Asan, 서산시 Seosan, "
        "논산시 Nonsan, 계룡시 Gyeryong, 당진시 Dangjin, 금산군 Geumsan, 부여군 Buyeo, "
        "서천군 Seocheon, 청양군 Cheongyang, 홍성군 Hongseong, 예산군 Yesan, 태안군 Taean"
    ),
    "jeonbuk": (
        "전주시 Jeonju, 군산시 Gunsan, 익산시 Iksan, 정읍시 Jeongeup, 남원시 Namwon, "
        "김제시 Gimje, 완주군 Wanju, 진안군 Jinan, 무주군 Muju, 장수군 Jangsu, "
        "임실군 Imsil, 순창군 Sunchang, 고창군 Gochang, 부안군 Buan"
    ),
    "jeonnam": (
        "목포시 Mokpo, 여수시 Yeosu, 순천시 Suncheon, 나주시 Naju, 광양시 Gwangyang, "
        "담양군 Damyang, 곡성군 Gokseong, 구례군 Gurye, 고흥군 Goheung, 보성군 Boseong, "
        "화순군 Hwasun, 장흥군 Jangheung, 강진군 Gangjin, 해남군 Haenam, 영암군 Yeongam, "
        "무안군 Muan, 함평군 Hampyeong, 영광군 Yeonggwang, 장성군 Jangseong, 완도군 Wando, "
        "진도군 Jindo, 신안군 Sinan"
    ),
    "gyeongbuk": (
        "포항시 Pohang, 경주시 Gyeongju, 김천시 Gimcheon, 안동시 Andong, 구미시 Gumi, "
        "영주시 Yeongju, 영천시 Yeongcheon, 상주시 Sangju, 문경시 Mungyeong, "
        "경산시 Gyeongsan, 의성군 Uiseong, 청송군 Cheongsong, 영양군 Yeongyang, "
        "영덕군 Yeongdeok, 청도군 Cheongdo, 고령군 Goryeong, 성주군 Seongju, "
        "칠곡군 Chilgok, 예천군 Yecheon, 봉화군 Bonghwa, 울진군 Uljin, 울릉군 Ulleung"
    ),
    "gyeongnam": (
        "창원시 Changwon, 진주시 Jinju, 통영시 Tongyeong, 사천시 Sacheon, 김해시 Gimhae, "
        "밀양시 Miryang, 거제시 Geoje, 양산시 Yangsan, 의령군 Uiryeong, 함안군 Haman, "
        "창녕군 Changnyeong, 고성군 Goseong, 남해군 Namhae, 하동군 Hadong, "
        "산청군 Sancheong, 함양군 Hamyang, 거창군 Geochang, 합천군 Hapcheon"
    ),
    "jeju": "제주시 Jeju, 서귀포시 Seogwipo",
}


def _parse_places() -> tuple[tuple[Place, str], ...]:
    rows = []
    for province, table in _PLACE_TABLE.items():
        for item in table.split(", "):
            ko, en = item.split(" ")
            rows.append((Place(ko[:-1], en, province), ko[-1]))
    return tuple(rows)


_PLACE_ROWS = _parse_places()  # (place, suffix 시/군/구)
PLACES: tuple[Place, ...] = tuple(place for place, _ in _PLACE_ROWS)

# Extra Korean names: former/alternative names, islands.
_PROVINCE_KO_EXTRA = {"jeonbuk": ("전라북도",), "daegu": ("동대구", "서대구")}
_PLACE_KO_EXTRA = {("강화", "incheon"): ("강화도",), ("울릉", "gyeongbuk"): ("울릉도",)}

# Korean names that are also common words: they need a suffix, their province in front or a
# list with another region (see the module docstring).
_WEAK_KO = frozenset(
    {
        "경기", "세종", "기장", "달성", "강화", "구리", "오산", "동해", "인제", "보은", "영동",
        "음성", "공주", "금산", "부여", "예산", "완주", "장수", "강진", "무안", "영광", "장성",
        "진도", "신안", "상주", "영양", "고령", "봉화", "양산", "남해", "함양", "거창",
    }
)  # fmt: skip
_WEAK_EN = frozenset({"yeongdong"})  # also the name of the east coast of Gangwon

# What may follow a weak name so that it counts on its own.
_CONFIRM_AFTER = {
    "경기": r"권|\s?(?:지역|지방|남부|북부|동부|서부|일대)",
    "세종": r"에(?!게)|으로|까지|권|\s?(?:지역|일대|행정수도)",
    "무안": r"\s?(?:국제)?공항",
}

# What must not follow a name (matched right after it, on the lower-cased text).
_NOT_AFTER = {
    "경기도": r"중|\s?(?:좋|나쁘|나빠|어렵|어려|침체|살아|회복|부진|안 좋|않|꺾|위축|둔화|호황)",
    "대전": r"환|제|략",
    "부산": r"물",
    "전남": r"편",
    "호남": r"형|아",
    "경주": r"하|해|했|할|함|되|된|돼",
    "용인": r"하|해|했|할|함|되|된|돼|될",
    "고양": r"이|하|되|된|됐|돼",
    "이천": r"만|억|원|년|명|개|여|조|천|백|\s?(?:년|명|원|만|억)",
    "안성": r"맞춤",
    "원주": r"율|민",
    "태백": r"산",
    "영주": r"권",
    "구미": r"호|식|인|권|가\s?당|\s?(?:선진|각국|국가|제국|열강)",
    "수원": r"지",
    "전주": r"\s?대비",
    "화성": r"인|\s?탐사",
    "화천": r"대유",
    "진주": r"목걸이|조개",
    "아산": r"병원|재단|나눔|정책|의료원|상(?!공)",
    "순천": r"향",
    "무주": r"택",
    "여수": r"신",
    "광명": r"성",
    "사천": r"성",
    "의성": r"어",
    "김포": r"\s?(?:국제)?공항",
    "김해": r"\s?(?:국제)?공항",
    "sejong": r" (?:the great|institute|university|center|centre|station|hakdang|cultural)",
    "asan": r" (?:medical|institute|foundation|nanum|award)",
    "hwaseong": r" fortress",
    "jindo": r" dog",
    "inje": r" university",
    "gimpo": r" (?:international )?airport",
    "gimhae": r" (?:international )?airport",
    "jinan": r",? (?:china|shandong)",
}
# Suffixed forms: "양산시설", "세종시대", "예산군사" are other words.
_NOT_AFTER_SUFFIX = {
    "시": r"스템|설|점|기|작|간|대|행|험|각|범|키|켜|킨|킬|킴|켰",
    "군": r"사|대|단|인|비|함|용",
}
# What must not come right before a name.
_NOT_BEFORE = {
    "동남권": ("서울 ", "서울시 ", "서울의 "),  # the south-east of Seoul, not the pole
    "서남권": ("서울 ", "서울시 ", "서울의 "),
    "대전": ("세계 ", "차 "),
    "화성": ("수원 ",),
    "sejong": ("king ",),
    "asan": ("hyundai ",),
    "hwaseong": ("suwon ",),
}
# Hangul right before a Korean name makes it part of another word, except these.
_KO_PREFIXES = ("동부", "서부", "남부", "북부", "중부", "범")

# Search terms (`search_terms`): group name, these extras, then the provinces' short names.
_SEARCH_EXTRA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "southeast": (("부울경",), ()),
    "central": (("충청권",), ("Chungcheong",)),
    "honam": (("호남",), ()),
    "gangwon": (("강원도",), ()),
    "jeonbuk": (("전라북도",), ("North Jeolla",)),
    "jeju": (("제주도",), ()),
}
_SEARCH_KO = {"gyeonggi": "경기도", "sejong": "세종시"}  # short names that are common words
_GENERIC_EN = frozenset({"central", "southeast"})  # group names never matched or searched alone


# ----------------------------------------------------------------------------------------------
# Matcher, built once at import
# ----------------------------------------------------------------------------------------------

_STRONG, _WEAK, _PAIRED = 0, 1, 2  # _PAIRED: counts only next to its own province


@dataclass(frozen=True)
class _Entry:
    group: str
    province: str | None
    place: str | None
    mode: int


@dataclass
class _Surface:
    korean: bool
    entries: list[_Entry]
    not_after: re.Pattern[str] | None = None
    not_before: tuple[str, ...] = ()
    confirm_after: re.Pattern[str] | None = None


_TRANS = str.maketrans(
    {
        **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)},
        **dict.fromkeys("\t\n\r\f\v\u00a0\u2002\u2003\u2009\u3000", " "),
        **dict.fromkeys("ㆍ・•‧∙", "·"),
        **dict.fromkeys("‐‑‒–—", "-"),
        "’": "'",
    }
)


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _variants(name: str) -> list[str]:
    """Lower-cased English spellings: "Jeju-do" -> jeju-do, jeju do, jejudo."""
    parts = re.split(r"([\s\-]+)", name.lower().strip())
    words, seps = parts[0::2], parts[1::2]
    options = [("-", " ", "") if "-" in sep else (" ", "-") for sep in seps]
    out = []
    for choice in product(*options):
        out.append(words[0] + "".join(s + w for s, w in zip(choice, words[1:], strict=True)))
    return out


def _build() -> dict[str, _Surface]:
    surfaces: dict[str, _Surface] = {}

    def add(name: str, entry: _Entry, korean: bool) -> None:
        for key in [name] if korean else _variants(name):
            surface = surfaces.setdefault(key, _Surface(korean, []))
            if entry not in surface.entries:
                surface.entries.append(entry)

    for g in GROUPS.values():
        entry = _Entry(g.id, g.id if g.kind == "special" else None, None, _STRONG)
        for name in (g.name_ko, *g.aliases_ko):
            add(name, entry, True)
        for name in (g.name_en, *g.aliases_en):
            if name.lower() not in _GENERIC_EN:
                add(name, entry, False)

    for p in PROVINCES.values():
        mode = _WEAK if p.short_ko in _WEAK_KO else _STRONG
        add(p.short_ko, _Entry(p.group, p.id, None, mode), True)
        suffix = "시" if p.name_ko.endswith("시") else "도"
        for name in (p.name_ko, p.short_ko + suffix, *_PROVINCE_KO_EXTRA.get(p.id, ())):
            add(name, _Entry(p.group, p.id, None, _STRONG), True)
        for name in (p.name_en, p.id, *p.aliases_en):
            add(name, _Entry(p.group, p.id, None, _STRONG), False)

    english_suffixes = {
        "시": ("-si", " City"),
        "군": ("-gun", " County"),
        "구": ("-gu", " District"),
    }
    for place, suffix in _PLACE_ROWS:
        strong = _Entry(PROVINCES[place.province].group, place.province, place.name_en, _STRONG)
        weak_ko = place.name_ko in _WEAK_KO
        weak_en = place.name_en.lower() in _WEAK_EN
        add(place.name_ko, replace(strong, mode=_WEAK) if weak_ko else strong, True)
        add(place.name_ko + suffix, strong, True)
        for name in _PLACE_KO_EXTRA.get((place.name_ko, place.province), ()):
            add(name, strong, True)
        add(place.name_en, replace(strong, mode=_WEAK) if weak_en else strong, False)
        for english_suffix in english_suffixes[suffix]:
            add(place.name_en + english_suffix, strong, False)

    for key, surface in surfaces.items():
        # A place whose name is also a province's ("광주", "제주"), or the name of places in
        # two provinces ("고성"), counts only next to its province.
        has_province = any(e.place is None for e in surface.entries)
        place_provinces = {e.province for e in surface.entries if e.place is not None}
        if has_province or len(place_provinces) > 1:
            surface.entries = [
                replace(e, mode=_PAIRED) if e.place is not None else e for e in surface.entries
            ]
        surface.entries.sort(key=lambda e: e.mode)
        not_after = _NOT_AFTER.get(key)
        suffixed = surface.korean and key[-1] in _NOT_AFTER_SUFFIX and key[:-1] in surfaces
        if not_after is None and suffixed:
            not_after = _NOT_AFTER_SUFFIX[key[-1]]
        if not_after is not None:
            surface.not_after = re.compile(not_after)
        surface.not_before = _NOT_BEFORE.get(key, ())
        if "capital" in key:  # "non-capital-region" is the rest of the country
            surface.not_before += ("non-", "non ", "non")
        if key in _CONFIRM_AFTER:
            surface.confirm_after = re.compile(_CONFIRM_AFTER[key])
    return surfaces


_SURFACES = _build()
_LENGTHS: dict[str, tuple[int, ...]] = {}
for _key in _SURFACES:
    _LENGTHS[_key[0]] = tuple(sorted({*_LENGTHS.get(_key[0], ()), len(_key)}, reverse=True))
# Where a name can start: a Hangul first letter of a Korean name, or a letter starting a word.
_STARTS = re.compile(
    "[" + "".join(sorted({k[0] for k, s in _SURFACES.items() if s.korean})) + "]"
    + "|(?<![a-z0-9])[a-z]"
)  # fmt: skip
# Between two names of a list: "서울·경기", "서울과 경기", "인천, 경기", "Daejeon and Sejong".
_LIST_GAP = re.compile(r"|\s*[·,/、&]\s*|\s*(?:[·,/、&]\s*)?(?:와|과|및|이나|또는|and|or)\s*")
# Between a province and one of its places: "경남 고성", "Goseong, South Gyeongsang".
_PAIR_GAP = re.compile(r"(?:'s)?[\s,]*(?:in\s+)?")


@dataclass
class _Candidate:
    start: int
    end: int
    surface: _Surface
    chosen: _Entry | None = None
    confirmed: bool = False


def _in_word(key: str, i: int, beyond: int) -> bool:
    """Whether `key[i]`, next to an English name, makes it part of a word, path or domain."""
    if not 0 <= i < len(key):
        return False
    char = key[i]
    if char.isascii() and (char.isalnum() or char in "_/@"):
        return True
    return (
        char == "." and 0 <= beyond < len(key) and key[beyond].isascii() and key[beyond].isalnum()
    )


def _allowed(surface: _Surface, key: str, start: int, end: int, prev_end: int) -> bool:
    if surface.korean:
        inside_word = start > 0 and _is_hangul(key[start - 1]) and start != prev_end
        if inside_word and not key.endswith(_KO_PREFIXES, 0, start):
            return False
    elif _in_word(key, start - 1, start - 2) or _in_word(key, end, end + 1):
        return False
    if surface.not_before and key.endswith(surface.not_before, 0, start):
        return False
    return surface.not_after is None or surface.not_after.match(key, end) is None


def _scan(key: str) -> list[_Candidate]:
    """Non-overlapping candidates, leftmost first, longest allowed surface at each start."""
    found: list[_Candidate] = []
    prev_end = -1
    for start_match in _STARTS.finditer(key):
        start = start_match.start()
        if start < prev_end:
            continue
        for length in _LENGTHS.get(key[start], ()):
            end = start + length
            surface = _SURFACES.get(key[start:end]) if end <= len(key) else None
            if surface is not None and _allowed(surface, key, start, end, prev_end):
                found.append(_Candidate(start, end, surface))
                prev_end = end
                break
    return found


def _pair(a: _Candidate, b: _Candidate) -> tuple[_Entry, _Entry] | None:
    """A province entry of `a` and a place entry of `b` in that province."""
    for province in a.surface.entries:
        if province.place is None and province.province is not None:
            for place in b.surface.entries:
                if place.place is not None and place.province == province.province:
                    return province, place
    return None


def _resolve(key: str, found: list[_Candidate]) -> None:
    for a, b in pairwise(found):
        if _PAIR_GAP.fullmatch(key, a.end, b.start):
            pair = _pair(a, b)
            if pair is None and (reverse := _pair(b, a)) is not None:
                pair = reverse[1], reverse[0]
            if pair is not None:
                for candidate, entry in ((a, pair[0]), (b, pair[1])):
                    if candidate.chosen is None:
                        candidate.chosen, candidate.confirmed = entry, True
    for c in found:
        first = c.surface.entries[0]
        if c.chosen is None and first.mode != _PAIRED:
            c.chosen = first
            c.confirmed = first.mode == _STRONG or (
                c.surface.confirm_after is not None
                and c.surface.confirm_after.match(key, c.end) is not None
            )
    changed = True
    while changed:  # weak names in a list with a confirmed name
        changed = False
        for i, c in enumerate(found):
            if c.chosen is None or c.confirmed:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(found) and found[j].confirmed:
                    lo, hi = (found[j].end, c.start) if j < i else (c.end, found[j].start)
                    if _LIST_GAP.fullmatch(key, lo, hi):
                        c.confirmed = changed = True
                        break


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def find_regions(text: str) -> list[RegionMatch]:
    """Every region named in `text`, in order, non-overlapping, longest match first."""
    key = text.translate(_TRANS)
    found = _scan(key)
    _resolve(key, found)
    return [
        RegionMatch(
            text[c.start : c.end], c.start, c.chosen.group, c.chosen.province, c.chosen.place
        )
        for c in found
        if c.confirmed and c.chosen is not None
    ]


def groups_in(text: str) -> list[str]:
    """Distinct group ids named in `text`, in order of first mention."""
    return list(dict.fromkeys(match.group for match in find_regions(text)))


def _check_language(language: str) -> None:
    if language not in ("ko", "en"):
        raise ValueError(f"language must be 'ko' or 'en', not {language!r}")


def search_terms(group_id: str, language: str) -> list[str]:
    """Names a `language` document uses for the group, most specific first (at most 8).

    Raises KeyError for an unknown group and ValueError for a language other than ko/en.
    """
    _check_language(language)
    group = GROUPS[group_id]
    extra_ko, extra_en = _SEARCH_EXTRA.get(group_id, ((), ()))
    provinces = [PROVINCES[p] for p in group.provinces]
    if language == "ko":
        terms = [group.name_ko, *extra_ko]
        terms += [_SEARCH_KO.get(p.id, p.short_ko) for p in provinces]
    else:
        terms = [] if group.name_en.lower() in _GENERIC_EN and extra_en else [group.name_en]
        terms += [*extra_en, *(p.id.capitalize() for p in provinces)]
    return list(dict.fromkeys(terms))[:8]


def describe(group_id: str, language: str) -> str:
    """A one-line label: "Southeast (Busan, Ulsan and Gyeongnam)", "동남권(부산·울산·경남)"."""
    _check_language(language)
    group = GROUPS[group_id]
    provinces = [PROVINCES[p] for p in group.provinces]
    if language == "ko":
        if group.kind == "special":
            return group.name_ko
        return f"{group.name_ko}({'·'.join(p.short_ko for p in provinces)})"
    if group.kind == "special":
        return group.name_en
    names = [p.id.capitalize() for p in provinces]
    members = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    return f"{group.name_en} ({members})"
