"""Screenshots of what a member sees, for the README: search on a phone and on a desk.

    .venv/bin/python manage.py runserver 127.0.0.1:8110 &
    .venv/bin/python docs/screenshots/members.py http://127.0.0.1:8110 docs/img

Drives Debian's Chromium (/usr/bin/chromium) through Playwright against a running site.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = [
    # (file, width, height, path, open the filters panel)
    ("search-phone.png", 390, 844, "/search/?q=recycling", False),
    ("search-phone-filters.png", 390, 844, "/search/?q=recycling&country=RO", True),
    ("search-desk.png", 1280, 800, "/search/?q=recycling&industry=C&country=RO&country=IT", False),
]


def main(base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for name, width, height, path, open_filters in SHOTS:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(base.rstrip("/") + path)
                if open_filters:
                    page.click("[data-filters-toggle]")
                page.screenshot(path=str(out / name))
                # 256 colours: a third of the size, no visible loss on a page of text.
                Image.open(out / name).convert("RGB").quantize(256).save(out / name, optimize=True)
                page.close()
                print(out / name)
        finally:
            browser.close()


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8110",
        Path(sys.argv[2] if len(sys.argv) > 2 else "docs/img"),
    )
