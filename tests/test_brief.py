"""Briefing notes from a verified answer: Markdown and .docx."""

import io
from datetime import date

import docx

from policyqa.answering.answer import Answer
from policyqa.answering.brief import brief_docx, make_brief
from policyqa.answering.verify import CheckedSentence, Citation

TODAY = date(2025, 1, 2)

PLAN = Citation(
    n=1,
    chunk_id="plan.pdf#3",
    doc="plan.pdf",
    title="Balanced Growth Plan",
    page=3,
    page_label="iii",
    section="Intro > Goals",
    quote="The plan was\napproved  in 2025.",
    language="en",
)
REPORT = Citation(
    n=2,
    chunk_id="report.pdf#7",
    doc="report.pdf",
    title="Budget Report",
    page=7,
    page_label="7",
    section="",
    quote="Block grants total 5 trillion won.",
    language="en",
)


def _answer(**overrides: object) -> Answer:
    values: dict[str, object] = {
        "question": "What is the plan?",
        "standalone_question": "What is the plan?",
        "text": "The plan was approved in 2025. [1] Block grants total 5 trillion won. [2]",
        "answered": True,
        "language": "en",
        "citations": [PLAN, REPORT],
        "sentences": [
            CheckedSentence("The plan was approved in 2025.", (1,), (1,), True),
            CheckedSentence("Block grants total 5 trillion won.", (2,), (2,), True),
        ],
    }
    values.update(overrides)
    return Answer(**values)  # type: ignore[arg-type]


def _section(markdown: str, heading: str) -> list[str]:
    """Non-empty lines under `## heading`, up to the next heading."""
    lines = markdown.splitlines()
    start = lines.index(f"## {heading}") + 1
    out = []
    for line in lines[start:]:
        if line.startswith("#"):
            break
        if line.strip():
            out.append(line)
    return out


def test_brief_has_title_and_fixed_date() -> None:
    markdown = make_brief(_answer(), today=TODAY)
    lines = markdown.splitlines()
    assert lines[0] == "# Briefing: What is the plan?"
    assert "*policyqa, 2025-01-02*" in lines


def test_brief_summary_is_first_sentence_with_marker() -> None:
    markdown = make_brief(_answer(), today=TODAY)
    assert _section(markdown, "Summary") == ["The plan was approved in 2025. [1]"]


def test_brief_key_points_are_bullets_of_remaining_sentences() -> None:
    markdown = make_brief(_answer(), today=TODAY)
    assert _section(markdown, "Key points") == ["- Block grants total 5 trillion won. [2]"]


def test_brief_single_sentence_has_no_key_points() -> None:
    answer = _answer(
        sentences=[CheckedSentence("The plan was approved in 2025.", (1,), (1,), True)]
    )
    assert "## Key points" not in make_brief(answer, today=TODAY)


def test_brief_sources_list_doc_page_label_section_and_collapsed_quote() -> None:
    markdown = make_brief(_answer(), today=TODAY)
    assert _section(markdown, "Sources") == [
        "1. Balanced Growth Plan (plan.pdf), p. iii, Intro > Goals: "
        "\u201cThe plan was approved in 2025.\u201d",
        "2. Budget Report (report.pdf), p. 7: \u201cBlock grants total 5 trillion won.\u201d",
    ]


def test_brief_shows_standalone_question_when_condensed() -> None:
    answer = _answer(question="And the plan?", standalone_question="What is the growth plan?")
    markdown = make_brief(answer, today=TODAY)
    assert markdown.splitlines()[0] == "# Briefing: And the plan?"
    assert "**Question:** What is the growth plan?" in markdown


def test_brief_without_condensing_has_no_question_line() -> None:
    assert "**Question:**" not in make_brief(_answer(), today=TODAY)


def test_brief_notes_are_block_quotes() -> None:
    markdown = make_brief(_answer(notes=["Changwon is in Southeast."]), today=TODAY)
    assert "> Changwon is in Southeast." in markdown.splitlines()


def test_korean_brief_uses_korean_headings() -> None:
    answer = _answer(
        question="계획은 무엇인가요?", standalone_question="계획은 무엇인가요?", language="ko"
    )
    markdown = make_brief(answer, today=TODAY)
    assert markdown.splitlines()[0] == "# 브리핑: 계획은 무엇인가요?"
    for heading in ("## 요약", "## 핵심 내용", "## 출처"):
        assert heading in markdown
    for heading in ("## Summary", "## Key points", "## Sources"):
        assert heading not in markdown


def test_refused_answer_has_not_in_documents_section() -> None:
    answer = _answer(text="The documents do not say.", answered=False, citations=[], sentences=[])
    markdown = make_brief(answer, today=TODAY)
    assert _section(markdown, "Not in the documents") == ["The documents do not say."]
    assert "## Summary" not in markdown
    assert "## Sources" not in markdown


def test_refused_korean_answer_has_korean_missing_heading() -> None:
    answer = _answer(
        question="계획은?",
        standalone_question="계획은?",
        text="문서에 나와 있지 않습니다.",
        answered=False,
        language="ko",
        citations=[],
        sentences=[],
    )
    markdown = make_brief(answer, today=TODAY)
    assert _section(markdown, "문서에 없는 내용") == ["문서에 나와 있지 않습니다."]


def test_brief_docx_round_trips_through_python_docx() -> None:
    data = brief_docx(make_brief(_answer(notes=["A note."]), today=TODAY))
    assert isinstance(data, bytes)
    document = docx.Document(io.BytesIO(data))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    texts = [text for _, text in paragraphs]
    assert any("The plan was approved in 2025." in t and "Balanced Growth Plan" in t for t in texts)
    assert any("Block grants total 5 trillion won." in t and "Budget Report" in t for t in texts)
    assert ("Heading 1", "Briefing: What is the plan?") in paragraphs
    assert ("Heading 2", "Sources") in paragraphs
    assert ("List Bullet", "Block grants total 5 trillion won. [2]") in paragraphs
    assert ("Intense Quote", "A note.") in paragraphs
    assert ("Normal", "policyqa, 2025-01-02") in paragraphs
    numbered = [text for style, text in paragraphs if style == "List Number"]
    assert len(numbered) == 2
    assert numbered[1].startswith("Budget Report (report.pdf), p. 7")
    assert not any("**" in t or t.startswith("#") for t in texts)


def test_brief_docx_of_korean_brief_keeps_korean_text() -> None:
    answer = _answer(
        question="계획은?",
        standalone_question="계획은?",
        language="ko",
        citations=[PLAN],
        sentences=[CheckedSentence("계획은 2025년에 승인되었다.", (1,), (1,), True)],
    )
    document = docx.Document(io.BytesIO(brief_docx(make_brief(answer, today=TODAY))))
    texts = [p.text for p in document.paragraphs]
    assert "브리핑: 계획은?" in texts
    assert "계획은 2025년에 승인되었다. [1]" in texts
