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
            " return s && (s.querySelector('details.cite') || s.innerText.includes('Closest')); }",
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
    first = page.locator("#sources details.cite").first
    first.locator("summary").click()
    link = first.locator("a.page-link")
    assert link.is_visible()
    href = link.get_attribute("href")
    assert href and re.match(r"^/files/.+\.(pdf|md)#page=\d+$", href)
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
