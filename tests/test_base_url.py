"""KB_BASE_URL: the address `make run` serves on reaches every link made outside a request's own host."""

import os
import subprocess
import sys
from pathlib import Path

from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from wagtail.models import WorkflowState

from tests.test_permissions import login, practice_form

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://kb.example.test:8100"


def test_make_run_port_reaches_the_links():
    """`make PORT=8100` exports KB_BASE_URL; settings read it; absolute links are built on it."""
    script = (
        "import django; django.setup(); from practices.links import absolute_url; "
        "print(absolute_url('/admin/'))"
    )
    recipe = f'show-links: ; @{sys.executable} -c "{script}"'
    env = {k: v for k, v in os.environ.items() if k not in ("KB_BASE_URL", "WAGTAILADMIN_BASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "kb.settings.test"
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", f"--eval={recipe}", "show-links", "PORT=8100", "HOST=0.0.0.0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "http://0.0.0.0:8100/admin/"


@override_settings(KB_BASE_URL=BASE, WAGTAILADMIN_BASE_URL=BASE)
def test_set_password_link_is_on_the_base_url(roles, capsys):
    call_command("add_cluster_editor", "cluj", "someone@example.org")
    links = [word for word in capsys.readouterr().out.split() if word.startswith("http")]
    assert len(links) == 1 and links[0].startswith(f"{BASE}/admin/password_reset/")


@override_settings(KB_BASE_URL=BASE, WAGTAILADMIN_BASE_URL=BASE)
def test_review_emails_sitemap_and_robots_use_the_base_url(roles, client):
    editor, moderator = roles.editor_a, roles.moderator
    login(client, editor)
    add_url = reverse("wagtailadmin_pages:add", args=("practices", "practicepage", roles.a.pk))
    new = type("P", (), {"title": "Drone vineyards", "slug": "drone-vineyards", "summary": "S"})
    client.post(add_url, practice_form(new, **{"action-submit": "submit"}))
    # The reviewers' e-mail links the page's edit view on the base URL.
    assert mail.outbox and all(f"{BASE}/admin/" in m.body for m in mail.outbox)

    mail.outbox.clear()
    login(client, moderator)
    state = WorkflowState.objects.get(requested_by=editor)
    client.post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=[state.object_id, "approve", state.current_task_state.pk],
        ),
        {"comment": ""},
    )
    [message] = mail.outbox
    assert message.to == [editor.email]
    assert message.subject == 'Published: "Drone vineyards"'
    assert f"{BASE}/clusters/cluj/drone-vineyards/" in message.body
    assert "localhost" not in message.body

    client.logout()
    sitemap = client.get("/sitemap.xml").content.decode()
    assert f"<loc>{BASE}/clusters/cluj/drone-vineyards/</loc>" in sitemap
    assert "://localhost" not in sitemap
    assert f"Sitemap: {BASE}/sitemap.xml" in client.get("/robots.txt").content.decode()


def test_full_url_follows_the_setting(roles, settings):
    settings.KB_BASE_URL = BASE
    assert roles.a.get_full_url() == f"{BASE}/clusters/cluj/"
    settings.KB_BASE_URL = "https://kb.example.org/"
    assert roles.site["home"].specific.full_url == "https://kb.example.org/"
