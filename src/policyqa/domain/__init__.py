"""Domain packs: places, glossary and examples of one subject, as data (see `pack`)."""

from policyqa.domain.gazetteer import Area, PlaceMatch
from policyqa.domain.pack import NO_DOMAIN, DataPack, DomainError, DomainPack, load_domain

__all__ = [
    "NO_DOMAIN",
    "Area",
    "DataPack",
    "DomainError",
    "DomainPack",
    "PlaceMatch",
    "load_domain",
]
