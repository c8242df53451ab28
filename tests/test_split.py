from policyqa.core.models import Chunk, Document, Page
from policyqa.ingest.split import SectionTracker, heading_style, section_at, split_document


def _doc(*pages: str, language: str = "ko") -> Document:
    return Document(
        doc_id="d.pdf",
        title="Doc",
        language=language,  # type: ignore[arg-type]
        pages=tuple(Page(i + 1, str(i + 1), t) for i, t in enumerate(pages)),
        page_count=len(pages),
    )


def test_heading_styles() -> None:
    assert heading_style("## 2. 생활권") == ("md2", "2. 생활권")
    assert heading_style("1. 추진 배경")[0] == "num"  # type: ignore[index]
    assert heading_style("가. 경제권")[0] == "ganada"  # type: ignore[index]
    assert heading_style("□ 초광역특별협약 추진")[0] == "box"  # type: ignore[index]
    assert heading_style("○ 세부 내용")[0] == "circle"  # type: ignore[index]
    assert heading_style("제3조(정의) 이 법에서")[0] == "article"  # type: ignore[index]
    assert heading_style("1.5배 증가했다") is None
    assert heading_style("그냥 문장입니다.") is None


def test_section_tracker_nests_and_closes() -> None:
    t = SectionTracker()
    t.feed("num", "1. 개요")
    t.feed("ganada", "가. 배경")
    t.feed("box", "□ 목표")
    assert t.path == "1. 개요 > 가. 배경 > □ 목표"
    t.feed("ganada", "나. 내용")
    assert t.path == "1. 개요 > 나. 내용"
    t.feed("num", "2. 과제")
    assert t.path == "2. 과제"


def test_markdown_levels() -> None:
    t = SectionTracker()
    t.feed("md1", "Title")
    t.feed("md2", "A")
    t.feed("num", "1. item")
    t.feed("md2", "B")
    assert t.path == "Title > B"


def test_chunks_keep_section_path_and_never_cross_pages() -> None:
    page1 = (
        "1. 개요\n"
        + "가. 배경\n"
        + " ".join(["균형성장"] * 30)
        + "\n나. 목표\n"
        + " ".join(["성장률"] * 30)
    )
    page2 = " ".join(["계속되는"] * 20)
    chunks = split_document(_doc(page1, page2), max_words=40, overlap_words=5)
    assert {c.page for c in chunks} == {1, 2}
    assert chunks[0].section.startswith("1. 개요 > 가. 배경")
    assert any(c.section == "1. 개요 > 나. 목표" for c in chunks)
    # The section continues onto the next page.
    assert next(c for c in chunks if c.page == 2).section == "1. 개요 > 나. 목표"
    for c in chunks:
        assert len(c.text.split()) <= 40
        assert c.id == f"d.pdf#p{c.page}#c{c.ordinal}"


def test_long_paragraph_is_split_with_overlap() -> None:
    words = [f"w{i}" for i in range(300)]
    sentences = " ".join(" ".join(words[i : i + 10]) + "." for i in range(0, 300, 10))
    chunks = split_document(_doc(sentences, language="en"), max_words=50, overlap_words=10)
    assert len(chunks) >= 6
    assert all(len(c.text.split()) <= 50 for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(w in joined for w in ("w0", "w150", "w299"))


def test_ids_and_hashes_are_stable_and_content_sensitive() -> None:
    a = split_document(_doc("1. 개요\n내용 하나"))
    b = split_document(_doc("1. 개요\n내용 하나"))
    c = split_document(_doc("1. 개요\n내용 둘"))
    assert [x.id for x in a] == [x.id for x in b]
    assert [x.content_hash for x in a] == [x.content_hash for x in b]
    assert a[0].content_hash != c[0].content_hash


def test_mixed_document_gets_per_chunk_language() -> None:
    doc = _doc(
        "# 한국어 부분\n"
        + "국가균형성장 전략 " * 20
        + "\n# English part\n"
        + "balanced growth strategy " * 20,
        language="mixed",
    )
    chunks = split_document(doc, max_words=40, overlap_words=0)
    assert {c.language for c in chunks} >= {"ko", "en"}


def test_short_articles_packed_together_keep_their_own_sections() -> None:
    text = (
        "제1조(목적) 이 법은 지역 간 상생협력을 촉진함을 목적으로 한다.\n"
        "제2조(정의) 이 법에서 사용하는 용어의 뜻은 다음과 같다.\n"
        "제3조(위원회) 위원회는 위원장 1명을 포함한 20명 이내의 위원으로 구성한다.\n"
    )
    doc = Document("law.md", "법", "ko", (Page(1, "1", text),), 1)
    chunks = split_document(doc, max_words=120)
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.section.startswith("제3조")  # filed under the last block, as before
    for article in ("제1조", "제2조", "제3조"):
        offset = chunk.text.index(article)
        assert section_at(chunk, offset).startswith(article), (article, chunk.outline)
    # an outline survives the round trip through the store's metadata
    again = Chunk.from_record(chunk.id, chunk.text, dict(chunk.metadata()))
    assert section_at(again, chunk.text.index("제1조")).startswith("제1조")


def test_a_chunk_under_one_section_has_no_outline() -> None:
    doc = Document("a.md", "A", "en", (Page(1, "1", "# One\n\n" + "word " * 50),), 1)
    (chunk,) = split_document(doc, max_words=120)
    assert chunk.outline == "" and section_at(chunk, 10) == chunk.section


def test_an_article_heading_is_titled_by_its_label() -> None:
    assert heading_style("제2조(정의) 이 법에서 사용하는 용어의 뜻은 다음과 같다.") == (
        "article",
        "제2조(정의)",
    )


def test_an_unnumbered_sources_heading_is_a_section_of_its_own() -> None:
    sources = "\n".join(f"• Press release number {i} of the committee, 2025" for i in range(12))
    page = f"Title of the sheet\nSources\n{sources}\n1. Outline\nThe plan has three areas."
    chunks = split_document(_doc(page, language="en"), max_words=40, overlap_words=0)
    listing = [c for c in chunks if "Press release number 11" in c.text]
    assert listing and listing[0].section == "Sources"  # the list's second chunk too
    outline = next(c for c in chunks if "three areas" in c.text)
    assert section_at(outline, outline.text.index("three")) == "1. Outline"
    assert heading_style("출처") == ("named", "출처")
    assert heading_style("Sources of the figures are listed below.") is None


def test_figure_rows_contents_entries_and_paragraphs_are_not_sections() -> None:
    # Each line was a section label before: a table row flattened by extraction, a contents
    # entry, a numbered paragraph (its first line runs on; a sentence ends in it; it ends on
    # "the"; it states "we will"), the wrapped rest of a sentence citing an article.
    page = "\n".join(
        [
            "1. 조세지출 추이",
            "71.7 73.0 75.8",
            "3. 상속·증여세 10,838 1.9 20,049 3.2 22,194 3.2",
            "○ 국세감면액 (A) 570,248 635,776 693,155",
            "I. Conclusion ........................................ 95",
            "1. Every year, the resources NHS England receives are allocated",
            "to services and treatments that can be provided for patients.",
            "2. 2025 marks our 60th year of independence.  It has been a",
            "remarkable journey.",
            "28. So I will introduce a 50% Corporate Income Tax rebate in the",
            "Year of Assessment 2025.",
            "80. We will therefore introduce a new SkillsFuture Workforce",
            "Development Grant.",
            "○ 세종특별자치시(2012년 7월 1일 출범)는 '시'로서 3특에 포함되지 않는다.",
            "- 법적 근거는 「조세특례제한법」 제142조의2(조세지출예산서의 작성), "
            "「국가재정법」 제9조 및",
            "제34조(예산안의 첨부서류)",
        ]
    )
    sections = {c.section for c in split_document(_doc(page), max_words=200)}
    assert sections == {"1. 조세지출 추이"}


def test_headings_that_name_a_section_still_open_one() -> None:
    for line, following in [
        ("1. 사업 코드 정보", "구분 회계 소관"),
        ("□ 사업 지원 형태 및 지원율 (최소한 한 개는 반드시 선택하시오. 해당사항에 O 표시)", ""),
        ("2. 제1차 전체회의(2025년 9월 30일)", "□ 일시·장소: 2025년 9월 30일(화) 오후 2시"),
        ("2. The plenary session of 30 September 2025", "The blueprint was approved at"),
        ("(e) Institutions for cooperation between local governments", "• Widen the powers"),
        ("A. Introduction", "Mr Speaker, Sir"),
        ("○ 세부 내용", ""),
    ]:
        assert heading_style(line, following) is not None, line


def test_a_labelled_item_is_titled_by_its_label() -> None:
    # "□ 필드: 문장" names the field; the sentence after the colon is the section's text.
    line = "□ 과제 체계: 설계도 전체는 11개 전략과제와 144개 세부과제로 구성되나, 이 분야에 속한"
    assert heading_style(line, "전략과제의 수와 명칭은 공개 자료에 명시되지 않음") == (
        "box",
        "□ 과제 체계",
    )
    assert heading_style("□ 주재: 김경수 위원장") == ("box", "□ 주재: 김경수 위원장")
    assert (
        heading_style("○ 세부 내용은 2025년 9월 30일 전체회의에서 의결된 설계도와 같다는 설명이다.")
        is None
    )


def test_items_of_a_quoted_article_are_not_sections() -> None:
    page = "\n".join(
        [
            "5. 사업근거 및 추진경위",
            "제7조(급여의 종류) ① 이 법에 따른 급여의 종류는 다음 각 호와 같다.",
            "1. 생계급여",
            "2. 주거급여",
            "7. 자활급여",
            "제8조(생계급여의 내용 등) ① 생계급여는 수급자에게 금품을 지급하는 것으로 한다.",
            "6. 주요내용",
            "① 사업규모",
        ]
    )
    sections = [c.section for c in split_document(_doc(page), max_words=10, overlap_words=0)]
    assert "5. 사업근거 및 추진경위 > 제8조(생계급여의 내용 등)" in sections
    assert sections[-1] == "6. 주요내용"
    assert not any("자활급여" in s or "1. 생계급여" in s for s in sections)


def test_lettered_sections_run_on_through_i() -> None:
    t = SectionTracker()
    t.feed("upper", "H. Fiscal Position")
    t.feed("roman", "I. Conclusion")
    assert t.path == "I. Conclusion"


def test_table_labels_and_cells_under_a_number_are_not_sections() -> None:
    for line in (
        "(a) (b) (c) (d)",
        "(3) $0.49   $0.82   $0.48 Core earnings per share",
        "(2) ($0.24 ) ($0.19 ) $0.51 Non-operating",
        "13.0 %   9.4 %   3.3 % Research and development",
        "0.3   (0.9 )   (0.5 ) Tax basis adjustment",
        "(d) (1) — — Kentucky",
        "(7) any combination of items (1), (2), (3)",
        "8.6 years Weighted Average Discount Rate:",
    ):
        assert heading_style(line) is None, line
    # a number or year at the start of a name is still a heading
    assert heading_style("1. 5극 3특 전략") == ("num", "1. 5극 3특 전략")
    assert heading_style("2. 2024년 예산") == ("num", "2. 2024년 예산")
    assert heading_style("1. 2024 Budget Highlights") == ("num", "1. 2024 Budget Highlights")
    assert heading_style("(3) Calculation of average debt") == (
        "paren",
        "(3) Calculation of average debt",
    )


def test_an_item_level_section_ends_with_its_page() -> None:
    page1 = "1. 개요\n(1) 추진 배경\n" + " ".join(["균형성장"] * 20)
    page2 = " ".join(["계속되는"] * 20)
    chunks = split_document(_doc(page1, page2), max_words=40, overlap_words=5)
    assert chunks[0].section == "1. 개요 > (1) 추진 배경"
    # the numbered section goes on; the item "(1)" does not title the next page
    assert next(c for c in chunks if c.page == 2).section == "1. 개요"
