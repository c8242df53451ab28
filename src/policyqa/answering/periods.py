"""Years a question asks about and years a text gives, in the forms documents write them.

A question for "the 2025 budget" is not answered by the 2024 row of a table: when the evidence
names other years and none of those asked, the answer has to say so instead of presenting it.
Forms read: 2024, 2024년(도), FY2024 / FY24, '24 / ’24 / ‘24년, 1990s-2040s only (a four-digit
number outside that span is an amount), ranges "2020~2024", "2020-24", "2020년부터 2024년까지",
"2020 to 2024", "between 2020 and 2024".
"""

from __future__ import annotations

import re

_FIRST, _LAST = 1950, 2049
# Not part of a larger number ("2,026,370", "12024", "2024.5" is a date and keeps its year).
_FULL = r"(?<![\d,])((?:19[5-9]|20[0-4])\d)(?![\d,]|\.\d{3})"
_SHORT = r"(?:(?<=\bFY)|(?<=[’‘'`]))(\d{2})(?!\d)"
_KOREAN_YEAR = re.compile(r"\s?년")
_YEAR = re.compile(rf"{_FULL}|{_SHORT}", re.IGNORECASE)
_RANGE = re.compile(
    rf"{_FULL}\s*(?:년(?:도)?)?\s*(?:~|∼|-|–|—|부터|to|through|until)\s*(?:FY\s?)?"
    rf"(?:((?:19[5-9]|20[0-4])\d)|(\d{{2}}))(?!\d)",
    re.IGNORECASE,
)
_BETWEEN = re.compile(rf"\bbetween\s+{_FULL}\s+and\s+{_FULL}", re.IGNORECASE)
# "’09~", "2009년부터", "since 2009": from that year on, so no later year contradicts it.
_OPEN = re.compile(
    rf"(?:{_FULL}|[’‘'`](\d{{2}}))\s*(?:년(?:도)?)?\s*(?:~|∼|부터|이후)(?!\s*[’‘'`]?\d)|"
    rf"\b(?:since|from)\s+{_FULL}(?!\s*(?:to|through|until|-|–)\s*\d)",
    re.IGNORECASE,
)
_SHORT_RANGE = re.compile(
    r"[’‘'`](\d{2})\s*(?:년(?:도)?)?\s*(?:~|∼|-|–|부터)\s*[’‘'`]?(\d{2})(?!\d)"
)


def _expand(two_digits: str) -> int:
    value = int(two_digits)
    return 2000 + value if value <= _LAST - 2000 else 1900 + value


def years_in(text: str, open_ended: bool = True, quoted: bool = True) -> set[int]:
    """Every year the text names, ranges expanded; with `open_ended`, "2009년부터" names every
    year from 2009 on (no later year contradicts it), without, only 2009. Without `quoted`, a
    quote mark before two digits is a year only as "’22년": in a question it more often opens
    a quotation ("'60분 교통망'", "'10 Seoul National Universities'")."""
    years: set[int] = set()
    for match in _YEAR.finditer(text):
        full, short = match.group(1), match.group(2)
        fiscal = text[max(0, match.start() - 2) : match.start()].upper() == "FY"
        if short and not quoted and not fiscal and not _KOREAN_YEAR.match(text, match.end()):
            continue
        years.add(int(full) if full else _expand(short))
    for match in _RANGE.finditer(text):
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else (start // 100) * 100 + int(match.group(3))
        if start < end <= start + 30:
            years.update(range(start, end + 1))
    for match in _BETWEEN.finditer(text):
        start, end = int(match.group(1)), int(match.group(2))
        if start < end <= start + 30:
            years.update(range(start, end + 1))
    for match in _SHORT_RANGE.finditer(text):
        start, end = _expand(match.group(1)), _expand(match.group(2))
        if start < end <= start + 30:
            years.update(range(start, end + 1))
    for match in _OPEN.finditer(text) if open_ended else ():
        full, short, since = match.group(1), match.group(2), match.group(3)
        start = int(full or since) if (full or since) else _expand(short)
        years.update(range(start, _LAST + 1))
    return {y for y in years if _FIRST <= y <= _LAST}


def period_gap(asked: set[int], evidence: str) -> set[int] | None:
    """The years the evidence names instead of those asked, when it names years and none of the
    asked ones; None when it names an asked year, or no year at all (nothing to contradict)."""
    if not asked:
        return None
    given = years_in(evidence)
    if not given or given & asked:
        return None
    return given
