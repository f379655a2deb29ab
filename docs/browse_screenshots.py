"""Screenshots of the browse pages for the README, from a running site (`make run` first).

    .venv/bin/python docs/browse_screenshots.py http://127.0.0.1:8000

Writes docs/img/country-map.png (the home page's map and table, 1280 px wide) and
docs/img/practice-similar-390.png (a practice's similar practices on a phone). Uses Debian's Chromium.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "img"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main(base: str) -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        page.locator(".country-map").screenshot(path=str(OUT / "country-map.png"))
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        page.goto(base + "/search/?q=textile")
        page.locator("ol.hits a").first.click()
        page.locator("#similar-title").scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "practice-similar-390.png"))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
