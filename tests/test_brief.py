"""Briefing notes from a verified answer: Markdown and .docx."""

import io
from dataclasses import replace
from datetime import date

import docx
import pytest

from policyqa.answering.answer import Answer
from policyqa.answering.brief import brief_docx, build_brief, make_brief, tidy
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


def test_brief_summary_is_a_paragraph_of_full_sentences_with_links() -> None:
    markdown = make_brief(_answer(), today=TODAY, base_url="http://host")
    (summary,) = _section(markdown, "Summary")
    assert summary == (
        "The plan was approved in 2025. [\\[1\\]](http://host/files/plan.pdf#page=3) "
        "Block grants total 5 trillion won. [\\[2\\]](http://host/files/report.pdf#page=7)"
    )


def test_a_fragment_is_no_summary_when_a_full_sentence_exists() -> None:
    answer = _answer(
        sentences=[
            CheckedSentence("• people: KRW 51 trillion;", (1,), (1,), True),
            CheckedSentence("Block grants total 5 trillion won.", (2,), (2,), True),
        ]
    )
    brief = build_brief(answer, today=TODAY)
    assert brief.summary == "Block grants total 5 trillion won. [2]"
    assert [p.text for p in brief.points] == [
        "People: KRW 51 trillion.",
        "Block grants total 5 trillion won.",
    ]


def test_key_points_are_clean_bullets_each_with_a_citation() -> None:
    answer = _answer(
        sentences=[
            CheckedSentence("○ 포괄보조를 10.6조원으로 확대", (1,), (1,), True),
            CheckedSentence(
                "It has three strategies: • people: KRW 51 trillion; • space: KRW 66 trillion;",
                (2,),
                (2,),
                True,
            ),
        ]
    )
    points = _section(make_brief(answer, today=TODAY), "Key points")
    assert points == [
        "- 포괄보조를 10.6조원으로 확대. [\\[1\\]](/files/plan.pdf#page=3)",
        "- It has three strategies: people: KRW 51 trillion; space: KRW 66 trillion. "
        "[\\[2\\]](/files/report.pdf#page=7)",
    ]
    assert not any("•" in p or "○" in p or p.startswith("- -") for p in points)


@pytest.mark.parametrize(
    ("text", "tidied"),
    [
        ("• people: KRW 51 trillion;", "People: KRW 51 trillion."),
        ("continuities with the past;", "Continuities with the past."),
        ("- ○ 지역 거점 육성", "지역 거점 육성."),
        ("K-패스를 전국으로 확대한다.", "K-패스를 전국으로 확대한다."),
    ],
)
def test_tidy(text: str, tidied: str) -> None:
    assert tidy(text) == tidied


def test_brief_sources_table_has_title_page_label_short_section_and_quote() -> None:
    long_section = "2. Goals > " + "A heading that extraction ran into the body text " * 3
    answer = _answer(citations=[replace(PLAN, section=long_section), REPORT])
    rows = _section(make_brief(answer, today=TODAY), "Sources")
    assert rows[0] == "| # | Document | Page | Section | Quoted passage |"
    assert rows[2].startswith("| 1 | Balanced Growth Plan | [iii](/files/plan.pdf#page=3) | ")
    section = rows[2].split(" | ")[3]
    assert len(section) <= 49 and section.endswith("…")
    assert rows[2].endswith("| \u201cThe plan was approved in 2025.\u201d |")
    assert rows[3] == (
        "| 2 | Budget Report | [7](/files/report.pdf#page=7) |  | "
        "\u201cBlock grants total 5 trillion won.\u201d |"
    )


def test_a_markdown_source_has_no_page_number() -> None:
    note = replace(REPORT, doc="notes.md", page=1, page_label="1")
    rows = _section(make_brief(_answer(citations=[PLAN, note]), today=TODAY), "Sources")
    assert rows[3].startswith("| 2 | Budget Report | [↗](/files/notes.md) |")


def test_brief_shows_what_was_searched_when_condensed() -> None:
    answer = _answer(question="And the plan?", standalone_question="What is the growth plan?")
    markdown = make_brief(answer, today=TODAY)
    assert markdown.splitlines()[0] == "# Briefing: And the plan?"
    assert "**Searched:** What is the growth plan?" in markdown


def test_brief_without_condensing_has_no_searched_line() -> None:
    assert "**Searched:**" not in make_brief(_answer(), today=TODAY)


def test_brief_notes_have_their_own_section() -> None:
    markdown = make_brief(_answer(notes=["Changwon is in Southeast."]), today=TODAY)
    assert _section(markdown, "Notes") == ["- Changwon is in Southeast."]


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


def test_the_docx_has_the_markdown_content_in_word_structure() -> None:
    brief = build_brief(_answer(notes=["A note."]), today=TODAY, base_url="http://host")
    document = docx.Document(io.BytesIO(brief_docx(brief)))
    assert document.core_properties.author == "policyqa"
    assert document.core_properties.title == "Briefing: What is the plan?"
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Heading 1", "Briefing: What is the plan?")
    assert ("Normal", "policyqa, 2025-01-02") in paragraphs
    headings = [t for style, t in paragraphs if style == "Heading 2"]
    assert headings == ["Summary", "Key points", "Notes", "Sources"]
    summary = paragraphs[paragraphs.index(("Heading 2", "Summary")) + 1]
    assert summary == ("Normal", brief.summary)
    bullets = [t for style, t in paragraphs if style == "List Bullet"]
    assert bullets == [
        "The plan was approved in 2025. [1]",
        "Block grants total 5 trillion won. [2]",
        "A note.",
    ]
    assert not any("•" in t or t.startswith(("-", "#")) or "**" in t for _, t in paragraphs)
    # Each key point's [n] is a link to the cited page.
    point = next(p for p in document.paragraphs if p.style.name == "List Bullet")
    assert [(h.text, h.address) for h in point.hyperlinks] == [
        ("[1]", "http://host/files/plan.pdf#page=3")
    ]
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["#", "Document", "Page", "Section", "Quoted passage"]
    assert rows[1] == [
        "1",
        "Balanced Growth Plan",
        "iii",
        "Goals",
        "\u201cThe plan was approved in 2025.\u201d",
    ]
    assert rows[2][:3] == ["2", "Budget Report", "7"]
    link = table.rows[1].cells[2].paragraphs[0].hyperlinks[0]
    assert link.address == "http://host/files/plan.pdf#page=3"


def test_the_docx_of_a_korean_brief_keeps_korean_text() -> None:
    answer = _answer(
        question="계획은?",
        standalone_question="계획은?",
        language="ko",
        citations=[PLAN],
        sentences=[CheckedSentence("계획은 2025년에 승인되었다.", (1,), (1,), True)],
    )
    document = docx.Document(io.BytesIO(brief_docx(build_brief(answer, today=TODAY))))
    texts = [p.text for p in document.paragraphs]
    assert "브리핑: 계획은?" in texts
    assert "계획은 2025년에 승인되었다. [1]" in texts
    assert [c.text for c in document.tables[0].rows[0].cells][:3] == ["번호", "문서", "쪽"]
