"""PDF text as `load` reads it through `pdflayout`: each quirk of real PDFs reproduced in a
synthetic PDF (reportlab + NanumGothic), and the bundled corpus read without loss."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from policyqa.ingest.load import load_file
from policyqa.ingest.split import split_document

from .conftest import NANUM, make_pdf

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

Draw = Callable[[object], None]


def canvas_pdf(path: Path, pages: list[Draw], title: str | None = None) -> Path:
    """A PDF whose pages are drawn by the given functions on a reportlab canvas."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "NanumGothic" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("NanumGothic", str(NANUM)))
    c = canvas.Canvas(str(path), invariant=1)
    if title:
        c.setTitle(title)
    for draw in pages:
        draw(c)
        c.showPage()
    c.save()
    return path


def text_at(c: object, x: float, y: float, text: str, size: float = 10) -> None:
    c.setFont("NanumGothic", size)  # type: ignore[attr-defined]
    c.drawString(x, y, text)  # type: ignore[attr-defined]


# -- control characters --------------------------------------------------------------------------


def test_bel_between_words_becomes_a_space(tmp_path: Path) -> None:
    # The FIS report maps its space glyph to U+0007 (BEL): 93-445 per page in pypdf's text.
    page = "재정지출은\x071.84배\x07증가,\x07조세지출은\x072.02배로\x07증가"
    path = make_pdf(tmp_path / "bel.pdf", [page])
    text = load_file(path, "bel.pdf").pages[0].text
    assert "\x07" not in text
    assert "재정지출은 1.84배 증가, 조세지출은 2.02배로 증가" in text


# -- two columns -----------------------------------------------------------------------------

LEFT = [
    "재정지출과 조세지출의 연계관리는 중요한 의제이며",
    "재정지출 규모가 증가 추세에 있고 조세지출 규모마저",
    "큰 폭으로 증가 추세에 있기 때문에 연계가 필요하다.",
    "조세지출 관리상 제약으로 두 재정지출 모두 정부의",
    "재정부담으로 작용하지만 총량 관리체계가 부재하여",
    "통합적 검토가 미흡하다는 지적이 계속되어 왔다.",
]
RIGHT = [
    "조세지출이란 일반적인 조세체계에서 벗어난 조세특례에",
    "의하여 납세자에 대한 재정지원을 목적으로 발생하는",
    "국가 세입의 감소를 의미하며 예산서에 집계된다.",
    "국가별로 조세체계가 상이하고 조세지출의 범위에 대한",
    "국가 간 합의된 기준이나 원칙은 존재하지 않으므로",
    "각국의 사정에 따라 조세지출 범위가 달리 설정된다.",
]


def _interleaved_columns(c: object) -> None:
    """Two columns drawn line by line across the page, left then right on each baseline, so
    that the content stream interleaves them (as some generators write pages)."""
    for row, (left, right) in enumerate(zip(LEFT, RIGHT, strict=True)):
        y = 760 - 16 * row
        text_at(c, 40, y, left, 9.5)
        text_at(c, 310, y, right, 9.5)


def test_two_columns_read_column_by_column(tmp_path: Path) -> None:
    path = canvas_pdf(tmp_path / "columns.pdf", [_interleaved_columns])
    assert LEFT[0] + "\n" + RIGHT[0] in PdfReader(str(path)).pages[0].extract_text()
    text = load_file(path, "columns.pdf").pages[0].text
    assert "\n".join(LEFT) + "\n" + "\n".join(RIGHT) in text


def test_a_borderless_label_column_keeps_its_rows(tmp_path: Path) -> None:
    # Short labels beside descriptions are a table, not two columns of prose: rows stay rows.
    labels = ["참여기업", "운영기관", "고용센터", "참여청년", "운영기관", "고용센터"]

    def draw(c: object) -> None:
        for row, (label, line) in enumerate(zip(labels, RIGHT, strict=True)):
            text_at(c, 40, 760 - 16 * row, label)
            text_at(c, 310, 760 - 16 * row, line)

    text = load_file(canvas_pdf(tmp_path / "rows.pdf", [draw]), "rows.pdf").pages[0].text
    assert text.splitlines()[:2] == [labels[0], RIGHT[0]]


# -- tables --------------------------------------------------------------------------------------


def _grid(c: object, xs: list[float], ys: list[float], merged: set[tuple[str, int, int]]) -> None:
    """The rules of a grid, leaving out ("v", i, k), the vertical rule at xs[i] in row k, and
    ("h", k, i), the horizontal rule at ys[k] in column i: merged cells."""
    for k, y in enumerate(ys):
        for i in range(len(xs) - 1):
            if ("h", k, i) not in merged:
                c.line(xs[i], y, xs[i + 1], y)  # type: ignore[attr-defined]
    for i, x in enumerate(xs):
        for k in range(len(ys) - 1):
            if ("v", i, k) not in merged:
                c.line(x, ys[k], x, ys[k + 1])  # type: ignore[attr-defined]


def _budget_table(c: object) -> None:
    """예산 총괄표 as programme sheets print it: the unit above the table, a two-row header
    whose "2024년" spans 정부안 and 확정, one row of figures per programme."""
    text_at(c, 50, 800, "3. 예산 총괄표", 12)
    text_at(c, 420, 782, "(단위: 백만원, %)", 9)
    xs = [50, 170, 260, 350, 440, 530]
    ys = [770, 750, 730, 710, 690]
    # "2024년" spans two columns; the other header cells span both header rows.
    _grid(c, xs, ys, merged={("v", 4, 0), ("h", 1, 0), ("h", 1, 1), ("h", 1, 2)})
    text_at(c, 60, 747, "사업명")
    text_at(c, 180, 747, "2022년 결산")
    text_at(c, 270, 747, "2023년 예산")
    text_at(c, 400, 755, "2024년")
    text_at(c, 360, 735, "정부안")
    text_at(c, 450, 735, "확정")
    for k, row in enumerate(
        [
            ["청년일자리창출지원", "233,321", "889,078", "649,034", "657,680"],
            ["내일배움카드", "322,799", "518,815", "584,906", "584,906"],
        ]
    ):
        for x, cell in zip(xs, row, strict=False):
            text_at(c, x + 8, 715 - 20 * k, cell)
    text_at(c, 50, 650, "4. 사업목적")


def test_table_rows_carry_their_header_and_unit(tmp_path: Path) -> None:
    # A figure needs its column's header (year, kind) and the table's unit to mean anything.
    path = canvas_pdf(tmp_path / "budget.pdf", [_budget_table])
    old = PdfReader(str(path)).pages[0].extract_text()
    assert "657,680" in old and not any("2024" in x and "657,680" in x for x in old.splitlines())
    lines = load_file(path, "budget.pdf").pages[0].text.splitlines()
    row = next(x for x in lines if "청년일자리창출지원" in x)
    assert row.startswith("| 청년일자리창출지원 |")
    assert "| 2024년 확정: 657,680 |" in row and "| 2024년 정부안: 649,034 |" in row
    assert "2022년 결산: 233,321" in row and row.endswith("| (단위: 백만원, %) |")
    # The header row is kept once, so nothing the header says is lost.
    assert "| 사업명 | 2022년 결산 | 2023년 예산 | 2024년 정부안 | 2024년 확정 |" in lines
    # Text around the table keeps its place.
    assert lines.index("3. 예산 총괄표") < lines.index(row) < lines.index("4. 사업목적")


def test_table_rows_never_become_sections(tmp_path: Path) -> None:
    doc = load_file(canvas_pdf(tmp_path / "budget.pdf", [_budget_table]), "budget.pdf")
    sections = {c.section for c in split_document(doc)}
    assert sections == {"3. 예산 총괄표", "4. 사업목적"}


def _open_sided_table(c: object) -> None:
    """A report's table: horizontal rules across, rules between the columns, no outer sides."""
    text_at(c, 50, 790, "<표 1> 국세감면액 및 감면율 (단위: 억원, %)", 10)
    xs = [50, 200, 300, 400, 500]
    ys = [780, 760, 740, 720]
    for y in ys:
        c.line(xs[0], y, xs[-1], y)  # type: ignore[attr-defined]
    for x in xs[1:-1]:
        c.line(x, ys[0], x, ys[-1])  # type: ignore[attr-defined]
    for k, row in enumerate(
        [
            ["구분", "’21년(실적)", "’22년(전망)", "’23년(전망)"],
            ["국세감면액", "570,248", "635,776", "693,155"],
            ["국세감면율", "13.5", "13.1", "13.9"],
        ]
    ):
        for x, cell in zip(xs, row, strict=False):
            text_at(c, x + 8, 765 - 20 * k, cell)


def test_open_sided_table_is_read_as_rows(tmp_path: Path) -> None:
    path = canvas_pdf(tmp_path / "open.pdf", [_open_sided_table])
    text = load_file(path, "open.pdf").pages[0].text
    row = "| 국세감면액 | ’21년(실적): 570,248 | ’22년(전망): 635,776 | ’23년(전망): 693,155 |"
    assert row in text
    assert "| 국세감면율 | ’21년(실적): 13.5 |" in text


# -- titles --------------------------------------------------------------------------------------


def test_letter_spaced_label_is_not_the_title(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "sheet.pdf",
        ["사   업   명\n(9) 청년일자리창출지원(1043-301)\n1. 사업 코드 정보\n구분 회계 소관"],
    )
    assert load_file(path, "sheet.pdf").title == "청년일자리창출지원(1043-301)"


def test_issuer_letterhead_is_not_the_title(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "report.pdf",
        ["GOVERNMENT OF INDIA\nMINISTRY OF FINANCE\nStatus Paper on Public Debt\nDecember 2023"],
    )
    assert load_file(path, "report.pdf").title == "Status Paper on Public Debt"


def _masthead_cover(c: object) -> None:
    text_at(c, 40, 760, "ISSUE & FOCUS", 40)
    text_at(c, 40, 720, "23-3호 2023.06.", 9)
    text_at(c, 300, 600, "조세지출 연계관리", 24)
    text_at(c, 300, 580, "Tax Expenditures Management", 9)
    text_at(c, 300, 550, "1 들어가며", 10)


def _inside_page(c: object) -> None:
    text_at(c, 40, 800, "FIS ISSUE & FOCUS", 8)
    text_at(c, 40, 760, "조세지출 관리는 재정의 한 축으로 지속가능한 재정운영에 중요하다.", 10)


def test_series_name_in_metadata_and_masthead_is_not_the_title(tmp_path: Path) -> None:
    # The series name is the metadata title and the largest line of page 1, and it runs at
    # the top of every page: the document's own title is the display line below it.
    path = canvas_pdf(
        tmp_path / "fis.pdf",
        [_masthead_cover, _inside_page, _inside_page, _inside_page],
        title="ISSUE & FOCUS",
    )
    assert load_file(path, "fis.pdf").title == "조세지출 연계관리"


def test_title_set_over_two_lines_is_joined(tmp_path: Path) -> None:
    def cover(c: object) -> None:
        text_at(c, 50, 700, "Commissioning policy:", 28)
        text_at(c, 50, 666, "individual funding requests", 28)
        text_at(c, 50, 620, "Version 3, 8 February 2023", 11)
        text_at(c, 50, 600, "Classification: Official", 11)

    path = canvas_pdf(tmp_path / "policy.pdf", [cover])
    title = load_file(path, "policy.pdf").title
    assert title == "Commissioning policy: individual funding requests"


def test_metadata_title_printed_on_page_one_is_kept(tmp_path: Path) -> None:
    page = "국가균형성장 5극3특 추진전략 설계도 개요\n본문"
    path = make_pdf(tmp_path / "t.pdf", [page], title="5극3특 설계도 개요")
    assert load_file(path, "t.pdf").title == "5극3특 설계도 개요"


# -- PDFium unavailable, busy or failing ----------------------------------------------------------


def test_pypdf_reads_the_pages_when_pdfium_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyqa.ingest import pdflayout

    def unavailable() -> object:
        raise ImportError("no pypdfium2")

    monkeypatch.setattr(pdflayout, "_raw", unavailable)
    path = make_pdf(tmp_path / "bel.pdf", ["재정지출은\x071.84배\x07증가", "둘째 쪽"])
    doc = load_file(path, "bel.pdf")
    assert [p.text for p in doc.pages] == ["재정지출은 1.84배 증가", "둘째 쪽"]


def test_documents_load_from_several_threads(tmp_path: Path) -> None:
    # PDFium is not thread-safe: concurrent loads (uploads in the app) take turns.
    path = canvas_pdf(tmp_path / "budget.pdf", [_budget_table] * 3)
    texts: list[str] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            texts.append(load_file(path, "budget.pdf").pages[2].text)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(texts)) == 1 and "2024년 확정: 657,680" in texts[0]


# -- the bundled corpus ------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.pdf")), ids=lambda p: p.name)
def test_bundled_corpus_reads_without_loss(path: Path) -> None:
    """Against pypdf's text: pages without a table are the same words; pages with one lose
    no word (the rows only gain their headers), and the title is the metadata title."""
    reader = PdfReader(str(path))
    doc = load_file(path, path.name)
    assert doc.title == reader.metadata.title
    for page, pdf_page in zip(doc.pages, reader.pages, strict=True):
        old = re.sub(r"^\s*-\s*\d+\s*-\s*$", "", pdf_page.extract_text(), flags=re.M)
        assert not re.search(r"[\x00-\x08\x0b-\x1f]", page.text)
        if not any(line.startswith("|") for line in page.text.splitlines()):
            assert _words(page.text) == _words(old), page.page
        else:
            squeezed = "".join(page.text.split())
            missing = [w for w in _words(old) if w not in squeezed]
            assert not missing, (page.page, missing[:5])


def test_bundled_corpus_tables_are_read_as_rows_under_their_header() -> None:
    doc = load_file(CORPUS / "task-economic-ko.pdf", "task-economic-ko.pdf")
    rows = [x for p in doc.pages for x in p.text.splitlines() if x.startswith("| 국민성장펀드")]
    assert rows == [
        "| 국민성장펀드 지역 투자 | 펀드·벤처 자금 비수도권 투자 "
        "| 5년 150조원, 연 약 40조원, 약 40% | 공개 자료에 명시되지 않음 | 설계도 반영 |"
    ]
    header = "| 조치 | 주요 내용 | 수치 | 담당 기관 | 상태·출처 |"
    assert header in doc.pages[1].text.splitlines()
    chunks = split_document(doc)
    assert not any(c.section.startswith("|") for c in chunks)


def test_a_page_whose_layout_raises_is_read_by_pypdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyqa.ingest import pdflayout

    original = pdflayout.page_layout
    calls: list[int] = []

    def failing(raw: object, page: object, textpage: object) -> pdflayout.PageLayout:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("bad content stream")
        return original(raw, page, textpage)

    monkeypatch.setattr(pdflayout, "page_layout", failing)
    path = make_pdf(tmp_path / "p.pdf", ["first\x07page", "second\x07page", "third\x07page"])
    assert [p.text for p in load_file(path, "p.pdf").pages] == [
        "first page",
        "second page",
        "third page",
    ]


def test_a_page_whose_layout_hangs_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from policyqa.ingest import pdflayout

    original = pdflayout.page_layout
    release = threading.Event()
    calls: list[int] = []

    def hanging(raw: object, page: object, textpage: object) -> pdflayout.PageLayout:
        calls.append(1)
        if len(calls) == 2:
            release.wait(5)  # stands in for a page PDFium never finishes
        return original(raw, page, textpage)

    monkeypatch.setattr(pdflayout, "page_layout", hanging)
    monkeypatch.setenv("POLICYQA_PAGE_TIMEOUT", "1")
    path = make_pdf(tmp_path / "p.pdf", ["first page", "second page", "third page"])
    started = time.monotonic()
    try:
        texts = [p.text for p in load_file(path, "p.pdf").pages]
    finally:
        release.set()
    assert time.monotonic() - started < 3.0
    # The pages after the one that hung are read by pypdf.
    assert texts == ["first page", "second page", "third page"]
