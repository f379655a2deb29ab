"""The embedded SQLite database takes an import's transactions while searches write their log rows."""

import threading
import time

import pytest

from django.db.backends.sqlite3.base import DatabaseWrapper

from kb.settings.base import SQLITE_OPTIONS


@pytest.fixture(autouse=True)
def _own_files(django_db_blocker):
    # These connections go to throwaway files of their own, never the test database.
    with django_db_blocker.unblock():
        yield


def wrapper(path, options):
    return DatabaseWrapper(
        {
            "NAME": str(path),
            "ENGINE": "django.db.backends.sqlite3",
            "OPTIONS": dict(options),
            "ATOMIC_REQUESTS": False,
            "AUTOCOMMIT": True,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "TIME_ZONE": None,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias=f"concurrency-{id(options)}-{path.name}",
    )


def run_import_while_searching(path, options, batches=30):
    """An importer's read-then-write transactions against a stream of search-log UPDATEs."""
    setup = wrapper(path, options)
    with setup.cursor() as c:
        c.execute("CREATE TABLE hits (q TEXT PRIMARY KEY, n INTEGER)")
        c.execute("INSERT INTO hits VALUES ('waste', 0)")
        c.execute("CREATE TABLE pages (id INTEGER PRIMARY KEY, title TEXT)")
    setup.close()

    stop = threading.Event()
    errors = []

    def search_log():
        db = wrapper(path, options)
        try:
            while not stop.is_set():
                with db.cursor() as c:
                    c.execute("UPDATE hits SET n = n + 1 WHERE q = 'waste'")
        except Exception as exc:  # recorded, the test says which side failed
            errors.append(f"search: {exc}")
        finally:
            db.close()

    searchers = [threading.Thread(target=search_log) for _ in range(3)]
    for t in searchers:
        t.start()
    importer = wrapper(path, options)
    importer.ensure_connection()
    try:
        for n in range(batches):
            importer._start_transaction_under_autocommit()
            try:
                with importer.cursor() as c:
                    c.execute("SELECT count(*) FROM pages")
                    time.sleep(0.005)  # the importer looks at what exists, then writes
                    c.execute("INSERT INTO pages (title) VALUES (%s)", [f"practice {n}"])
                importer.commit()
            except Exception as exc:
                importer.rollback()
                errors.append(f"import: {exc}")
                break
    finally:
        stop.set()
        for t in searchers:
            t.join(timeout=30)
        importer.close()
    return errors


def test_an_import_succeeds_while_searches_write(tmp_path):
    assert run_import_while_searching(tmp_path / "kb.sqlite3", SQLITE_OPTIONS) == []


def test_without_the_settings_the_same_import_fails(tmp_path):
    # The reproducer of the bug: deferred transactions in rollback-journal mode.
    errors = run_import_while_searching(tmp_path / "kb.sqlite3", {}, batches=60)
    assert any("locked" in e for e in errors)


def test_the_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = wrapper(tmp_path / "kb.sqlite3", SQLITE_OPTIONS)
    with db.cursor() as c:
        c.execute("PRAGMA journal_mode")
        assert c.fetchone()[0] == "wal"
        c.execute("PRAGMA busy_timeout")
        assert c.fetchone()[0] >= 5000
    db.close()


@pytest.mark.django_db
def test_a_searchs_log_write_never_waits_for_another_writer(monkeypatch):
    from django.db import connection

    from search import searchlog

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's row locks never make a log write wait for an import")
    seen = []

    def add_hits(text, day, n):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(searchlog, "_add_hits", add_hits)
    searchlog.record("waste")
    searchlog.flush()
    assert seen == [0]  # a locked database keeps the count for the next flush instead of waiting
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == int(SQLITE_OPTIONS["timeout"] * 1000)  # restored for everything else
