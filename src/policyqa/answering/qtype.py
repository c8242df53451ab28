"""What kind of detail a question asks for (an amount, a date, a place, a body, who is eligible,
the members of a list) and whether a sentence gives one. Classic answer-type checking: a
sentence that shares the question's words but holds no figure cannot answer "how much?", so
such questions are refused rather than answered with a nearby fact. Pure functions over text;
a domain's gazetteer is the only data.
"""

from __future__ import annotations

import re
from collections.abc import Set

from policyqa.core.text import MONTH_NAME, numbers_in
from policyqa.domain import DomainPack

# "this policy" / "이 정책" points at what the documents are about: it is not a term a passage
# or an answer must contain ("이 정책이 숫자로 내건 목표" asks about targets).
_DEICTIC = re.compile(
    r"\bthis (?:policy|strategy|plan|blueprint|programme|program|scheme)\b|"
    r"(?<![가-힣])(?:이|이번)\s?(?:정책|전략|계획|설계도|방안)(?:[이가은는을를의에]|에서)?(?![가-힣])",
    re.IGNORECASE,
)
# How the question asks for a figure: "how big" is not what it is about, and "how much does it
# cost?" asks for the figure as "how much" does.
_ASKING = re.compile(
    r"\bhow (?:much|many|big|large|high|long|far|soon|often|old)\b|"
    r"\b(?:cost|costs|spend|pay|charge)(?=\s*[?.!]*\s*$)",
    re.IGNORECASE,
)


def without_deixis(question: str) -> str:
    """The question without "this policy / 이 전략", which only points at the documents."""
    return _DEICTIC.sub(" ", question)


def without_asking_words(question: str) -> str:
    """The question without deixis and without the words that only say how it asks."""
    return _ASKING.sub(" ", without_deixis(question))


AMOUNT = "amount"
DATE = "date"
PLACE = "place"
BODY = "body"
ELIGIBILITY = "eligibility"
LIST = "list"

# Interrogatives only: "budget" or "규모" alone name a topic, "how much" / "얼마" ask a figure.
# "when" and "where" also join clauses ("areas where transit is poor"), so they count only
# at the start of a clause or before an auxiliary.
_AUX = r"(?:did|does|do|is|was|were|are|will|would|can|could|should|has|have|had|must)"
_ASKS = {
    AMOUNT: re.compile(
        r"얼마|몇(?!\s?(?:년|월|일|시))|어느\s?정도|\bhow (?:much|many|big|large|high|long|far)\b|"
        r"\bwhat (?:percentage|proportion|share|amount|sum|number|figure|rate)\b",
        re.IGNORECASE,
    ),
    DATE: re.compile(
        # "how long has it had X?" is answered by "since 2006"
        r"언제|며칠|몇\s?(?:년|월|일|시)|어느\s?(?:시점|해|시기|때)|"
        r"\bwhat (?:year|date|month|day|time)\b|\bby when\b|\bhow long\b|"
        rf"(?:^|[,;:.?]\s*|\band\s+)when\b|\bwhen {_AUX}\b|\buntil when\b",
        re.IGNORECASE,
    ),
    # Only questions for a region or city: a plain "where?" / "어디?" is as often answered by
    # "online" or "at the town hall" as by a place name, which no list can check.
    PLACE: re.compile(
        r"어느\s?(?:지역|도시|시·?도|권역|광역|시군)|어떤\s?(?:지역|도시|권역)|"
        r"\bwhich (?:regions?|cit(?:y|ies)|provinces?|countr(?:y|ies)|municipalit(?:y|ies))\b|"
        r"\bin what (?:region|city|province|country)\b|\bwhat (?:region|city|province)\b",
        re.IGNORECASE,
    ),
    # Which ministry or agency: answered by a body's name, not by the measure it concerns.
    BODY: re.compile(
        r"(?:어느|어떤|무슨|담당|소관|주관|주무|집행|책임)\s?(?:부처|기관|부서|조직)|"
        r"누가\s?(?:담당|맡|주관|집행|추진|책임|관리|운영)|"
        r"\b(?:which|what) (?:ministr(?:y|ies)|agenc(?:y|ies)|departments?|bod(?:y|ies)|"
        r"organi[sz]ations?|offices?|authorit(?:y|ies)|institutions?)\b|"
        r"\bwho (?:is |are |will be |was )?(?:responsible|in charge)\b|"
        r"\bwho (?:runs|oversees|executes|implements|manages|leads|administers)\b",
        re.IGNORECASE,
    ),
    # Who may benefit: answered by a group or a condition, not by what the benefit is.
    ELIGIBILITY: re.compile(
        r"누가\s?(?:받|신청|이용|혜택|지원\s?받|해당)|(?:지원|신청|수급|수혜)\s?(?:대상|자격|조건|요건)|"
        # "어떤 조건을 충족해야 받을 수 있나요?", "수혜자는 누구?", "누구한테 공급돼요?"
        r"(?:조건|요건|자격)\s?(?:을|를|이|은|는)?\s?(?:충족|갖추|갖춰|만족)|수혜자|"
        r"누구(?:한테|에게)|"
        r"자격\s?(?:요건|조건)|소득\s?(?:기준|요건|조건)|"
        r"\bwho (?:can|could|may|will|would) (?:get|receive|apply|use|claim|qualify|benefit)\b|"
        r"\bwho (?:is|are) eligible\b|\beligib(?:le|ility)\b|\bqualif(?:y|ies)\b|"
        r"\bincome (?:limits?|thresholds?|criteria|tests?|requirements?)\b",
        re.IGNORECASE,
    ),
    # The members of a set the question counts or asks to be spelled out ("4개 분야가 구체적으로
    # 뭐예요?", "what are the four fields?"): answered by an enumeration.
    LIST: re.compile(
        r"(?:\d+|몇|두|세|네|다섯)\s?(?:개|가지|대)\s?[가-힣]*\s?(?:이|가|은|는)?\s?(?:구체적으로\s?)?"
        r"(?:뭐|무엇|어떤)|구체적으로\s?(?:뭐|무엇|어떤)|"
        r"\bwhat are the (?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b|"
        r"\bwhich ones\b|\blist (?:the|them|all)\b",
        re.IGNORECASE,
    ),
}

# "How was it split?", "각각 몇 명?": the answer is several items, such as a short list.
_BREAKDOWN = re.compile(
    r"각각|나뉘|나누|나눠|배분|내역|구성(?:은|이|을)|\bsplit\b|\bbroken down\b|\bbreakdown\b|"
    r"\brespectively\b|\bconsists? of\b|\bmade up of\b|\bdivided\b",
    re.IGNORECASE,
)


def asks_for_several(question: str) -> bool:
    """Whether the question asks for several items at once (a list, a breakdown)."""
    return LIST in asked_details(question) or _BREAKDOWN.search(question) is not None


# Separators of an enumeration: "경제권, 생활권, 추진기반", "A·B·C", "A, B and C".
_LIST_SEPARATOR = re.compile(r"[,·、/]|\s및\s|\sand\s|\sor\s|\s또는\s")

# A group of people or a condition on them: "청년", "만 65세 이상", "households below ...".
_ELIGIBLE_GROUP = re.compile(
    r"대상|자격|요건|조건|기준|소득|가구|세대|청년|노인|어르신|아동|학생|장애|거주|"
    r"만\s?\d+\s?(?:[~∼-]\s?\d+\s?)?세|\d+\s?(?:[~∼-]\s?\d+\s?)?세\s?(?:이상|이하|미만)|"
    # a threshold is a condition: "5인 이상", "6개월 이상", "중위소득 30% 이하"
    r"\d+\s?(?:인|명|개월|년|%)\s?(?:이상|이하|미만|초과)|수급자|"
    r"\b(?:eligib\w*|criteri\w*|qualif\w*|residents?|households?|income|aged|citizens?|"
    r"those who|anyone|everyone|students?|youth|young people|elderly|older people|families)\b",
    re.IGNORECASE,
)

_NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"hundred|thousand|million|billion|trillion|dozen|half|double|twice|triple|once)\b|"
    r"(?:^|[^가-힣])(?:한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|두세|서너)\s?"
    r"(?:개|곳|명|가지|차례|번|배|해|군데)|[일이삼사오육칠팔구십백천만억조]+\s?(?:조|억|만)\s?원|절반",
    re.IGNORECASE,
)
_DATE_NUMBER = re.compile(
    r"(?<!\d)(?:1[89]|20)\d\d(?!\d)|\d{1,2}\s?(?:월|일|년|분기|개월|주|시)|\d{1,2}:\d\d|"
    r"\d{1,2}\s?[ap]\.?m\b|"
    r"\d+\s?(?:years?|months?|days?|weeks?)\b",
    re.IGNORECASE,
)
# Years and dates as Korean documents abbreviate them: ‘09~, ’15.1.13, '17. 11, (’18)
_SHORT_DATE = re.compile(r"[’‘'`]\d{2}(?:\s?\.\s?\d{1,2}){0,2}(?:\s?년)?(?!\d)")
_CALENDAR = re.compile(
    rf"\b\d{{4}}-\d{{1,2}}(?:-\d{{1,2}})?\b|\b\d{{1,2}}\s+{MONTH_NAME}(?:\s+\d{{4}})?|"
    rf"\b{MONTH_NAME}\s+\d{{1,2}}(?:,?\s+\d{{4}})?|(?<!\d)(?:1[89]|20)\d\d(?:년)?(?![\d.,]|\s?(?:조|억|만|원|%))|"
    r"\d{1,2}\s?월(?:\s?\d{1,2}\s?일)?|"
    # a full date written with dots: 2026.2.26
    r"(?<![\d.,])(?:1[89]|20)\d\d\s?\.\s?(?:1[0-2]|0?[1-9])\s?\.\s?(?:3[01]|[12]\d|0?[1-9])(?!\d)|"
    # abbreviated years and dates, as Korean documents write them: ’19, ‘07.1.1, '17.11.29
    r"[’‘'`]\d{2}(?:\.\d{1,2}){0,2}(?:\s?년)?(?!\d)",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"제\s*\d+\s*(?:조|항|호|장|절|편|관|목)(?:의\s*\d+)?|^\s*\(?\d{1,2}[.)]\s|"
    r"\b(?:article|section|chapter|paragraph|art\.|para\.|sheet|table|figure|fig\.|annex|"
    r"appendix|schedule|exhibit|box|page|pp?\.)\s*\d+[a-z]?\b|§\s*\d+|"
    r"(?:<\s*)?(?:표|그림|부록|별표|별지|붙임)\s*(?:제\s*)?\d+|\d+\s*쪽",
    re.IGNORECASE,
)
_DATE_WORDS = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|spring|summer|autumn|fall|winter|quarter|yesterday|today|tomorrow)\b|"
    r"상반기|하반기|분기|연내|올해|내년|작년|지난해|연말|연초|봄|여름|가을|겨울|"
    # dates stated by reference, as laws do: "공포한 날부터 시행한다", "upon promulgation"
    r"공포|시행일|즉시|같은 날|이후|이전|직후|직전|부터|까지|"
    r"\b(?:promulgat\w*|immediately|upon|effective|date of|after|before|once|following|"
    r"prior to|until|since|by the end of)\b",
    re.IGNORECASE,
)
# Korean place names by their administrative suffix (전주시, 완주군); 도/구/권 end too many
# ordinary words (제도, 연구, 주권) to count.
_PLACE_WORD_KO = re.compile(r"[가-힣]{2,}(?:특별시|광역시|특별자치도|특별자치시|시|군)(?![가-힣])")
# An English place: a capitalised name after a locative preposition ("in Geneva", "to Sejong").
_LOCATED_NAME = re.compile(
    r"\b(?:in|at|to|from|near|across|throughout|into|around)\s+[A-Z][a-z]+(?:[- ][A-Z][a-z]+)*"
)


# A public body by its kind: "the industry ministry", "Presidential Committee on ...",
# "국토교통부", "지방시대위원회", "행정중심복합도시건설청".
_BODY_NAME = re.compile(
    r"\b(?:ministry|ministries|council|committee|commission|agency|office|administration|"
    r"authority|bureau|department|assembly|cabinet|institute|corporation)\b|"
    r"[가-힣]{2,}(?:부|처|청|위원회|협의회|공사|공단|재단|진흥원|개발원|평가원|정보원|센터)"
    r"(?=(?:가|는|은|이|의|와|과|에서|에|로|도|를|을|만)?(?![가-힣]))",
    re.IGNORECASE,
)


_WH_WORDS = re.compile(
    r"뭐|무엇|무슨|어떤|어떻|어디|어느|언제|누가|누구|얼마|몇|왜|\b(?:what|which|who|whom|whose|"
    r"where|when|why|how)\b",
    re.IGNORECASE,
)
_YES_NO_EN = re.compile(
    r"^(?:is|are|was|were|does|do|did|can|could|will|would|has|have|had|should|must)\b", re.I
)


# What a "not given" statement says is missing: "does not say when the line opens" is a gap in
# dates, no answer to "how much?".
_GAP_KINDS = {
    AMOUNT: re.compile(
        r"\bhow (?:much|many)\b|\b(?:cost|costs|budget|amount|size|figure|funding|sum|share|"
        r"number)\b|얼마|규모|예산|금액|액수|몫|비율|몇|배분",
        re.IGNORECASE,
    ),
    DATE: re.compile(
        r"\bwhen\b|\b(?:date|dates|timing|schedule|deadline|start|starts|takes? effect)\b|"
        r"언제|시기|일정|날짜|시점|시행일",
        re.IGNORECASE,
    ),
    BODY: re.compile(r"\b(?:ministry|agency|body|bodies|who)\b|부처|기관|담당|주체", re.IGNORECASE),
    ELIGIBILITY: re.compile(
        r"\b(?:eligib\w*|conditions|criteria|who can)\b|대상|자격|조건|요건", re.IGNORECASE
    ),
}


def gap_kinds(statement: str) -> set[str]:
    """The kinds of detail a "not given" statement names as missing; empty when it names none
    ("the executing ministry is not specified" names a body)."""
    return {kind for kind, pattern in _GAP_KINDS.items() if pattern.search(statement)}


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no ("Is Sejong part of ...?", "세종도 포함되나요?"): an
    English one opens with an auxiliary, a Korean one has no interrogative word."""
    text = question.strip()
    if _YES_NO_EN.match(text):
        return not _WH_WORDS.search(text)
    if re.search("[가-힣]", text):
        return text.endswith(("?", "나요", "까요", "습니까", "가요")) and not _WH_WORDS.search(text)
    return False


def asked_details(question: str) -> set[str]:
    """The kinds of detail the question asks for; empty when it asks none of them."""
    return {kind for kind, pattern in _ASKS.items() if pattern.search(question)}


def asking_words(question: str) -> list[str]:
    """The words that ask for each kind of detail ("얼마", "how much"), in their order: a
    follow-up that asks no detail of its own inherits them."""
    found = [(m.start(), m.group(0)) for p in _ASKS.values() for m in [p.search(question)] if m]
    return [word.strip(" ,;:.?") for _, word in sorted(found)]


def gives_detail(
    kinds: Set[str], sentence: str, question: str, domain: DomainPack | None = None
) -> bool:
    """Whether `sentence` holds a detail of one of `kinds` that the question does not already
    state (the "10.6 trillion" of "how much of the 10.6 trillion goes to X?" is no answer).
    The domain's gazetteer, if any, recognises place names."""
    if AMOUNT in kinds:
        known = set(numbers_in(question))
        # Calendar dates are no amounts ("since 1 July 2006" does not say how much), nor are
        # the numbers of articles and list items ("제5조", "Article 5", "2.").
        plain = _REFERENCE.sub(" ", _CALENDAR.sub(" ", sentence))
        if any(n not in known for n in numbers_in(plain)):
            return True
        if _new_match(_NUMBER_WORDS, sentence, question):
            return True
    # A date, not any number: the "3" of "3 special provinces" says nothing about when.
    if DATE in kinds and (
        _new_match(_DATE_NUMBER, sentence, question)
        or _new_match(_DATE_WORDS, sentence, question)
        or _new_match(_SHORT_DATE, sentence, question)
    ):
        return True
    if PLACE in kinds:
        asked = question.lower()
        places = domain.find_places(sentence) if domain is not None else []
        if any(m.mention.lower() not in asked for m in places):
            return True
        if _new_match(_PLACE_WORD_KO, sentence, question):
            return True
        if _new_match(_LOCATED_NAME, sentence, question):
            return True
    if ELIGIBILITY in kinds and _new_match(_ELIGIBLE_GROUP, sentence, question):
        return True
    if LIST in kinds and list_items(sentence) >= (asked_count(question) or 3):
        return True  # as many items as the question counts, or three or more
    return BODY in kinds and _new_match(_BODY_NAME, sentence, question)


def _new_match(pattern: re.Pattern[str], sentence: str, question: str) -> bool:
    asked = question.lower()
    return any(m.group(0).strip().lower() not in asked for m in pattern.finditer(sentence))


# What an amount question measures, when it says so: a share ("몇 %", "what percentage") is not
# answered by a count or a sum, nor a sum of money ("예산은 얼마", "how much did it spend") by
# a count ("3개 연도") or a share. Classic answer typing, one level below "an amount".
PERCENT = "percent"
MONEY = "money"
_ASKS_PERCENT = re.compile(
    r"몇\s?(?:%|퍼센트|프로)|\b(?:what|which|by what) (?:percentage|per ?cent)\b|"
    r"\bhow many (?:percent|per cent|percentage points)\b",
    re.IGNORECASE,
)
_ASKS_SUM = re.compile(
    r"얼마|몇\s?(?:십|백|천|만|억|조)+\s?원|\bhow much\b|\bwhat (?:amount|sum)\b", re.IGNORECASE
)
# Words that make the amount asked a sum of money: "예산은 얼마", "감면액", "how much ... spend".
_MONEY_WORDS = re.compile(
    r"예산|금액|액수|비용|사업비|지원금|[가-힣]액(?![가-힣])|[가-힣]액(?=[은는이가을를의도])|"
    r"\b(?:budget|budgets|cost|costs|spend|spent|spending|funding|allocat\w*|money|dollars?|"
    r"won|pounds?|euros?|grants?|revenue|expenditure|surplus|deficit)\b",
    re.IGNORECASE,
)
_GIVES_MONEY = re.compile(
    r"\d\s?(?:원|달러|억|조|만\s?원|천\s?원|백만|천만|파운드|유로)|[$£€₩]\s?\d|"
    r"\b(?:KRW|USD|SGD|GBP|EUR|S\$)\s?\d|"
    r"\d\s?(?:won|dollars?|pounds?|euros?)\b|\d(?:\.\d+)?\s?(?:million|billion|trillion|bn)\b|"
    # a table's unit ("(단위: 백만원, %)", "(in $ million)") makes its bare numbers sums
    r"(?:단위|units?|in)\s?[:：]?\s?[^)\n]{0,12}(?:원|달러|[$£€₩]|won|dollars?|pounds?)",
    re.IGNORECASE,
)
_GIVES_PERCENT = re.compile(
    r"\d\s?(?:%|퍼센트|percent|per cent)|(?:단위|units?)\s?[:：]?\s?[^)\n]{0,12}%",
    re.IGNORECASE,
)


def asked_measure(question: str) -> str | None:
    """PERCENT or MONEY when the question asks for a share or a sum of money; None when it asks
    for another amount or says nothing of what the amount measures."""
    if _ASKS_PERCENT.search(question):
        return PERCENT
    if _ASKS_SUM.search(question) and _MONEY_WORDS.search(question):
        return MONEY
    return None


def gives_measure(measure: str | None, text: str) -> bool:
    """Whether `text` (a sentence with what comes before it, where a table's unit is stated)
    gives a figure of the measure asked; true when the question names no measure."""
    if measure == PERCENT:
        return _GIVES_PERCENT.search(text) is not None
    if measure == MONEY:
        return _GIVES_MONEY.search(text) is not None
    return True


_COUNT_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "두": 2,
    "세": 3,
    "네": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
}
_COUNTED = re.compile(
    r"(?<![\d.])(\d{1,2}|두|세|네|다섯|여섯|일곱|여덟|아홉)\s?(?:개|가지|대)(?![가-힣]*\s?(?:년|월|일))|"
    r"\bthe (\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\b",
    re.IGNORECASE,
)
_ITEM_LINE = re.compile(r"^\s*(?:[-*•◦▪·]|\d{1,2}[.)]|[가-하][.)]|\([0-9a-z가-하]{1,2}\))\s", re.M)


def asked_count(question: str) -> int | None:
    """How many items a list question counts ("4개 분야", "the three areas"); None if it
    names no count."""
    match = _COUNTED.search(question)
    if match is None:
        return None
    word = (match.group(1) or match.group(2)).lower()
    return int(word) if word.isdigit() else _COUNT_WORDS.get(word)


def list_items(text: str) -> int:
    """How many items a sentence or list names: its separators plus one, or its item lines."""
    separators = len(_LIST_SEPARATOR.findall(_CALENDAR.sub(" ", text)))
    return max(separators + 1, len(_ITEM_LINE.findall(text)))
