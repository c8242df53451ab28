"""Statements that something is not given ("명시되지 않음", "not specified")."""

from __future__ import annotations

import re

from policyqa.answering.terms import QuestionTerms

_NOT_SPECIFIED = re.compile(
    r"\bnot (?:been |yet )?(?:specified|given|listed|reported|disclosed|made public|published|"
    r"confirmed|described|stated|named|set|decided|known|clear)\b|\bunknown\b|\bunconfirmed\b|"
    r"\bremains? unclear\b|\bdo(?:es)? not (?:specify|say|give|list|state|name|confirm|mention|"
    r"disclose|show)\b|"
    r"\bgaps in the (?:public )?record\b|\bno (?:\w+ ){0,4}(?:is|are|was|were|has been|have been) "
    r"(?:given|reported|specified|named|listed)\b|"
    r"(?:명시|공개|확인|발표|보도|제시|확정|기재|언급|결정|알려|밝혀|특정|나와\s?있)"
    r"(?:되|하|되어\s?있|돼\s?있)?지\s?않|"
    r"미정|미확인|미공개|(?:알|확인할|판단할) 수 없|불분명|불확실",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[,;:|()（）]|지만|\bbut\b|\bwhile\b|\bthough\b", re.IGNORECASE)


def in_gaps_section(section: str) -> bool:
    """A section listing what the documents do not give ("5. Gaps in the public record")."""
    last = section.split(" > ")[-1] if section else ""
    return bool(last) and _NOT_SPECIFIED.search(last) is not None


def is_not_specified(text: str, terms: QuestionTerms | None = None) -> bool:
    """Whether `text` says that what the question asks is not given ("명시되지 않음", "not
    specified"). With `terms`, the clause holding that phrase must name something the question
    asks about, so "X becomes Y, though whether it passes is unconfirmed" still answers
    "what does X become?". Long flattened table rows, full of such cells, never count.
    """
    if len(text) > 260 or _NOT_SPECIFIED.search(text) is None:
        return False
    if terms is None:
        return True
    for found in _NOT_SPECIFIED.finditer(text):  # any of its clauses that says so
        before = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, found.start())]
        after = _CLAUSE_BREAK.search(text, found.end())
        clause = text[(before[-1] if before else 0) : (after.start() if after else len(text))]
        clause_terms = set(terms.tokenize(clause))
        if (
            any(t in clause_terms for t in terms.weights)
            or any(t in clause_terms for t in terms.translated)
            or any(names & clause_terms for names in terms.region_terms)
        ):
            return True
    return False
