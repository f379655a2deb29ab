"""Search under load: gunicorn on loopback, N practices, concurrent clients for a bounded time,
optionally while imports write the same database.

    python -m bench.load 10000 --clients 30 --seconds 60
    python -m bench.load 2000 --clients 20 --imports 3 --import-size 2000          # SQLite
    python -m bench.load 2000 --clients 20 --imports 2 --postgres-db kb_load_mine  # PostgreSQL

Loads N practices into a throwaway site (a SQLite file, or with ``--postgres-db`` a PostgreSQL
database of that name at 127.0.0.1:5432, dropped and created afresh) and builds the index, starts
gunicorn (2 workers by default) on a free 127.0.0.1 port, then runs client threads (http.client, one
connection per request as the sync worker closes it) over a realistic mix of search pages, filters,
autocomplete and API calls. With ``--imports K`` it runs ``manage.py import_practices FILE --publish``
K times, one after another, while the clients search: each of ``--import-size`` new records. Prints
throughput, p50/p95/p99 latency and errors, per kind and overall, the CPU time per request of the
gunicorn workers and of the clients' own process, and each import's outcome. Each embedded
engine named by ``--engines`` (default fts5,tantivy) is run in turn on the same site.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

from bench.search import load, pct, setup_django

# (weight, kind, params): what members do, most often a few words, then narrowing and typing.
MIX = [
    (20, "search", {"q": "waste"}),
    (10, "search", {"q": "textile recycling"}),
    (8, "search", {"q": "plastic packaging"}),
    (6, "search", {"q": '"circular economy"'}),
    (6, "search", {"q": "food waste", "country": "RS"}),
    (5, "search", {"q": "plastic", "industry": ["E", "C"]}),
    (5, "search", {"q": "recyc*", "sort": "newest"}),
    (4, "search", {"q": "wsate"}),
    (4, "search", {"industry": "E"}),
    (4, "search", {"q": "waste", "page": "3"}),
    (15, "suggest", {"q": "rec"}),
    (8, "suggest", {"q": "plas"}),
    (5, "api", {"q": "compost"}),
]
PATHS = {"search": "/search/", "suggest": "/search/suggest", "api": "/api/search/"}

SETTINGS = textwrap.dedent(
    """
    from kb.settings.base import *  # noqa: F403

    DEBUG = False
    SECRET_KEY = "bench-only"
    ALLOWED_HOSTS = ["127.0.0.1"]
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/search/suggest?q=a")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer in time")


def client(port: int, searching: threading.Event, seed: int, results: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    weights = [w for w, _, _ in MIX]
    mine: list[tuple[str, float, str]] = []
    while searching.is_set():
        _, kind, params = rng.choices(MIX, weights)[0]
        url = PATHS[kind] + "?" + urlencode(params, doseq=True)
        t = time.perf_counter()
        error = ""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", url)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                error = f"HTTP {response.status}"
            conn.close()
        except OSError as exc:
            error = type(exc).__name__
        mine.append((kind, (time.perf_counter() - t) * 1000, error))
    with lock:
        results.extend(mine)


def fresh_postgres(name: str) -> str:
    """A new, empty PostgreSQL database of this name on the loopback server (trust authentication)."""
    if name in ("kb", "postgres", "template0", "template1"):
        raise SystemExit(f"Refusing to drop the database {name!r}: give the bench a name of its own.")
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def write_imports(var_dir: Path, args) -> list[Path]:
    """Files of new records (ids past the loaded corpus), one per import run."""
    import json

    from bench.corpus import records

    files = []
    fresh = list(records(args.count + args.imports * args.import_size, args.seed))[args.count :]
    for run in range(args.imports):
        path = var_dir / f"import-{run + 1}.jsonl"
        part = fresh[run * args.import_size : (run + 1) * args.import_size]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part))
        files.append(path)
    return files


def run_imports(files: list[Path], env: dict, warmup: float) -> list[tuple[int, float, str]]:
    """Each file imported with --publish, one after another: (exit code, seconds, last line)."""
    outcomes = []
    if files:
        time.sleep(warmup)  # the clients are searching by then
    for path in files:
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "manage.py", "import_practices", str(path), "--publish", "--verbosity", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        last = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:] or [""]
        outcomes.append((done.returncode, time.perf_counter() - t, last[0][:200]))
    return outcomes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (1: sync worker)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--imports", type=int, default=0, help="imports to run while the clients search")
    parser.add_argument("--import-size", type=int, default=2000, help="new records in each import")
    parser.add_argument(
        "--postgres-db", default="", help="run on PostgreSQL: this database is dropped and created afresh"
    )
    parser.add_argument(
        "--engines", default="fts5,tantivy", help="embedded engines to run, one after the other"
    )
    args = parser.parse_args(argv)

    var_dir = Path(tempfile.mkdtemp(prefix="kb-load-"))
    database_url = fresh_postgres(args.postgres_db) if args.postgres_db else None
    setup_django(var_dir, database_url)
    from django.conf import settings

    from search import service

    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    load_s = load(args.count, args.seed)
    for name in names:
        settings.KB_SEARCH_ENGINE = name
        t = time.perf_counter()
        service.rebuild(progress=False)
        print(
            f"corpus: {args.count} practices loaded in {load_s:.1f} s, indexed by {name} in"
            f" {time.perf_counter() - t:.1f} s"
        )
    (var_dir / "bench_settings.py").write_text(SETTINGS)
    (var_dir / "static").mkdir(exist_ok=True)
    # Engines take turns, one run each, on the same site and the same machine, one after the other.
    for name in names:
        results, elapsed, imports, cpu = serve_and_load(var_dir, name, args, database_url)
        report(name, results, elapsed, args, imports, cpu)


def server_env(var_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a bench's gunicorn: the throwaway site in ``var_dir``, no rate limits."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "KB_VAR_DIR": str(var_dir),
        "SEARCH_INDEX_DIR": str(var_dir / "search-index"),
        "KB_RATE_LIMIT_PER_MINUTE": "100000000",
        "KB_SEARCH_RATE_LIMIT_PER_MINUTE": "100000000",
        "PYTHONPATH": os.pathsep.join([str(var_dir), str(Path.cwd())]),
        **extra,
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def start_gunicorn(env: dict[str, str], port: int, *, workers: int, threads: int, log_level: str):
    """gunicorn serving the site on 127.0.0.1:``port`` in its own session (stopped with os.killpg)."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "kb.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            log_level,
            "--timeout",
            "60",
        ],
        env=env,
        start_new_session=True,
    )


def workers_cpu(master: int) -> float:
    """CPU seconds (user and system) the gunicorn workers of this master have used so far."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if int(fields[1]) == master:  # the parent's pid; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def serve_and_load(var_dir: Path, engine: str, args, database_url: str | None):
    port = free_port()
    env = server_env(var_dir, database_url, KB_SEARCH_ENGINE=engine)
    import_files = write_imports(var_dir, args)
    server = start_gunicorn(env, port, workers=args.workers, threads=args.threads, log_level="warning")
    try:
        wait_until_up(port, time.monotonic() + 60)
        # Each worker warms its caches on its first few requests, as in production after a deploy.
        for _ in range(4 * args.workers):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/search/?q=waste")
            conn.getresponse().read()
        results: list[tuple[str, float, str]] = []
        lock = threading.Lock()
        cpu = (workers_cpu(server.pid), time.process_time())
        started = time.monotonic()
        searching = threading.Event()
        searching.set()
        threads = [
            threading.Thread(target=client, args=(port, searching, args.seed + i, results, lock))
            for i in range(args.clients)
        ]
        for th in threads:
            th.start()
        imports = run_imports(import_files, env, warmup=min(3.0, args.seconds / 4))
        # The clients search for --seconds, and at least as long as the imports ran.
        time.sleep(max(0.0, started + args.seconds - time.monotonic()))
        searching.clear()
        for th in threads:
            th.join()
        elapsed = time.monotonic() - started
        cpu = (workers_cpu(server.pid) - cpu[0], time.process_time() - cpu[1])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return results, elapsed, imports, cpu


def report(engine: str, results: list[tuple[str, float, str]], elapsed: float, args, imports, cpu) -> None:
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for kind, ms, error in results:
        by_kind[kind].append(ms)
        if error:
            errors[error] += 1
    every = [ms for _, ms, _ in results]
    database = f"PostgreSQL ({args.postgres_db})" if args.postgres_db else "SQLite"
    print(
        f"{engine} on {database}, gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients, "
        f"{elapsed:.0f} s: "
        f"{len(results)} requests, {len(results) / elapsed:.1f} req/s, errors {sum(errors.values())}"
        + (f" {dict(errors)}" if errors else "")
    )
    print(
        f"  all      p50 {pct(every, 50):6.0f} ms  p95 {pct(every, 95):6.0f} ms  p99 {pct(every, 99):6.0f} ms"
    )
    # CPU time is what the load of other work on the machine changes least.
    served = max(1, len(results))
    print(
        f"  CPU per request: gunicorn workers {cpu[0] * 1000 / served:.2f} ms, the clients' process"
        f" {cpu[1] * 1000 / served:.2f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    for kind, times in sorted(by_kind.items()):
        print(
            f"  {kind:8} p50 {pct(times, 50):6.0f} ms  p95 {pct(times, 95):6.0f} ms"
            f"  p99 {pct(times, 99):6.0f} ms  ({len(times)} requests)"
        )
    failed_imports = 0
    for n, (code, seconds, last) in enumerate(imports, start=1):
        failed_imports += code != 0
        outcome = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"  import {n}: {args.import_size} records --publish, {outcome} in {seconds:.1f} s: {last}")
    if imports:
        print(
            f"errors: {sum(errors.values())} of {len(results)} requests, {failed_imports} of {len(imports)} "
            "imports (goal 0)"
        )


if __name__ == "__main__":
    main()
