"""Issue 14, "Degrading well": a damaged, deleted or empty index and an Elasticsearch that never answers.

The site keeps answering (from the database, or the embedded index) with a notice, the index rebuilds
itself in the background, and the health panel says so. On commit 6220413 the damaged index answered
500, the deleted one "0 results" without notice, and every search waited for the hanging server.
"""

from __future__ import annotations

import copy
import shutil
import time
from pathlib import Path

import pytest

from bench.faults import HangingServer
from search import resilience, service
from search.wagtail_hooks import SearchHealthPanel
from tests.search.test_visibility import build_kb

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def degrading_kb_data(shared_db):
    tree = build_kb()
    service.rebuild(progress=False)
    return tree


@pytest.fixture
def degrading_kb(degrading_kb_data, db, monkeypatch):
    service.reset_engine()
    data = copy.deepcopy(degrading_kb_data)
    # Background work is collected and run by the test itself, in its own transaction.
    data["background"] = []
    monkeypatch.setattr(resilience.Guard, "_start", lambda self, target: data["background"].append(target))
    yield data
    service.reset_engine()


def index_file(settings) -> Path:
    directory = Path(settings.SEARCH_INDEX_DIR)
    return directory / (directory / "CURRENT").read_text().strip()


def search_titles(client, q="telemedicine"):
    response = client.get("/api/search/", {"q": q})
    assert response.status_code == 200
    body = response.json()
    return [r["title"] for r in body["results"]], body.get("notes", [])


def test_a_damaged_index_is_detected_answered_from_the_database_and_rebuilt(client, degrading_kb, settings):
    assert search_titles(client) == (["Telemedicine platform for rural clinics"], [])
    path = index_file(settings)
    path.write_bytes(b"\0garbage" * (path.stat().st_size // 8 + 1))
    for url in ("/api/search/?q=telemedicine", "/search/?q=telemedicine", "/search/suggest?q=tele"):
        assert client.get(url).status_code == 200, url
    titles, notes = search_titles(client)
    assert titles == ["Telemedicine platform for rural clinics"]
    assert service.DATABASE_NOTICE in notes
    health = service.health()["engine"]
    assert health["broken"] and health["rebuilding"]
    panel = SearchHealthPanel().render_html()
    assert "index broken; rebuilding it in the background" in panel
    assert len(degrading_kb["background"]) == 1  # one rebuild, however many searches failed
    degrading_kb["background"].pop()()
    assert search_titles(client) == (["Telemedicine platform for rural clinics"], [])
    assert not service.health()["engine"]["broken"]


def test_a_deleted_index_is_not_silently_recreated_empty(client, degrading_kb, settings):
    shutil.rmtree(settings.SEARCH_INDEX_DIR)
    titles, notes = search_titles(client)
    assert titles == ["Telemedicine platform for rural clinics"] and service.DATABASE_NOTICE in notes
    # The export and the zero-result report are not fooled either.
    export = client.get("/export/practices.csv?q=telemedicine")
    assert b"Telemedicine platform" in b"".join(export.streaming_content)
    degrading_kb["background"].pop()()
    assert search_titles(client) == (["Telemedicine platform for rural clinics"], [])


def test_an_empty_index_while_pages_are_published_is_broken(client, degrading_kb, settings):
    shutil.rmtree(settings.SEARCH_INDEX_DIR)
    service.reset_engine()  # a new process: it finds no index and creates an empty one
    titles, notes = search_titles(client)
    assert titles == ["Telemedicine platform for rural clinics"] and service.DATABASE_NOTICE in notes
    degrading_kb["background"].pop()()
    assert search_titles(client) == (["Telemedicine platform for rural clinics"], [])


def test_the_database_answer_keeps_the_visibility_rule_and_filters(client, degrading_kb, settings):
    shutil.rmtree(settings.SEARCH_INDEX_DIR)
    for q in ("draft", "private", "expired"):
        titles, notes = search_titles(client, q)
        assert titles == [], q
    response = client.get("/api/search/", {"q": "telemedicine", "country": "RS"}).json()
    assert response["results"] == []


def test_only_one_rebuild_runs_across_threads(degrading_kb, settings, monkeypatch):
    calls = []
    engine = service.get_engine()
    monkeypatch.setattr(engine, "rebuild", lambda entries: calls.append(1) or 0)
    guard = resilience.guard(engine, embedded=True)
    monkeypatch.setattr(resilience.Guard, "_start", lambda self, target: target())
    monkeypatch.setattr(guard, "_healthy", lambda: False)
    guard.rebuilding = True  # a rebuild is already running in this process
    guard.rebuild_in_background()
    assert calls == []
    guard.rebuilding = False
    guard.rebuild_in_background()
    assert calls == [1]


@pytest.fixture
def hanging(settings):
    server = HangingServer(lifetime=60)
    settings.ELASTICSEARCH_URL = f"http://127.0.0.1:{server.port}"
    settings.ELASTICSEARCH_TIMEOUT = 0.5
    settings.SEARCH_BREAKER_FAILURES = 3
    settings.SEARCH_BREAKER_COOLDOWN = 1.0
    service.reset_engine()
    yield server
    server.close()
    service.reset_engine()


def test_a_hanging_elasticsearch_is_not_asked_again_after_a_few_failures(
    client, degrading_kb, hanging, monkeypatch
):
    # The embedded index kept beside Elasticsearch: the module's, copied into this test's folder.
    assert degrading_kb["telemedicine"].pk in service.fallback_engine().page_ids()
    probes = []
    monkeypatch.setattr(resilience.Guard, "_start", lambda self, target: probes.append(target))
    timings, asked = [], []
    for _ in range(10):
        started = time.monotonic()
        titles, notes = search_titles(client)
        timings.append(time.monotonic() - started)
        asked.append(hanging.accepted)
        assert titles == [degrading_kb["telemedicine"].title] and service.FALLBACK_NOTICE in notes
    assert all(t >= 0.4 for t in timings[:3])  # the first failures wait for the timeout
    # Then Elasticsearch is not asked at all (a count, not a timing: the machine may be busy).
    assert asked[2] >= 3 and asked[3:] == [asked[2]] * 7, asked
    asked = hanging.accepted
    assert service.health()["engine"]["circuit_open_for"] > 0
    assert "not answering: not asked for" in SearchHealthPanel().render_html()
    assert len(probes) == 1
    # The probe, in the background: it keeps the circuit open while the server hangs, and closes it
    # once the server answers.
    hanging.answer = True
    probes[0]()
    assert resilience.guard(service.get_engine(), embedded=False).status()["circuit_open_for"] == 0
    assert hanging.accepted > asked
