"""Search while the index breaks: damaged files, a deleted folder, an Elasticsearch that never answers.

    python -m bench.faults 500 --clients 8 --seconds 15

Loads N practices into a throwaway SQLite site and builds the embedded index, starts gunicorn on a
free 127.0.0.1 port and runs client threads over search, API, suggest and feed requests. In each
phase a fault is injected a third of the way in:

- damage: the live index file is overwritten with junk;
- delete: the index folder is removed;
- hang: gunicorn restarted with ELASTICSEARCH_URL on a local socket that accepts and never answers.

Prints, per phase, requests, 5xx (goal 0), answers without notice (goal 0: a search API answer whose
count differs from the healthy index's and that says nothing about it) and p95 latency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from bench.load import SETTINGS, free_port, server_env, start_gunicorn, wait_until_up
from bench.search import load, pct, setup_django

LOGGING = """
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
"""
QUERIES = ["waste", "textile recycling", "plastic packaging", "food waste", "compost", "energy"]
OTHER = ["/search/?q=waste", "/search/suggest?q=rec", "/api/v2/pages/?search=waste", "/feeds/practices/rss/"]


def get(port: int, url: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", url)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def api_url(q: str) -> str:
    return "/api/search/?" + urlencode({"q": q})


def client(port, stop, seed, baseline, out, lock):
    rng = random.Random(seed)
    mine = []
    while time.monotonic() < stop:
        if rng.random() < 0.6:
            q = rng.choice(QUERIES)
            url, expected = api_url(q), baseline[q]
        else:
            url, expected = rng.choice(OTHER), None
        t = time.perf_counter()
        try:
            status, body = get(port, url)
        except OSError as exc:
            mine.append((time.perf_counter() - t, f"{type(exc).__name__}", False))
            continue
        silent = False
        if expected is not None and status == 200:
            data = json.loads(body)
            silent = data["total"] != expected and not data.get("notes")
        mine.append((time.perf_counter() - t, status, silent))
    with lock:
        out.extend(mine)


class HangingServer:
    """Accepts connections on 127.0.0.1 and never answers until told to (then: a JSON count)."""

    def __init__(self, lifetime: float = 600):
        self.lifetime = lifetime
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.answer = False
        self.stop = threading.Event()
        self.held = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        deadline = time.monotonic() + self.lifetime  # bounded, whatever its user does
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            if self.answer:
                conn.recv(65536)
                body = b'{"count": 1}'
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                conn.close()
            else:
                self.held.append(conn)

    def close(self):
        self.stop.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


def start_server(var_dir: Path, port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    env = server_env(var_dir, **extra_env)
    server = start_gunicorn(env, port, workers=2, threads=4, log_level="error")
    wait_until_up(port, time.monotonic() + 60)
    return server


def run_phase(name, port, args, baseline, fault) -> None:
    out: list = []
    lock = threading.Lock()
    started = time.monotonic()
    stop = started + args.seconds
    threads = [
        threading.Thread(target=client, args=(port, stop, args.seed + i, baseline, out, lock))
        for i in range(args.clients)
    ]
    for th in threads:
        th.start()
    time.sleep(args.seconds / 3)
    fault()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - started
    five = sum(1 for _, status, _ in out if isinstance(status, int) and status >= 500)
    other = Counter(status for _, status, _ in out if not isinstance(status, int))
    silent = sum(1 for *_, s in out if s)
    times = [t * 1000 for t, _, _ in out]
    print(
        f"{name:7} {len(out):6} requests in {elapsed:4.0f} s, 5xx {five},"
        f" connection errors {sum(other.values())}{' ' + str(dict(other)) if other else ''},"
        f" answers without notice {silent}, p95 {pct(times, 95):.0f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    var_dir = Path(tempfile.mkdtemp(prefix="kb-faults-"))
    setup_django(var_dir)
    from search import service

    load(args.count, args.seed)
    service.rebuild(progress=False)
    # Tracebacks of any 5xx to stderr, so the bench says what failed.
    (var_dir / "bench_settings.py").write_text(SETTINGS + LOGGING)
    (var_dir / "static").mkdir(exist_ok=True)
    index_dir = var_dir / "search-index"
    port = free_port()
    hanging = HangingServer()
    server = start_server(var_dir, port, {})
    try:
        baseline = {q: json.loads(get(port, api_url(q))[1])["total"] for q in QUERIES}

        def damage():
            live = index_dir / (index_dir / "CURRENT").read_text().strip()
            live.write_bytes(b"\0junk" * (live.stat().st_size // 5 + 1))

        run_phase("damage", port, args, baseline, damage)
        run_phase("delete", port, args, baseline, lambda: shutil.rmtree(index_dir, ignore_errors=True))
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        service.reset_engine()
        service.rebuild(progress=False)  # a healthy embedded index, as the fallback beside Elasticsearch
        es = {"ELASTICSEARCH_URL": f"http://127.0.0.1:{hanging.port}", "ELASTICSEARCH_TIMEOUT": "2"}
        server = start_server(var_dir, port, es)
        run_phase("hang", port, args, baseline, lambda: None)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        hanging.close()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
