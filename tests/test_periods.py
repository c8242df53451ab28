from policyqa.answering.periods import period_gap, years_in


def test_years_in_the_forms_documents_write_them() -> None:
    assert years_in("2024년 예산") == {2024}
    assert years_in("FY2026 surplus and FY25") == {2026, 2025}
    assert years_in("’22년~‘24년 시범사업") == {2022, 2023, 2024}
    assert years_in("'17년 11월에 발표") == {2017}
    assert years_in("‘07.1.1시행") == {2007}
    assert years_in("2020년부터 2024년까지") == {2020, 2021, 2022, 2023, 2024}
    assert years_in("from 2018 to 2022") == {2018, 2019, 2020, 2021, 2022}
    assert years_in("between 2010 and 2012") == {2010, 2011, 2012}
    assert years_in("FY2024-25") == {2024, 2025}
    # from a year on: ongoing, so no later year contradicts it
    assert {2009, 2024, 2030} <= years_in("사업기간 : ‘09~ 사업규모")
    assert 2025 in years_in("2015년부터 시행") and 2025 in years_in("since 2006")
    assert years_in("from 2018 to 2020") == {2018, 2019, 2020}


def test_amounts_are_not_years() -> None:
    assert years_in("2,026,370 백만원") == set()
    assert years_in("1,961 people") == set()
    assert years_in("12024 units") == set()
    assert years_in("3,500개사") == set()
    assert years_in("예산 1500억원") == set()
    assert years_in("scored 80 points") == set()


def test_period_gap() -> None:
    row = "| 청년일자리창출지원 | 2023년 예산: 649,034 | 2024년 확정(B): 657,680 |"
    assert period_gap({2024}, row) is None
    assert period_gap({2025}, row) == {2023, 2024}
    assert period_gap({2025}, "The budget grows by 10%.") is None  # no year to contradict
    assert period_gap(set(), row) is None
    assert period_gap({2020, 2021, 2022}, "’22년~‘24년") is None


def test_an_open_range_names_later_years_only_when_asked() -> None:
    assert 2025 in years_in("2010년부터 국회에 제출")
    assert years_in("2010년부터 국회에 제출", open_ended=False) == {2010}


def test_a_quotation_in_a_question_is_no_short_year() -> None:
    assert years_in("'60분 교통망'이 무슨 뜻이에요?", quoted=False) == set()
    assert years_in("What's this '10 Seoul National Universities' idea?", quoted=False) == set()
    assert years_in("’22년 결산은?", quoted=False) == {2022}
    assert years_in("FY25 budget", quoted=False) == {2025}
    assert years_in("’22 결산") == {2022}
