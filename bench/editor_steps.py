"""Page loads a cluster editor needs from the sign-in page to a practice submitted for review.

    .venv/bin/python bench/editor_steps.py http://127.0.0.1:8111 editor@example.org PASSWORD

Drives Debian's Chromium (``KB_CHROMIUM``, default /usr/bin/chromium) against a running site, the way a
person would, and takes whichever way the admin offers to the add-practice form: the dashboard's
"Add practice" where there is one, else the only way older versions had (the page explorer from the
sidebar, the cluster, "Add child page"). Page loads are counted as tests/test_browser_contributor.py
counts them: documents loaded (Playwright's ``load``), not same-document updates; redirects are part of
the load they end in. It makes one draft practice, submitted for review, on the site it is pointed at.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = Path(os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def reach_add_form(page, base_url, route):
    add = page.locator("a:has-text('Add practice')")
    if add.count():
        route.append("dashboard: Add practice")
        with page.expect_navigation():
            add.first.click()
        return
    # Older admin: the sidebar's page explorer lists the editor's cluster; its page lists "Add child page".
    route.append("sidebar Pages -> the cluster in the explorer")
    page.click("[data-side-panel-toggle], .sidebar-menu-item button:has-text('Pages')", timeout=5000)
    cluster_link = page.locator(".c-page-explorer__header a, .c-page-explorer a[href*='/admin/pages/']").first
    cluster_link.wait_for(timeout=10000)
    with page.expect_navigation():
        cluster_link.click()
    route.append("explorer: Add child page")
    with page.expect_navigation():
        page.locator("a[href*='/add_subpage/']").first.click()
    if "/add/practices/practicepage/" not in page.url:
        route.append("page type: Practice page")
        with page.expect_navigation():
            page.locator("a[href*='/add/practices/practicepage/']").first.click()


def upload_pdf(page, pdf):
    opener = page.locator("#id_attached_documents-OPEN_MODAL")
    if opener.count():
        opener.click()
    else:  # an inline panel: add a row, then its document chooser
        page.click("#id_attached_documents-ADD")
        page.locator("#id_attached_documents-FORMS [data-chooser-action-choose]").last.click()
    page.locator(
        ".modal-dialog [role=tab]:has-text('Upload'), .modal-dialog a:has-text('Upload')"
    ).first.click()
    page.set_input_files(".modal-dialog input[type=file]", str(pdf))
    title = page.locator(".modal-dialog input[name$='title']")
    if not title.input_value():
        title.fill("Editor steps practice")
    page.locator(".modal-dialog form button[type=submit]").last.click()
    page.wait_for_selector(".modal-dialog", state="detached", timeout=30000)


def walk(base_url, email, password, width=1280):
    from playwright.sync_api import sync_playwright

    base_url = base_url.rstrip("/")
    loads, route = [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        pdf = Path(tmp) / "editor_steps_practice.pdf"
        pdf.write_bytes(PDF)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("load", lambda p: loads.append(p.url))
            started = time.perf_counter()
            page.goto(base_url + "/admin/login/")
            page.fill("input[name=username]", email)
            page.fill("input[name=password]", password)
            with page.expect_navigation():
                page.click("form button[type=submit]")
            if "/admin/login/" in page.url:
                raise SystemExit("Sign-in failed: check the e-mail address and password.")
            reach_add_form(page, base_url, route)
            page.fill("#id_title", f"Editor steps practice {int(time.time())}")
            if page.locator("#id_summary").count():
                page.fill("#id_summary", "A practice written to count the steps to review.")
            upload_pdf(page, pdf)
            page.locator("footer [data-w-dropdown-target='toggle']").first.click()
            with page.expect_navigation():
                page.click("button[name='action-submit']")
            page.wait_for_load_state("load")
            elapsed = time.perf_counter() - started
            submitted = "submitted for moderation" in page.inner_text("body").lower()
        finally:
            browser.close()
    return loads, route, submitted, elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("email")
    parser.add_argument("password")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args(argv)
    loads, route, submitted, elapsed = walk(args.base_url, args.email, args.password, args.width)
    print(f"Route: sign-in -> {' -> '.join(route)} -> submit for review")
    print(f"Submitted for review: {'yes' if submitted else 'NO'}")
    print(f"Page loads from sign-in to submitted: {len(loads)} ({elapsed:.1f} s)")
    for url in loads:
        print(f"  {url}")
    return 0 if submitted else 1


if __name__ == "__main__":
    sys.exit(main())
