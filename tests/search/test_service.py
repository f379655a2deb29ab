"""The service: engine choice, fallback, correction, facet counts over the whole match set."""

from __future__ import annotations

import copy

import pytest

from django.core.exceptions import ImproperlyConfigured

from practices.factories import PracticePageFactory
from practices.models import Industry
from search import documents, service
from search.engines.base import EngineUnavailable
from search.query import parse
from search.service import indexing, registry
from tests.search.test_visibility import build_kb


@pytest.fixture(scope="module")
def service_kb_data(shared_db):
    tree = build_kb()
    codes = ["62", "E", "C"]
    for n in range(12):
        p = PracticePageFactory(
            parent=tree["voj"] if n % 2 else tree["cluj"],
            title=f"Smart water meter {n}",
            slug=f"meter-{n}",
            countries=["RS" if n % 3 else "RO"],
            start_year=2018 + n % 4,
        )
        p.industries.set([Industry.objects.get(code=codes[n % 3])])
    service.rebuild(progress=False)
    return tree


@pytest.fixture
def service_kb(service_kb_data, db):
    service.reset_engine()
    yield copy.deepcopy(service_kb_data)
    service.reset_engine()


def brute_count(entries, facet, value, filters):
    def ok(e, skip):
        return all(set(e.facets.get(f, ())) & set(vs) for f, vs in filters.items() if f != skip)

    return sum(1 for e in entries if value in e.facets.get(facet, ()) and ok(e, facet))


def test_facet_counts_match_a_brute_force_count(service_kb):
    entries = [e for e in documents.all_entries() if "meter" in e.title.lower()]
    filters = {"country": ("RS",), "industry": ("E", "C")}
    query, _ = parse({"q": "meter", **filters})
    results = service.search(query)
    assert results.total == sum(
        1 for e in entries if all(set(e.facets.get(f, ())) & set(vs) for f, vs in filters.items())
    )
    for facet in ("country", "industry", "year", "cluster"):
        for c in results.facets[facet]:
            assert c.count == brute_count(entries, facet, c.value, filters), (facet, c.value)


def test_engine_is_cached_and_resettable(service_kb, settings, tmp_path):
    assert service.get_engine() is service.get_engine()
    settings.SEARCH_INDEX_DIR = tmp_path / "other"
    directory = service.get_engine().directory
    assert tmp_path / "other" in (directory, *directory.parents)


def test_the_embedded_engine_is_chosen_by_configuration(db, settings, tmp_path):
    service.reset_engine()
    settings.KB_SEARCH_ENGINE = "tantivy"
    assert service.get_engine().name == "tantivy"
    assert service.get_engine().directory == settings.SEARCH_INDEX_DIR / "tantivy"
    settings.KB_SEARCH_ENGINE = "fts5"
    assert service.get_engine().name == "fts5"
    settings.KB_SEARCH_ENGINE = "lucene"
    with pytest.raises(ImproperlyConfigured, match="fts5, tantivy"):
        service.get_engine()
    service.reset_engine()


def test_correction_reruns_with_the_suggestion(service_kb):
    query, _ = parse({"q": "smrt"})
    results = service.search(query)
    assert results.corrected_from == "smrt" and results.correction == "smart"
    assert results.total == 12


def test_when_no_result_has_every_word_results_with_some_are_shown(service_kb):
    query, _ = parse({"q": "smart water zeppelin"})
    results = service.search(query)
    assert results.total >= 12
    # Entries with two of the three words come before those with one.
    assert all(h.title.startswith("Smart water meter") for h in results.hits[:12])
    assert service.ANY_WORDS_NOTICE in results.notices
    # All the words found together: the narrower, exact answer, with no notice.
    exact = service.search(parse({"q": "smart water"})[0])
    assert exact.total == 12 and service.ANY_WORDS_NOTICE not in exact.notices
    assert service.search(parse({"q": "zeppelin airship"})[0]).total == 0


def test_falls_back_to_fts5_when_the_primary_engine_is_down(service_kb, settings, monkeypatch):
    class Down:
        name = "elasticsearch"

        def search(self, query):
            raise EngineUnavailable("connection refused")

    fts5 = service.get_engine()
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    monkeypatch.setattr(registry, "get_engine", lambda: Down())
    monkeypatch.setattr(registry, "fallback_engine", lambda: fts5)
    query, _ = parse({"q": "telemedicine"})
    results = service.search(query)
    assert [h.page_id for h in results.hits] == [service_kb["telemedicine"].pk]
    assert results.notices == [service.FALLBACK_NOTICE]
    monkeypatch.setattr(registry, "fallback_engine", lambda: None)
    results = service.search(query)
    # No index answers: the database does, plainly, over the same visibility rule.
    assert [h.page_id for h in results.hits] == [service_kb["telemedicine"].pk]
    assert results.notices == [service.DATABASE_NOTICE]


def test_search_is_limited_to_the_current_site(service_kb):
    query, _ = parse({"q": "telemedicine"}, within=("99999999",))
    assert service.search(query).total == 0
    query, _ = parse({"q": "telemedicine"}, within=(service_kb["home"].path,))
    assert service.search(query).total == 1


def test_index_pages_removes_what_is_no_longer_visible(service_kb):
    page = service_kb["telemedicine"]
    page.unpublish()
    # Without signals' help (e.g. a repair job): the service re-checks visibility itself.
    service.index_pages([page.pk])
    assert page.pk not in service.get_engine().page_ids()


def test_rebuild_command_reports_counts(service_kb, capsys):
    from django.core.management import call_command

    call_command("rebuild_search_index", "--no-progress")
    out = capsys.readouterr().out
    assert f"{service.get_engine().name}: indexed 16 entries of 16 pages" in out


def test_rebuild_command_refuses_a_mismatched_index_with_a_message_and_exit_status_1(
    service_kb, monkeypatch, capsys
):
    from django.core.management import ManagementUtility

    before = service.get_engine().page_ids()
    collecting = indexing._collecting

    def one_page_too_many(entries, into):
        into.add(987654)  # a page the engine will not find in what it indexed
        yield from collecting(entries, into)

    monkeypatch.setattr(indexing, "_collecting", one_page_too_many)
    # run_from_argv closes the connections when it ends, which would end the module's shared
    # transaction on PostgreSQL (Django's own tests of run_from_argv patch it likewise).
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["manage.py", "rebuild_search_index", "--no-progress"]).execute()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "Rebuild refused" in err and "1 unexpected" not in err and "1 missing" in err
    assert "Traceback" not in err
    assert service.get_engine().page_ids() == before


def test_service_asks_engines_through_their_interface_only(service_kb):
    from search.engines.base import Engine
    from search.engines.elastic import ElasticEngine
    from search.engines.fts5 import Fts5Engine

    # Both engines implement every abstract operation (an ABC refuses to build one that does not).
    assert not Fts5Engine.__abstractmethods__ and not ElasticEngine.__abstractmethods__
    assert issubclass(Fts5Engine, Engine) and issubclass(ElasticEngine, Engine)
    # Only the engine that can be away queues its writes.
    assert (Fts5Engine.queued_writes, ElasticEngine.queued_writes) == (False, True)
    health = service.health()["engine"]
    assert health["name"] == "fts5" and health["reachable"] and health["pages"] == 16


def test_rebuild_command_if_unreadable_rebuilds_only_an_index_it_cannot_read(service_kb, capsys):
    """``make run`` on an install whose index an older version built: set-up rebuilds it before the
    content steps, and leaves a readable one alone."""
    import sqlite3
    from pathlib import Path

    from django.core.management import call_command

    call_command("rebuild_search_index", "--no-progress", "--if-unreadable")
    assert capsys.readouterr().out == ""
    directory = Path(service.get_engine().directory)
    with sqlite3.connect(directory / (directory / "CURRENT").read_text()) as conn:
        conn.execute("UPDATE meta SET value = value - 1 WHERE key = 'schema'")
    registry.reset_engine()  # as a new process of the new version would open it
    with pytest.raises(EngineUnavailable):
        service.get_engine().count()
    registry.reset_engine()
    call_command("rebuild_search_index", "--no-progress", "--if-unreadable")
    out = capsys.readouterr().out
    assert "built by another version" in out and "indexed 16 entries of 16 pages" in out
    assert service.get_engine().count() == 16
