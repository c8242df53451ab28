"""Screenshots of the running app for the README: the citation viewer at desktop and phone sizes,
a three-turn conversation, and a briefing.

Usage: python scripts/screenshots.py [URL]   (default http://127.0.0.1:7860; start `python app.py`)
Uses Debian's Chromium through Playwright, as the browser tests do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
BOTS = "#chat .message-row.bot-row, #chat [data-testid='bot']"


def ask(page: Any, question: str, count: int) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        "([sel, n, q]) => document.querySelectorAll(sel).length >= n && (() => {"
        " const s = document.querySelector('#sources .sources-of');"
        " return s && s.dataset.question === q; })()",
        arg=[BOTS, count, question],
        timeout=120_000,
    )


def open_citation(page: Any) -> None:
    page.locator("#chat a.cite-ref").first.click()
    page.wait_for_function(
        "() => { const i = document.querySelector('#viewer img.page-image');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=60_000,
    )
    page.wait_for_timeout(300)  # the viewer scrolls the passage into view


def save(page: Any, path: str, full_page: bool = False) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=full_page)
    print(f"wrote {path}")


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url)
        page.wait_for_function("() => window.policyqaReady === true")
        ask(page, "포괄보조는 2026년에 얼마로 늘어나나요?", 1)
        open_citation(page)
        save(page, "docs/screenshot-viewer.png")
        page.close()

        page = browser.new_page(viewport=PHONE, device_scale_factor=2)
        page.goto(url)
        page.wait_for_function("() => window.policyqaReady === true")
        ask(page, "When did Gangwon become a special self-governing province?", 1)
        open_citation(page)
        page.locator("#viewer").scroll_into_view_if_needed()
        page.evaluate("() => document.querySelector('#viewer').scrollIntoView({block: 'start'})")
        save(page, "docs/screenshot-viewer-phone.png")
        page.close()

        page = browser.new_page(viewport=DESKTOP)
        page.goto(url)
        page.wait_for_function("() => window.policyqaReady === true")
        chain = [
            "강원도에 사는데 5극3특 전략이 우리 지역에 어떤 의미가 있나요?",
            "그럼 일자리는요?",
            "교통은요?",
        ]
        for n, question in enumerate(chain, start=1):
            ask(page, question, n)
        save(page, "docs/screenshot-conversation.png")
        page.close()

        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(url)
        page.wait_for_function("() => window.policyqaReady === true")
        ask(page, "How much will block grants grow in 2026?", 1)
        page.locator("#briefing").click()
        page.wait_for_selector("#brief-docx a", timeout=60_000)
        page.locator("#brief").scroll_into_view_if_needed()
        page.locator("#brief").screenshot(path="docs/screenshot-briefing.png")
        # The Word file, as Word shows its structure, is tested by reading it back.
        print("wrote docs/screenshot-briefing.png")
        page.close()
        browser.close()


if __name__ == "__main__":
    main()
