"""Answer-type checks: which detail a question asks for, and whether a sentence gives it."""

from __future__ import annotations

import pytest

from policyqa.answering.qtype import (
    AMOUNT,
    BODY,
    DATE,
    ELIGIBILITY,
    LIST,
    MONEY,
    PERCENT,
    PLACE,
    asked_details,
    asked_measure,
    gap_kinds,
    gives_detail,
    gives_measure,
    is_yes_no,
)
from policyqa.domain import load_domain


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("포괄보조는 2026년에 얼마로 늘어나나요?", {AMOUNT}),
        ("전략과제는 몇 개예요?", {AMOUNT}),
        ("전북이 특별자치도로 출범한 게 언제예요?", {DATE}),
        ("잠재성장률 목표는 몇 년까지예요?", {DATE}),
        ("지역 의대는 어느 지역에 들어서요?", {PLACE}),
        ("How much goes to Gangwon?", {AMOUNT}),
        ("When did the committee meet?", {DATE}),
        ("회의는 몇 시에 열렸어요?", {DATE}),
        ("How long has Jeju had that status?", {AMOUNT, DATE}),
        ("The plan was adopted in 2025; when does it start?", {DATE}),
        ("In which region will the zones be located?", {PLACE}),
        # a plain "where" may be answered by "online": not checked
        ("Where are ferry tickets sold?", set()),
        ("표는 어디서 팔아요?", set()),
        ("Which cities are in the belt?", {PLACE}),
        # topic words and clause-joining "when"/"where" ask for nothing
        ("What does the plan say about the budget?", set()),
        ("What happens to areas where transit is poor?", set()),
        ("What does the plan do when a region refuses?", set()),
        ("새만금은 어떤 역할을 맡나요?", set()),
        ("Which ministry executes the block grants?", {BODY}),
        ("Who is responsible for the rail projects?", {BODY}),
        ("포괄보조 담당 부처는 어디예요?", {BODY}),
        ("이 사업은 누가 주관해요?", {BODY}),
        # who benefits is not who is in charge
        ("Who can get the transport support?", {ELIGIBILITY}),
        ("K-패스 지원은 누가 받을 수 있어요?", {ELIGIBILITY}),
        ("소득 기준 같은 게 있나요?", {ELIGIBILITY}),
        ("특례가 들어간 4개 분야가 구체적으로 뭐예요?", {LIST}),
        ("3대 분야는 무엇인가요?", {LIST}),
        ("What are the three areas?", {LIST}),
        ("Which measures name Daegu directly?", set()),
    ],
)
def test_asked_details(question: str, kinds: set[str]) -> None:
    assert asked_details(question) == kinds


def test_a_figure_the_question_already_states_is_no_answer() -> None:
    question = "How much of the 10.6 trillion won goes to Gangwon?"
    assert not gives_detail({AMOUNT}, "Block grants reach 10.6 trillion won.", question)
    assert gives_detail({AMOUNT}, "Gangwon receives 1.2 trillion won of it.", question)
    assert gives_detail({AMOUNT}, "Two or three local governments may join.", "How many?")
    assert gives_detail({AMOUNT}, "두세 곳이 참여한다.", "몇 곳이 참여해요?")


def test_a_date_is_a_date_not_any_number() -> None:
    question = "When did Jeonbuk become a special province?"
    assert not gives_detail({DATE}, "It is one of the 3 special provinces.", question)
    assert gives_detail({DATE}, "It became one on 18 January 2024.", question)
    assert gives_detail({DATE}, "2024년 1월 18일 출범했다.", "언제 출범했어요?")
    assert gives_detail({DATE}, "하반기에 확정한다.", "언제 확정해요?")


def test_places_from_the_gazetteer_suffixes_and_locatives() -> None:
    question = "Where will the medical schools be built?"
    assert gives_detail({PLACE}, "One will be built in Gangwon.", question)
    assert gives_detail({PLACE}, "The office moves to Geneva next year.", question)
    korea = load_domain("korea")
    assert gives_detail({PLACE}, "의대는 완주군에 들어선다.", "의대는 어디에 생겨요?", korea)
    assert not gives_detail({PLACE}, "New regional medical schools are planned.", question)
    assert not gives_detail({PLACE}, "지원 제도를 연구한다.", "어디에 생겨요?")
    # a place the question itself names is not the answer to "where?"
    assert not gives_detail({PLACE}, "Gangwon is a special province.", "Where in Gangwon?")


def test_a_calendar_date_is_not_an_amount() -> None:
    question = "How much goes to Jeju?"
    assert not gives_detail({AMOUNT}, "Jeju has held that status since 1 July 2006.", question)
    assert not gives_detail({AMOUNT}, "| 2024-01-18 | 전북특별자치도 출범 |", "얼마예요?")
    assert gives_detail({AMOUNT}, "In 2026 it receives KRW 2 trillion.", question)
    assert gives_detail({AMOUNT}, "2026년 예산은 10.6조원이다.", "얼마예요?")


def test_dates_stated_by_reference_as_laws_do() -> None:
    question = "이 법은 언제부터 시행돼요?"
    assert gives_detail({DATE}, "이 법은 공포 후 6개월이 경과한 날부터 시행한다.", question)
    assert gives_detail({DATE}, "이 법은 공포한 날부터 시행한다.", question)
    assert gives_detail({DATE}, "This Act enters into force upon promulgation.", "When?")
    assert not gives_detail({DATE}, "위원회는 위원장이 소집한다.", question)


def test_time_by_relation_and_not_a_time_question() -> None:
    assert asked_details("어느 시점에 시행돼요?") == {DATE}
    assert asked_details("어느 지역에 있어요?") == {PLACE}
    assert gives_detail({DATE}, "The rules apply after the board approves them.", "When?")
    assert not gives_detail({DATE}, "The rules are approved by the board.", "When?")


def test_a_body_is_named_by_its_kind() -> None:
    question = "Which ministry executes the block grants?"
    assert gives_detail({BODY}, "The interior ministry runs the programme.", "Who runs it?")
    assert gives_detail({BODY}, "It was announced by the fiscal strategy council.", question)
    assert gives_detail({BODY}, "행정안전부가 집행한다.", "담당 부처는?")
    assert gives_detail({BODY}, "지방시대위원회가 의결했다.", "어느 기관이 의결했나요?")
    # the kind the question names is no answer to it
    assert not gives_detail({BODY}, "The executing ministry is not specified.", question)
    assert not gives_detail({BODY}, "Block grants rise to 10.6 trillion won.", question)
    assert not gives_detail({BODY}, "일부 사업은 내부 검토 중이다.", "담당 부처는?")


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Is Sejong part of the Central region?", True),
        ("Did the ministry confirm the list, and which industries were picked?", False),
        ("세종도 중부권에 포함되나요?", True),
        ("중부권에는 어느 시·도가 들어가나요?", False),
        ("What is the target?", False),
        ("목표가 뭐예요?", False),
    ],
)
def test_yes_no_questions(question: str, yes_no: bool) -> None:
    assert is_yes_no(question) is yes_no


def test_eligibility_is_a_group_or_a_condition() -> None:
    question = "Who can get the transport support?"
    assert gives_detail({ELIGIBILITY}, "Residents aged 65 or over receive it.", question)
    assert gives_detail(
        {ELIGIBILITY}, "만 19세 이상 청년이 신청할 수 있다.", "누가 받을 수 있어요?"
    )
    assert not gives_detail({ELIGIBILITY}, "Support is up to KRW 200,000 a month.", question)
    assert not gives_detail({ELIGIBILITY}, "K-패스를 전국에서 시행한다.", "누가 받을 수 있어요?")


def test_a_list_is_answered_by_an_enumeration() -> None:
    question = "4개 분야가 구체적으로 뭐예요?"
    assert gives_detail({LIST}, "교육, 산업, 환경, 문화 분야의 특례가 담겼다.", question)
    assert gives_detail({LIST}, "The areas are growth, connection and the base.", "What are the 3?")
    assert not gives_detail({LIST}, "2023년 12월 전부개정으로 4개 분야 특례가 담겼다.", question)
    # the separators of a date are not items
    assert not gives_detail({LIST}, "It took effect on 2024-01-18.", "What are the four?")


def test_article_and_item_numbers_are_no_amounts() -> None:
    question = "특구 지정 예산은 얼마예요?"
    assert not gives_detail({AMOUNT}, "제5조(특구의 지정) 장관은 특구를 지정할 수 있다.", question)
    assert not gives_detail({AMOUNT}, "Article 5 lets the minister designate zones.", "How much?")
    assert gives_detail({AMOUNT}, "제5조 특구에는 연 300억원을 지원한다.", question)
    # cross-references to parts of a document are no figures either
    assert not gives_detail({AMOUNT}, "The money side is handled in Task Sheet 3.", "How much?")
    assert not gives_detail({AMOUNT}, "세부 내용은 <표 3>과 부록 2 참조.", question)
    assert gives_detail({AMOUNT}, "Table 3 sets the grant at 40 million.", "How much?")


def test_the_kind_of_detail_a_gap_statement_names() -> None:
    assert gap_kinds("The plan does not say when the second rail line opens.") == {DATE}
    assert gap_kinds("The size of the account and when it takes effect") == {AMOUNT, DATE}
    assert gap_kinds("집행 부처는 공개 자료에 명시되지 않음") == {BODY}
    assert gap_kinds("K-패스 지원의 대상과 조건") == {ELIGIBILITY}
    assert gap_kinds("The details are not specified.") == set()


def test_abbreviated_years_are_dates_not_amounts() -> None:
    assert not gives_detail(
        {AMOUNT}, "- ‘19 : 사회서비스형 노인일자리 사업 실시", "결산액은 몇백만원?"
    )
    assert not gives_detail({AMOUNT}, "’17.11.29 주거복지로드맵 발표", "얼마인가요?")
    assert gives_detail({AMOUNT}, "’17.11.29 발표, 17만호 공급", "몇 호인가요?")


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("민간임대 융자 금리는 연 몇 %인가요?", PERCENT),
        ("By what percentage was the budget cut?", PERCENT),
        ("2025년 국세감면액 전망치는 얼마인가요?", MONEY),
        ("사업의 2024년 확정 예산은 얼마인가요?", MONEY),
        ("How much did the programme spend in 2019?", MONEY),
        ("결산액은 몇백만원인가요?", MONEY),
        # a count, or an amount of no stated kind, is any figure
        ("How many requests were approved?", None),
        ("지원 기간은 얼마나 되나요?", None),
        ("What does the budget say about roads?", None),
    ],
)
def test_the_measure_an_amount_question_asks(question: str, measure: str | None) -> None:
    assert asked_measure(question) == measure


def test_a_share_or_a_sum_is_given_only_as_one() -> None:
    assert gives_measure(PERCENT, "융자 금리는 연 2.0%이다")
    assert not gives_measure(PERCENT, "전용면적 85㎡ 이하의 주택에 융자한다")
    assert gives_measure(MONEY, "Block grants grow to KRW 10.6 trillion.")
    assert gives_measure(MONEY, "Overall, we expect a surplus of $6.4 billion.")
    assert not gives_measure(MONEY, "3개 연도의 실적과 전망을 국회에 제출한다")
    assert not gives_measure(MONEY, "the request is screened within 20 working days")
    # a table's bare figures are sums when its unit says so, and shares when it says %
    row = "(단위: 백만원, %)\n| 사업 | 2024년 확정: 657,680 | 증감: △26.0 |"
    assert gives_measure(MONEY, row) and gives_measure(PERCENT, row)
    assert gives_measure(None, "anything at all")


def test_eligibility_asked_as_conditions_and_given_as_thresholds() -> None:
    assert ELIGIBILITY in asked_details("장려금은 어떤 조건을 충족해야 받을 수 있나요?")
    assert ELIGIBILITY in asked_details("이 주택은 누구한테 공급돼요?")
    question = "장려금의 지원 대상기업과 수령 조건은 무엇인가요?"
    assert gives_detail({ELIGIBILITY}, "5인 이상 기업에서 만 15~34세 청년을 채용", question)
    assert gives_detail({ELIGIBILITY}, "6개월 이상 고용을 유지하면 지원", question)
    assert not gives_detail({ELIGIBILITY}, "최장 2년간 지원하는 것임", question)


def test_abbreviated_korean_dates_are_dates() -> None:
    question = "창업사업화지원 사업은 언제부터 시행되었나요?"
    assert gives_detail({DATE}, "- 사업기간 : ‘09~", question)
    assert gives_detail({DATE}, "기업형 임대사업자 육성방안 발표(’15.1.13)", question)
    assert not gives_detail({DATE}, "- 사업시행방법 : 직접수행", question)


def test_a_counted_list_needs_as_many_items() -> None:
    from policyqa.answering.qtype import asked_count, list_items

    assert asked_count("특례가 들어간 4개 분야가 구체적으로 뭐예요?") == 4
    assert asked_count("What are the four CSF Tiers?") == 4
    assert asked_count("3대 분야는 무엇인가요?") == 3
    assert asked_count("2개월 뒤에는 뭐가 바뀌나요?") is None  # a duration, not a count
    assert list_items("- A\n- B\n- C\n- D") == 4
    question = "특례가 들어간 4개 분야가 구체적으로 뭐예요?"
    three = "Jeonbuk is the newest, after Jeju (2006) and Gangwon (2023)."
    assert not gives_detail({LIST}, three, question)
    assert gives_detail({LIST}, "The four fields are tax, land, industry and education.", question)


def test_a_date_written_with_dots_is_no_amount() -> None:
    from policyqa.answering import qtype

    row = "| 초광역특별계정 | 지역균형발전특별회계 내 신설 | 설계도 반영, 2026.2.26 신설 발표 |"
    assert not qtype.gives_detail(frozenset({qtype.AMOUNT}), row, "규모는 얼마나 돼요?")
    assert qtype.gives_detail(frozenset({qtype.AMOUNT}), "규모는 2,026.5억원", "규모는 얼마?")


def test_korean_agency_names_are_bodies() -> None:
    from policyqa.answering import qtype

    asked = "어떤 기관들이 사업시행주체로 참여하는가?"
    for sentence in ("ㅇ 사업시행주체 : 창업진흥원 등", "신청은 고용센터에서 받는다."):
        assert qtype.gives_detail(frozenset({qtype.BODY}), sentence, asked), sentence
    assert not qtype.gives_detail(frozenset({qtype.BODY}), "사업비를 지원한다.", asked)
