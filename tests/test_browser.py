"""Browser tests: the real app (real models, bundled corpus) on 127.0.0.1, driven by Playwright
with Debian's Chromium. Marked `browser`; they need `chromium` (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, ask_in_page, free_port

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.integration]

if not Path(CHROMIUM).exists():  # pragma: no cover - .ci/run installs it
    pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/install-system-deps.sh")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    corpus = tmp_path_factory.mktemp("corpus")
    for item in (ROOT / "corpus").iterdir():
        shutil.copy(item, corpus / item.name)
    env = {
        **os.environ,
        "POLICYQA_HOME": str(home),
        "POLICYQA_CORPUS": str(corpus),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(free_port()),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "POLICYQA_ADMIN": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "policyqa.app.cli", "ingest", "--no-progress"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "app.py"], env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{env['GRADIO_SERVER_PORT']}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as response:
                if json.load(response)["status"] == "ok":
                    break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((home / "server.log").read_text()) from None
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("the app did not start: " + (home / "server.log").read_text())
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def _last_bot(page: object) -> object:
    return page.locator("#chat .message-row.bot-row, #chat [data-testid='bot']").last  # type: ignore[attr-defined]


def _wait_answer(page: object, timeout: float = 90_000) -> str:
    try:
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => { const s = document.querySelector('#sources');"
            " return s && (s.querySelector('.cite') || s.innerText.includes('Closest')); }",
            timeout=timeout,
        )
    except Exception:
        shot = Path(os.environ.get("TMPDIR", "/tmp")) / "policyqa-browser-failure.png"
        page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
        raise AssertionError(
            f"no answer; page text: {page.locator('body').inner_text()[:1500]} (screenshot {shot})"  # type: ignore[attr-defined]
        ) from None
    return str(page.locator("#chat").inner_text())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "question, expected",
    [
        ("포괄보조는 2026년에 얼마로 늘어나나요?", "10.6"),
        ("How much will block grants grow in 2026?", "10.6"),
    ],
)
def test_question_streams_a_cited_answer(
    server: str, browser: object, question: str, expected: str
) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server)
    ask_in_page(page, question)
    chat = _wait_answer(page)
    assert expected in chat
    assert re.search(r"\[1\]", chat)
    first = page.locator("#sources .cite").first
    link = first.locator("a.page-link")
    assert link.is_visible()
    href = link.get_attribute("href")
    assert href and re.match(r"^/files/.+(\.pdf#page=\d+|\.md)$", href)
    with urllib.request.urlopen(server + href.split("#")[0]) as response:
        assert response.status == 200
        if href.split("#")[0].endswith(".pdf"):
            assert response.read(5) == b"%PDF-"
            assert response.headers["content-type"] == "application/pdf"
    page.close()


def test_refusal_looks_different(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server)
    ask_in_page(page, "What is the national pension contribution rate for 2026?")
    _wait_answer(page)
    assert page.locator("#chat .refusal").count() >= 1
    assert "Not in the documents" in page.locator("#chat").inner_text()
    page.close()


def test_region_filter_and_briefing_download(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server)
    page.locator("#region input").click()
    page.get_by_role("option", name=re.compile("Gangwon")).click()
    ask_in_page(page, "What does the strategy say specifically about this province?")
    _wait_answer(page)
    sources = page.locator("#sources").inner_text()
    for other in ("region-jeju", "region-honam", "region-capital", "region-southeast"):
        assert other not in sources
    page.locator("#briefing").click()
    page.wait_for_selector("#brief-md a", timeout=30_000)
    with page.expect_download() as info:
        page.locator("#brief-md a").first.click()
    path = info.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("# ") and ("Sources" in text or "출처" in text)
    page.close()


def test_two_sessions_keep_separate_conversations(server: str, browser: object) -> None:
    first = browser.new_context().new_page()  # type: ignore[attr-defined]
    second = browser.new_context().new_page()  # type: ignore[attr-defined]
    first.goto(server)
    second.goto(server)
    ask_in_page(first, "When did Jeju become a special self-governing province?")
    ask_in_page(second, "포괄보조는 2026년에 얼마로 늘어나나요?")
    _wait_answer(first)
    _wait_answer(second)
    ask_in_page(first, "What about Gangwon?")
    first.wait_for_function(
        "() => document.querySelectorAll("
        "'#chat .message-row, #chat [data-testid=\"bot\"]').length >= 4",
        timeout=60_000,
    )
    chat_one = first.locator("#chat").inner_text()
    chat_two = second.locator("#chat").inner_text()
    assert "포괄보조" not in chat_one and "Gangwon" in chat_one
    assert "Jeju" not in chat_two.split("포괄보조")[0]
    assert "What about Gangwon" not in chat_two


def test_api_ask_and_health(server: str) -> None:
    with urllib.request.urlopen(server + "/api/health") as response:
        health = json.load(response)
    assert health["documents"] >= 18 and health["chunks"] > 100
    body = json.dumps(
        {
            "question": "What about Gangwon?",
            "history": [
                {
                    "role": "user",
                    "content": "When did Jeju become a special self-governing province?",
                }
            ],
        }
    ).encode()
    request = urllib.request.Request(
        server + "/api/ask", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    assert set(answer) >= {"answer", "answered", "citations", "language"}
    assert answer["answered"] and "2023" in answer["answer"]
    assert all(
        {"n", "doc", "title", "page", "page_label", "section", "quote"} <= set(c)
        for c in answer["citations"]
    )


# -- issue 18: citations, conversations, input, filters, briefings, at two sizes ---------------

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
BOTS = "#chat .message-row.bot-row"
USERS = "#chat .message-row.user-row"


def _page(browser: Any, server: str, size: str) -> Any:
    page = browser.new_page(viewport=SIZES[size])
    page.goto(server)
    page.wait_for_function("() => window.policyqaReady === true", timeout=60_000)
    return page


def _wait_bots(page: Any, count: int, question: str) -> str:
    """The text of the `count`-th answer, once it is complete (the sources are its own)."""
    page.wait_for_function(
        "([sel, n, q]) => document.querySelectorAll(sel).length >= n && (() => {"
        " const s = document.querySelector('#sources .sources-of');"
        " return s && s.dataset.question === q; })()",
        arg=[BOTS, count, question],
        timeout=90_000,
    )
    return str(page.locator(BOTS).nth(count - 1).inner_text())


def _rect(page: Any, selector: str) -> dict[str, float]:
    return dict(page.eval_on_selector(selector, "e => e.getBoundingClientRect().toJSON()"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_citation_viewer_marks_the_quote_on_the_page(server: str, browser: Any, size: str) -> None:
    import pdfplumber

    page = _page(browser, server, size)
    ask_in_page(page, "포괄보조는 2026년에 얼마로 늘어나나요?")
    _wait_bots(page, 1, "포괄보조는 2026년에 얼마로 늘어나나요?")
    page.locator("#chat a.cite-ref").first.click()
    page.wait_for_function(
        "() => { const i = document.querySelector('#viewer img.page-image');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=60_000,
    )
    head = page.locator("#viewer .viewer-head").inner_text()
    quote = page.locator("#sources #cite-1 blockquote").inner_text()
    href = page.locator("#viewer a.page-link").get_attribute("href")
    match = re.match(r"^/files/(.+\.pdf)#page=(\d+)$", href or "")
    assert match, href
    doc, number = urllib.request.unquote(match.group(1)), int(match.group(2))
    assert "[1]" in head and "쪽" in head  # title, printed page label, section
    # Where the quote is, found independently of the app: pdfplumber's own text search.
    with pdfplumber.open(str(ROOT / "corpus" / doc)) as pdf:
        sheet = pdf.pages[number - 1]
        hits = sheet.search(re.escape(quote[:12]), regex=True)
        assert hits, quote
        expected = {
            "left": hits[0]["x0"] / sheet.width,
            "top": hits[0]["top"] / sheet.height,
            "right": hits[0]["x1"] / sheet.width,
            "bottom": hits[0]["bottom"] / sheet.height,
        }
    image = _rect(page, "#viewer img.page-image")
    box = _rect(page, "#viewer .hl")
    shown = {
        "left": (box["left"] - image["left"]) / image["width"],
        "top": (box["top"] - image["top"]) / image["height"],
        "right": (box["right"] - image["left"]) / image["width"],
        "bottom": (box["bottom"] - image["top"]) / image["height"],
    }
    overlap_x = min(shown["right"], expected["right"]) - max(shown["left"], expected["left"])
    overlap_y = min(shown["bottom"], expected["bottom"]) - max(shown["top"], expected["top"])
    assert overlap_x > 0 and overlap_y > 0, (shown, expected)
    assert abs(shown["top"] - expected["top"]) < 0.01
    # The highlight is in view in the viewer's frame.
    frame = _rect(page, "#viewer .page-scroll")
    assert frame["top"] - 2 <= box["top"] and box["bottom"] <= frame["bottom"] + 2
    # A Markdown source opens as the passage in context with the quote marked (an answer that
    # cites the Markdown timeline).
    question = "설계도가 몇 개 분야, 몇 개 과제로 구성돼 있는지 간단히 정리해 주세요."
    ask_in_page(page, question)
    _wait_bots(page, 2, question)
    md_source = page.locator("#sources .cite[data-cite]", has=page.locator("a[href$='.md']"))
    md_source.first.click()
    page.wait_for_selector("#viewer .context mark.quote-mark", timeout=30_000)
    assert page.locator("#viewer img").count() == 0
    page.close()


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (
            [
                "강원도에 사는데 5극3특 전략이 우리 지역에 어떤 의미가 있나요?",
                "그럼 일자리는요?",
                "교통은요?",
            ],
            ["검색한 내용", "강원도", "5극3특 전략", "교통"],
        ),
        (
            [
                "I live in Gangwon. What does the 5 poles and 3 special provinces strategy mean "
                "for my region?",
                "And jobs?",
                "What about transport?",
            ],
            ["Searched", "Gangwon", "5 poles and 3 special provinces strategy", "transport"],
        ),
    ],
    ids=["ko", "en"],
)
def test_a_three_turn_conversation_keeps_its_subject(
    server: str, browser: Any, chain: list[str], expected: list[str]
) -> None:
    page = _page(browser, server, "desktop")
    for n, question in enumerate(chain, start=1):
        ask_in_page(page, question)
        last = _wait_bots(page, n, question)
    searched = page.locator("#chat .searched").last.inner_text()
    for word in expected:
        assert word in searched, searched
    assert "일자리" not in searched and "jobs" not in searched
    assert '교통은요?"' not in last and '"What about transport?"' not in last
    page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_asking_twice_sends_one_question(server: str, browser: Any, size: str) -> None:
    page = _page(browser, server, size)
    question = "When did Jeju become a special self-governing province?"
    page.locator("#question textarea").fill(question)
    page.locator("#ask").dblclick()
    page.locator("#question textarea").press("Enter")
    _wait_bots(page, 1, question)
    assert page.locator(USERS).count() == 1 and page.locator(BOTS).count() == 1
    assert "empty" not in page.locator("#chat").inner_text().lower()
    assert page.locator("#sources .cite").count() >= 1
    page.locator("#briefing").click()
    page.wait_for_selector("#brief h1", timeout=30_000)
    assert "Ask a question first" not in page.locator("#brief").inner_text()
    page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_over_long_question_stays_in_the_box(server: str, browser: Any, size: str) -> None:
    page = _page(browser, server, size)
    text = "강원 교통 " * 420  # 2,520 characters
    ask_in_page(page, text)
    page.wait_for_function(
        "() => document.querySelector('#input-note').innerText.includes('2000')", timeout=30_000
    )
    note = page.locator("#input-note").inner_text()
    assert "너무 깁니다" in note and note[0] == "질"
    assert page.locator("#question textarea").input_value() == text
    assert page.locator(USERS).count() == 0
    page.close()


def test_filters_say_what_they_did(server: str, browser: Any) -> None:
    page = _page(browser, server, "desktop")
    page.locator("#docs input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert any("Gangwon" in o for o in options)
    assert not any(o.strip().endswith((".pdf", ".md")) for o in options)
    title = next(o.strip() for o in options if "Regional Sheet: Gangwon" in o)
    page.get_by_role("option", name=title).click()
    page.keyboard.press("Escape")
    ask_in_page(page, "국민연금 보험료율은 얼마인가요?")
    answer = _wait_bots(page, 1, "국민연금 보험료율은 얼마인가요?")
    assert "문서에 없는 내용" in answer
    assert "선택한 문서" in answer and title in answer and "18" not in answer
    page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_example_asks_at_once_and_the_phone_shows_the_answer_first(
    server: str, browser: Any, size: str
) -> None:
    page = _page(browser, server, size)
    example = page.locator("#examples .example-set button").first
    text = example.inner_text().strip()
    example.click()
    _wait_bots(page, 1, text)
    assert page.locator(USERS).first.inner_text().strip() == text
    order = [_rect(page, s)["top"] for s in ("#chat", "#sources", "#filters", "#examples")]
    assert order == sorted(order)
    if size == "phone":
        region = _rect(page, "#region")
        assert region["width"] >= 300  # the region names are not cut
        assert _rect(page, "#sources")["top"] < _rect(page, "#region")["top"]
    page.close()


def test_a_chosen_answer_language_is_honoured(server: str, browser: Any) -> None:
    page = _page(browser, server, "desktop")
    page.locator("#language input").click()
    page.get_by_role("option", name="한국어").click()
    question = "When did Gangwon become a special self-governing province?"
    ask_in_page(page, question)
    answer = _wait_bots(page, 1, question)
    assert re.search("[가-힣]{4}", answer.split("\n")[0]), answer
    assert answer.count("영어 문서에만") <= 1
    page.close()


def test_briefing_downloads_as_markdown_and_word(server: str, browser: Any) -> None:
    import docx

    page = _page(browser, server, "desktop")
    ask_in_page(page, "How much will block grants grow in 2026?")
    _wait_bots(page, 1, "How much will block grants grow in 2026?")
    page.locator("#briefing").click()
    page.wait_for_selector("#brief-docx a", timeout=30_000)
    assert page.locator("#brief a[href*='/files/']").count() >= 1  # clickable citations
    with page.expect_download() as info:
        page.locator("#brief-md a").first.click()
    markdown = Path(info.value.path()).read_text(encoding="utf-8")
    with page.expect_download() as info:
        page.locator("#brief-docx a").first.click()
    document = docx.Document(info.value.path())
    assert document.core_properties.author == "policyqa"
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[1:4] == ["Summary", "Key points", "Sources"] or "Summary" in headings
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert bullets and not any(b.lstrip().startswith(("•", "-", "○")) for b in bullets)
    assert all(
        p.hyperlinks
        for p in document.paragraphs
        if p.style.name == "List Bullet" and re.search(r"\[\d+\]$", p.text)
    )
    rows = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert rows[0][:3] == ["#", "Document", "Page"]
    for row in rows[1:]:
        assert row[1] in markdown and row[4].strip("\u201c\u201d")[:20] in markdown
    assert (
        "- \u2022" not in markdown
        and "| # | Document | Page | Section | Quoted passage |" in markdown
    )
    page.close()
