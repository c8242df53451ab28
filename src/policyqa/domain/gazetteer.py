"""A bilingual (Korean/English) place-name matcher built from a domain pack's data.

Why: questions and documents name places in two languages and at three levels: an area the
documents group places into ("동남권", "Southeast region"), a province ("경남", "South
Gyeongsang") or a city or county ("창원", "Changwon"). Retrieval expands a question into the
other language (`search_terms`: "춘천" also searches "Gangwon"), and answers say which area a
question is about (`find`, `areas_in`, `describe`). The names and their guards are data (see
`domain/korea/gazetteer.json`); this module holds only the matching rules.

Matching rules (`find`):

- Longest surface wins, matches never overlap ("강원특별자치도" is one match, not also "강원").
- English: case-insensitive, whole words, "-"/space variants ("Gyeongsangnam-do",
  "Gyeongsangnam do"). Names listed as `generic_en` ("central") never match alone.
- Korean has no word boundaries, so names match as substrings, with guards:
  * a name right after another Hangul syllable is part of a longer word and is skipped
    ("비수도권"), unless it continues a place name ("광주전남", "대전세종") or follows one of
    the `korean_prefixes` ("서부경남");
  * `not_after` / `not_before` patterns skip names that are parts of other words ("대전환");
  * weak names (`weak_ko`, `weak_en`), which are also common words, count only with a
    `confirm_after` suffix, with their province in front ("경북 상주"), or in a list with
    another place ("서울·경기"; separators · , / 와 과 및 and or, not a bare space).
- A place whose name is also a province's ("광주"), or that two provinces have ("고성"), counts
  only next to its province ("경기 광주", "Goseong, South Gyeongsang").

Text is matched as given (callers normalise to NFC); offsets index the input string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise, product
from typing import Any


@dataclass(frozen=True)
class Area:
    """A facet value of the domain: a place grouping its documents are organised by."""

    id: str
    kind: str  # free label of the pack ("pole", "special")
    name_ko: str
    name_en: str
    aliases_ko: tuple[str, ...]
    aliases_en: tuple[str, ...]
    provinces: tuple[str, ...]
    search_extra_ko: tuple[str, ...] = ()
    search_extra_en: tuple[str, ...] = ()

    @property
    def is_province(self) -> bool:
        """An area that is one province under the same id (a special self-governing province):
        it is named and described as the province itself."""
        return self.provinces == (self.id,)


@dataclass(frozen=True)
class Province:
    id: str
    name_ko: str
    short_ko: str
    name_en: str
    aliases_en: tuple[str, ...]
    area: str
    extra_ko: tuple[str, ...] = ()
    search_ko: str = ""  # the Korean search term when the short name is a common word


@dataclass(frozen=True)
class Place:
    """A city, county or district."""

    name_ko: str
    name_en: str
    province: str


@dataclass(frozen=True)
class PlaceMatch:
    """A place named in a text: the words as written, where, and what it belongs to."""

    mention: str
    start: int
    area: str
    province: str | None
    place: str | None


_STRONG, _WEAK, _PAIRED = 0, 1, 2  # _PAIRED: counts only next to its own province


@dataclass(frozen=True)
class _Entry:
    area: str
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


@dataclass
class _Candidate:
    start: int
    end: int
    surface: _Surface
    chosen: _Entry | None = None
    confirmed: bool = False


_TRANS = str.maketrans(
    {
        **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)},
        **dict.fromkeys("\t\n\r\f\v\u00a0\u2002\u2003\u2009\u3000", " "),
        **dict.fromkeys("ㆍ・•‧∙", "·"),
        **dict.fromkeys("‐‑‒–—", "-"),
        "’": "'",
    }
)
# Between two names of a list: "서울·경기", "서울과 경기", "인천, 경기", "Daejeon and Sejong".
_LIST_GAP = re.compile(r"|\s*[·,/、&]\s*|\s*(?:[·,/、&]\s*)?(?:와|과|및|이나|또는|and|or)\s*")
# Between a province and one of its places: "경남 고성", "Goseong, South Gyeongsang".
_PAIR_GAP = re.compile(r"(?:'s)?[\s,]*(?:in\s+)?")


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


def _pair(a: _Candidate, b: _Candidate) -> tuple[_Entry, _Entry] | None:
    """A province entry of `a` and a place entry of `b` in that province."""
    for province in a.surface.entries:
        if province.place is None and province.province is not None:
            for place in b.surface.entries:
                if place.place is not None and place.province == province.province:
                    return province, place
    return None


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


class Gazetteer:
    """Place names of one domain, matched in Korean and English text."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.areas: dict[str, Area] = {}
        for a in data["areas"]:
            area = Area(
                id=a["id"],
                kind=a["kind"],
                name_ko=a["name_ko"],
                name_en=a["name_en"],
                aliases_ko=_tuple(a.get("aliases_ko")),
                aliases_en=_tuple(a.get("aliases_en")),
                provinces=_tuple(a.get("provinces")),
                search_extra_ko=_tuple(a.get("search_extra_ko")),
                search_extra_en=_tuple(a.get("search_extra_en")),
            )
            self.areas[area.id] = area
        self.provinces: dict[str, Province] = {}
        for p in data["provinces"]:
            province = Province(
                id=p["id"],
                name_ko=p["name_ko"],
                short_ko=p["short_ko"],
                name_en=p["name_en"],
                aliases_en=_tuple(p.get("aliases_en")),
                area=p["area"],
                extra_ko=_tuple(p.get("extra_ko")),
                search_ko=p.get("search_ko", ""),
            )
            self.provinces[province.id] = province
        self._place_rows: list[tuple[Place, str]] = []  # (place, Korean suffix 시/군/구)
        for province_id, items in data.get("places", {}).items():
            for item in items:
                ko, en = item.split(" ", 1)
                self._place_rows.append((Place(ko[:-1], en, province_id), ko[-1]))
        self.places = tuple(place for place, _ in self._place_rows)
        self._place_extra = {
            (e["name_ko"], e["province"]): _tuple(e["extra"])
            for e in data.get("place_extra_ko", ())
        }
        self._suffixes_en = {k: _tuple(v) for k, v in data.get("place_suffixes_en", {}).items()}
        self._weak_ko = frozenset(data.get("weak_ko", ()))
        self._weak_en = frozenset(data.get("weak_en", ()))
        self._generic_en = frozenset(data.get("generic_en", ()))
        self._confirm_after: dict[str, str] = dict(data.get("confirm_after", {}))
        self._not_after: dict[str, str] = dict(data.get("not_after", {}))
        self._not_after_suffix: dict[str, str] = dict(data.get("not_after_suffix", {}))
        self._not_before = {k: _tuple(v) for k, v in data.get("not_before", {}).items()}
        self._not_before_containing = {
            k: _tuple(v) for k, v in data.get("not_before_containing", {}).items()
        }
        self._korean_prefixes = _tuple(data.get("korean_prefixes"))
        self._surfaces = self._build()
        lengths: dict[str, set[int]] = {}
        for key in self._surfaces:
            lengths.setdefault(key[0], set()).add(len(key))
        self._lengths = {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}
        # Where a name can start: a Hangul first letter of a Korean name, or a letter starting
        # a word.
        korean_starts = "".join(sorted({k[0] for k, s in self._surfaces.items() if s.korean}))
        self._starts = re.compile(
            (f"[{korean_starts}]|" if korean_starts else "") + "(?<![a-z0-9])[a-z]"
        )

    # -- building -----------------------------------------------------------------------------
    def _build(self) -> dict[str, _Surface]:
        surfaces: dict[str, _Surface] = {}

        def add(name: str, entry: _Entry, korean: bool) -> None:
            for key in [name] if korean else _variants(name):
                surface = surfaces.setdefault(key, _Surface(korean, []))
                if entry not in surface.entries:
                    surface.entries.append(entry)

        for g in self.areas.values():
            entry = _Entry(g.id, g.id if g.is_province else None, None, _STRONG)
            for name in (g.name_ko, *g.aliases_ko):
                add(name, entry, True)
            for name in (g.name_en, *g.aliases_en):
                if name.lower() not in self._generic_en:
                    add(name, entry, False)

        for p in self.provinces.values():
            mode = _WEAK if p.short_ko in self._weak_ko else _STRONG
            add(p.short_ko, _Entry(p.area, p.id, None, mode), True)
            suffix = "시" if p.name_ko.endswith("시") else "도"
            for name in (p.name_ko, p.short_ko + suffix, *p.extra_ko):
                add(name, _Entry(p.area, p.id, None, _STRONG), True)
            for name in (p.name_en, p.id, *p.aliases_en):
                add(name, _Entry(p.area, p.id, None, _STRONG), False)

        for place, suffix in self._place_rows:
            area = self.provinces[place.province].area
            strong = _Entry(area, place.province, place.name_en, _STRONG)
            weak_ko = place.name_ko in self._weak_ko
            weak_en = place.name_en.lower() in self._weak_en
            add(place.name_ko, replace(strong, mode=_WEAK) if weak_ko else strong, True)
            add(place.name_ko + suffix, strong, True)
            for name in self._place_extra.get((place.name_ko, place.province), ()):
                add(name, strong, True)
            add(place.name_en, replace(strong, mode=_WEAK) if weak_en else strong, False)
            for english_suffix in self._suffixes_en.get(suffix, ()):
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
            not_after = self._not_after.get(key)
            suffixed = surface.korean and key[-1] in self._not_after_suffix and key[:-1] in surfaces
            if not_after is None and suffixed:
                not_after = self._not_after_suffix[key[-1]]
            if not_after is not None:
                surface.not_after = re.compile(not_after)
            surface.not_before = self._not_before.get(key, ())
            for part, prefixes in self._not_before_containing.items():
                if part in key:
                    surface.not_before += prefixes
            if key in self._confirm_after:
                surface.confirm_after = re.compile(self._confirm_after[key])
        return surfaces

    # -- matching -----------------------------------------------------------------------------
    def _allowed(self, surface: _Surface, key: str, start: int, end: int, prev_end: int) -> bool:
        if surface.korean:
            inside_word = start > 0 and _is_hangul(key[start - 1]) and start != prev_end
            if inside_word and not key.endswith(self._korean_prefixes, 0, start):
                return False
        elif _in_word(key, start - 1, start - 2) or _in_word(key, end, end + 1):
            return False
        if surface.not_before and key.endswith(surface.not_before, 0, start):
            return False
        return surface.not_after is None or surface.not_after.match(key, end) is None

    def _scan(self, key: str) -> list[_Candidate]:
        """Non-overlapping candidates, leftmost first, longest allowed surface at each start."""
        found: list[_Candidate] = []
        prev_end = -1
        for start_match in self._starts.finditer(key):
            start = start_match.start()
            if start < prev_end:
                continue
            for length in self._lengths.get(key[start], ()):
                end = start + length
                surface = self._surfaces.get(key[start:end]) if end <= len(key) else None
                if surface is not None and self._allowed(surface, key, start, end, prev_end):
                    found.append(_Candidate(start, end, surface))
                    prev_end = end
                    break
        return found

    @staticmethod
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

    def find(self, text: str) -> list[PlaceMatch]:
        """Every place named in `text`, in order, non-overlapping, longest match first."""
        key = text.translate(_TRANS)
        found = self._scan(key)
        self._resolve(key, found)
        return [
            PlaceMatch(
                text[c.start : c.end], c.start, c.chosen.area, c.chosen.province, c.chosen.place
            )
            for c in found
            if c.confirmed and c.chosen is not None
        ]

    def areas_in(self, text: str) -> list[str]:
        """Distinct area ids named in `text`, in order of first mention."""
        return list(dict.fromkeys(match.area for match in self.find(text)))

    def search_terms(self, area_id: str, language: str) -> list[str]:
        """Names a `language` document uses for the area, most specific first (at most 8).

        Raises KeyError for an unknown area and ValueError for a language other than ko/en.
        """
        _check_language(language)
        area = self.areas[area_id]
        provinces = [self.provinces[p] for p in area.provinces]
        if language == "ko":
            terms = [area.name_ko, *area.search_extra_ko]
            terms += [p.search_ko or p.short_ko for p in provinces]
        else:
            generic = area.name_en.lower() in self._generic_en and area.search_extra_en
            terms = [] if generic else [area.name_en]
            terms += [*area.search_extra_en, *(p.id.capitalize() for p in provinces)]
        return list(dict.fromkeys(terms))[:8]

    def describe(self, area_id: str, language: str) -> str:
        """A one-line label: "Southeast (Busan, Ulsan and Gyeongnam)", "동남권(부산·울산·경남)"."""
        _check_language(language)
        area = self.areas[area_id]
        provinces = [self.provinces[p] for p in area.provinces]
        if language == "ko":
            if area.is_province:
                return area.name_ko
            return f"{area.name_ko}({'·'.join(p.short_ko for p in provinces)})"
        if area.is_province:
            return area.name_en
        names = [p.id.capitalize() for p in provinces]
        members = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
        return f"{area.name_en} ({members})"

    def all_names(self, area_id: str) -> Sequence[str]:
        """Every name of the area and of its provinces, in both languages."""
        return self.search_terms(area_id, "ko") + self.search_terms(area_id, "en")


def _check_language(language: str) -> None:
    if language not in ("ko", "en"):
        raise ValueError(f"language must be 'ko' or 'en', not {language!r}")
