"""Domain packs: what the engine knows about one subject, as data.

The engine (retrieval, answering, the app) is general; a pack adds what is specific to a body of
documents: the places it is organised by (a gazetteer, which also gives the app's region facet),
a bilingual glossary for cross-language search, and example questions for the app. A pack is a
folder holding `pack.json` and optionally `gazetteer.json` and `glossary.tsv`; `korea` ships with
the package and `none` is the engine alone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from policyqa.domain.gazetteer import Area, Gazetteer, PlaceMatch

NO_DOMAIN = "none"


class DomainError(ValueError):
    """A domain pack that cannot be found or read; the message says which and why."""


@dataclass(frozen=True)
class GlossaryEntry:
    """One term in both languages; the first form of each side is the one searched."""

    ko: tuple[str, ...]
    en: tuple[str, ...]


class DomainPack(Protocol):
    """What the engine asks of a domain."""

    @property
    def name(self) -> str: ...

    def __hash__(self) -> int: ...  # cached analyses are kept per pack

    @property
    def areas(self) -> Mapping[str, Area]: ...

    @property
    def glossary(self) -> Sequence[GlossaryEntry]: ...

    @property
    def examples(self) -> Mapping[str, Sequence[str]]: ...

    def area_label(self, language: str) -> str: ...

    def find_places(self, text: str) -> list[PlaceMatch]: ...

    def areas_in(self, text: str) -> list[str]: ...

    def area_names(self, area: str, language: str) -> list[str]: ...

    def describe(self, area: str, language: str) -> str: ...


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per name and process
class DataPack:
    """A domain pack read from a folder of data files."""

    name: str
    title: str = ""
    gazetteer: Gazetteer | None = None
    glossary: tuple[GlossaryEntry, ...] = ()
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def areas(self) -> Mapping[str, Area]:
        return self.gazetteer.areas if self.gazetteer else {}

    def area_label(self, language: str) -> str:
        return self.labels.get(language, "Region" if language == "en" else "지역")

    def find_places(self, text: str) -> list[PlaceMatch]:
        return self.gazetteer.find(text) if self.gazetteer else []

    def areas_in(self, text: str) -> list[str]:
        return self.gazetteer.areas_in(text) if self.gazetteer else []

    def area_names(self, area: str, language: str) -> list[str]:
        return self.gazetteer.search_terms(area, language) if self.gazetteer else []

    def describe(self, area: str, language: str) -> str:
        return self.gazetteer.describe(area, language) if self.gazetteer else area


def read_glossary(text: str) -> tuple[GlossaryEntry, ...]:
    """`ko forms<TAB>en forms` lines, forms separated by " | "; `#` starts a comment line."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ko, sep, en = line.partition("\t")
        ko_forms = tuple(f.strip() for f in ko.split("|") if f.strip())
        en_forms = tuple(f.strip() for f in en.split("|") if f.strip())
        if not sep or not ko_forms or not en_forms:
            raise DomainError(f"glossary line {number}: expected 'Korean<TAB>English': {line!r}")
        entries.append(GlossaryEntry(ko_forms, en_forms))
    return tuple(entries)


def _folder(name: str) -> Path:
    path = Path(name)
    if path.is_dir():
        return path
    bundled = Path(str(resources.files("policyqa.domain"))) / name
    if name.replace("_", "").isalnum() and bundled.is_dir():
        return bundled
    known = sorted(
        p.name for p in bundled.parent.iterdir() if p.is_dir() and (p / "pack.json").exists()
    )
    raise DomainError(
        f"no domain pack {name!r}: use one of {', '.join([NO_DOMAIN, *known])} or a folder "
        "holding pack.json"
    )


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DomainError(f"cannot read {path}: {exc}") from exc


@functools.cache
def load_domain(name: str) -> DataPack:
    """The pack called `name` (a bundled pack or a folder), read once per process."""
    if name in ("", NO_DOMAIN):
        return DataPack(NO_DOMAIN)
    folder = _folder(name)
    meta = _json(folder / "pack.json")
    gazetteer_file = folder / "gazetteer.json"
    glossary_file = folder / "glossary.tsv"
    try:
        gazetteer = Gazetteer(_json(gazetteer_file)) if gazetteer_file.exists() else None
    except (KeyError, TypeError, ValueError) as exc:
        raise DomainError(f"{gazetteer_file}: {exc!r}") from exc
    glossary = (
        read_glossary(glossary_file.read_text(encoding="utf-8")) if glossary_file.exists() else ()
    )
    return DataPack(
        name=str(meta.get("name", folder.name)),
        title=str(meta.get("title", "")),
        gazetteer=gazetteer,
        glossary=glossary,
        examples={str(k): tuple(map(str, v)) for k, v in meta.get("examples", {}).items()},
        labels={str(k): str(v) for k, v in meta.get("area_label", {}).items()},
    )
