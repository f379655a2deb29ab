"""A Content-Security-Policy on every HTML page: strict on the public site, Wagtail's needs in the admin."""

import copy

import pytest

from practices.factories import ClusterPageFactory, PracticePageFactory, make_site

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.fixture(scope="module")
def csp_practice_data(shared_db):
    tree = make_site()
    cluster = ClusterPageFactory(parent=tree["clusters"], title="Cluj IT Cluster")
    page = PracticePageFactory(parent=cluster, title="Shared lab")
    page.save_revision().publish()
    return page


@pytest.fixture
def csp_practice(csp_practice_data, db):
    return copy.deepcopy(csp_practice_data)


def test_every_public_html_page_gets_the_strict_policy(client, csp_practice):
    for url in ("/", csp_practice.url, "/search/?q=lab", "/clusters/", "/no-such-page/"):
        response = client.get(url)
        assert "text/html" in response["Content-Type"], url
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'self'"]


def test_the_admin_gets_its_own_policy(client):
    policy = directives(client.get("/admin/login/"))
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'self'"]
    assert not any("http" in source for sources in policy.values() for source in sources)


def test_public_templates_hold_no_inline_script_style_or_handler():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    offending = []
    for path in root.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(
            r"\sstyle=|<style|\son[a-z]+=", text
        ):
            offending.append(str(path.relative_to(root)))
    assert offending == []
