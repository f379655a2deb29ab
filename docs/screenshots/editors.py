"""Pictures for docs/editors.md: walks a new cluster editor through the admin of a running dev server.

    .venv/bin/python docs/screenshots/editors.py --base-url http://127.0.0.1:8130

Creates an example account in the fictional Example Cluster (add_cluster_editor) and an example
practice there, then writes docs/img/*.png. Uses Debian's Chromium (/usr/bin/chromium) through Playwright.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "img"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "Example-editor-2026"


def set_password_link(base_url, email):
    out = subprocess.run(
        [sys.executable, "manage.py", "add_cluster_editor", "example-cluster", email],
        cwd=ROOT,
        env={"KB_BASE_URL": base_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"http\S+", out)
    if not found:
        sys.exit(f"{email} already has a password; give another --email.\n{out}")
    return found.group(0)


def shot(page, name):
    page.screenshot(path=str(OUT / f"{name}.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", default=f"example.editor.{int(time.time())}@example.org")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    link = set_password_link(base, args.email)

    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(link)
        page.fill("input[name=new_password1]", PASSWORD)
        page.fill("input[name=new_password2]", PASSWORD)
        shot(page, "01-set-password")
        with page.expect_navigation():
            page.locator("form button[type=submit], form input[type=submit]").last.click()

        page.goto(base + "/admin/login/")
        page.fill("input[name=username]", args.email)
        page.fill("input[name=password]", PASSWORD)
        shot(page, "02-sign-in")
        with page.expect_navigation():
            page.click("form button[type=submit]")
        page.wait_for_selector("text=Your cluster:")
        shot(page, "03-dashboard")

        with page.expect_navigation():
            page.click("a:has-text('Add practice')")
        page.fill("#id_title", "Example: shared water filters for small farms")
        page.fill("#id_summary", "Example content: a practice written to show the editor's steps.")
        for words, label in (
            ("computer prog", "62 – Computer programming"),
            ("telecom", "61 – Telecommunications"),
        ):
            page.fill("#id_industries-find", words)
            page.locator("#id_industries label.kb-checklist__item:visible", has_text=label).locator(
                "input"
            ).check()
        page.locator("#id_industries").scroll_into_view_if_needed()
        shot(page, "04-industries")

        pdf = Path(tmp) / "example_practice_summary.pdf"
        pdf.write_bytes(
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        )
        page.click("#id_attached_documents-OPEN_MODAL")
        page.locator(
            ".modal-dialog [role=tab]:has-text('Upload'), .modal-dialog a:has-text('Upload')"
        ).first.click()
        page.set_input_files(".modal-dialog input[type=file]", str(pdf))
        page.wait_for_function(
            "el => el.value === 'Example practice summary'",
            arg=page.locator(".modal-dialog input[name$='title']").element_handle(),
        )
        shot(page, "05-document")
        page.locator(".modal-dialog form button[type=submit]").last.click()
        page.wait_for_selector("#id_attached_documents-FORMS :text('Example practice summary')")

        page.locator("footer [data-w-dropdown-target='toggle']").first.click()
        with page.expect_navigation():
            page.click("button[name='action-submit']")
        page.goto(base + "/admin/")
        with page.expect_navigation():
            page.locator("a:has-text('Example: shared water filters for small farms')").first.click()
        page.wait_for_selector("text=In review by knowledge-base editors since")
        shot(page, "06-in-review")
        browser.close()
    print(f"Pictures written to {OUT}")


if __name__ == "__main__":
    main()
