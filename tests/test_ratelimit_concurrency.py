"""The rate limit holds across gunicorn worker processes under concurrent clients (loopback, bounded)."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
LIMIT = 60
CLIENTS, EACH = 30, 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture
def server(tmp_path):
    (tmp_path / "rl_settings.py").write_text(
        textwrap.dedent(
            f"""
            from kb.settings.base import *  # noqa: F403

            DEBUG = False
            SECRET_KEY = "test-only"
            ALLOWED_HOSTS = ["127.0.0.1"]
            ROOT_URLCONF = "tests.ratelimit_urls"
            MIDDLEWARE = ["kb.ratelimit.RateLimitMiddleware"]
            KB_RATE_LIMIT_PER_MINUTE = {LIMIT}
            KB_RATE_LIMIT_DB = {str(tmp_path / "counters.sqlite3")!r}
            """
        )
    )
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rl_settings",
        "KB_VAR_DIR": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    env.pop("DATABASE_URL", None)  # the SQLite counter file; PostgreSQL's upsert is tested in-process
    proc = subprocess.Popen(
        [
            str(GUNICORN),
            "kb.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "4",
            "--log-level",
            "warning",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/up") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("gunicorn did not start")
            time.sleep(0.3)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_thirty_concurrent_clients_get_exactly_the_limit_past(server):
    # All requests must fall in one minute's window.
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)
    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client():
        start.wait()
        mine = []
        for _ in range(EACH):
            try:
                mine.append(get(server, "/api/ping"))
            except OSError as exc:
                mine.append(str(exc))
        with lock:
            codes.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(codes) == CLIENTS * EACH
    assert codes.count(200) == LIMIT
    assert codes.count(429) == CLIENTS * EACH - LIMIT


@pytest.mark.django_db(transaction=True)
def test_every_count_is_given_once_across_connections():
    """Each thread has its own database connection (PostgreSQL) or counter-file connection (SQLite)."""
    from django.db import connection

    from kb import ratelimit

    ratelimit.reset()
    counts: list[int] = []
    lock = threading.Lock()

    def worker():
        try:
            mine = [ratelimit.hit("api:10.9.9.9", 12345) for _ in range(25)]
            with lock:
                counts.extend(mine)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(counts) == list(range(1, 201))
    assert ratelimit.hit("api:10.9.9.9", 12346) == 1  # a new minute starts again
