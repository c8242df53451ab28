"""Screenshots of the running app for the README (Korean and English questions).

Usage: python scripts/screenshots.py [URL]   (default http://127.0.0.1:7860; start `python app.py`)
Uses Debian's Chromium through Playwright, as the browser tests do.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

QUESTIONS = {
    "docs/screenshot-ko.png": "포괄보조는 2026년에 얼마로 늘어나나요?",
    "docs/screenshot-en.png": "When did Gangwon become a special self-governing province?",
}


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
        for path, question in QUESTIONS.items():
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.locator("#question textarea").fill(question)
            page.locator("#ask").click()
            page.wait_for_selector("#sources details.cite", timeout=90_000)
            page.locator("#sources details.cite summary").first.click()
            page.wait_for_timeout(500)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=path)
            print(f"wrote {path}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
