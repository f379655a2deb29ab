"""CPU per request of bench.load's mix, in one process, through Django's WSGI handler: what one
gunicorn worker spends on each kind of request, whatever else the machine is doing.

    python -m bench.request_cpu 10000 --site /tmp/kb-cpu-10k            # built there once, then reused
    python -m bench.request_cpu 10000 --site /tmp/kb-cpu-10k --profile search

The site is built as bench.load builds it (N practices, SQLite, the fts5 index) and served with the
same settings and environment as bench.load's gunicorn (DEBUG off, rate limits counted but not
reached, the search log written after each response). Each of bench.load's requests is sent
``--rounds`` times in a shuffled order after one warm-up round; prints the process CPU time
(``time.process_time``) and wall time per request, p50 and mean, by kind and for the weighted mix
(of the means, and of the medians, which a pause of the machine sways less), and the SQL statements
each request runs. ``--profile KIND`` prints cProfile's top functions for that kind.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.load import MIX, PATHS, SETTINGS
from bench.search import load, pct, setup_django


def environ(path: str, query: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app, path: str, query: str) -> tuple[str, bytes]:
    """One request as gunicorn's sync worker makes it: the body read, then the response closed."""
    status = []
    response = app(environ(path, query), lambda s, headers, exc_info=None: status.append(s))
    try:
        body = b"".join(response)
    finally:
        response.close()  # sends request_finished
    return status[0], body


def prepare(site: Path, count: int, seed: int) -> None:
    """The environment bench.load gives gunicorn; the site built in ``site`` unless it is there."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "bench_settings.py").write_text(SETTINGS)
    (site / "static").mkdir(exist_ok=True)
    os.environ.update(
        {
            "KB_VAR_DIR": str(site),
            "SEARCH_INDEX_DIR": str(site / "search-index"),
            "KB_RATE_LIMIT_PER_MINUTE": "100000000",
            "KB_SEARCH_RATE_LIMIT_PER_MINUTE": "100000000",
            "KB_SEARCH_ENGINE": "fts5",
            "DJANGO_SETTINGS_MODULE": "bench_settings",
        }
    )
    sys.path.insert(0, str(site))
    fresh = not (site / "db.sqlite3").exists()
    setup_django(site)
    if fresh:
        from search import service

        load_s = load(count, seed)
        t = time.perf_counter()
        service.rebuild(progress=False)
        print(f"site: {count} practices loaded in {load_s:.1f} s, indexed in {time.perf_counter() - t:.1f} s")


def count_queries(app, path: str, query: str) -> int:
    from django.db import connection

    n = 0

    def counting(execute, sql, params, many, context):
        nonlocal n
        n += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        call(app, path, query)
    return n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--site", required=True, help="directory of the site: built there if absent")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--profile", default="", help="a kind (search, suggest, api) to profile")
    args = parser.parse_args(argv)

    prepare(Path(args.site), args.count, args.seed)
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    requests = [(kind, PATHS[kind], urlencode(params, doseq=True), weight) for weight, kind, params in MIX]
    for _, path, query, _ in requests:  # warm-up: templates compiled, engine opened, caches filled
        status, _ = call(app, path, query)
        assert status.startswith("200"), (path, query, status)
    order = [r for r in requests for _ in range(args.rounds)]
    random.Random(args.seed).shuffle(order)
    cpu: dict[tuple[str, str], list[float]] = {(p, q): [] for _, p, q, _ in requests}
    wall: dict[tuple[str, str], list[float]] = {(p, q): [] for _, p, q, _ in requests}
    profiler = cProfile.Profile()
    for kind, path, query, _ in order:
        profiling = kind == args.profile
        c, w = time.process_time(), time.perf_counter()
        if profiling:
            profiler.enable()
        call(app, path, query)
        if profiling:
            profiler.disable()
        cpu[(path, query)].append((time.process_time() - c) * 1000)
        wall[(path, query)].append((time.perf_counter() - w) * 1000)
    report(app, requests, cpu, wall)
    if args.profile:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(int(os.environ.get("PROF_LINES", "45")))
        stats.sort_stats("tottime").print_stats(30)


def report(app, requests, cpu, wall) -> None:
    print("request                                        CPU p50   mean | wall p50   p95 | SQL")
    mix_cpu = mix_p50 = mix_weight = 0.0
    for kind, path, query, weight in requests:
        times = cpu[(path, query)]
        print(
            f"{kind:8} {query[:36]:36} {statistics.median(times):7.2f} {statistics.mean(times):6.2f} |"
            f" {pct(wall[(path, query)], 50):7.2f} {pct(wall[(path, query)], 95):6.2f} |"
            f" {count_queries(app, path, query):3}"
        )
        mix_cpu += weight * statistics.mean(times)
        mix_p50 += weight * statistics.median(times)
        mix_weight += weight
    print(
        f"bench.load's mix, weighted: {mix_cpu / mix_weight:.2f} ms CPU per request (mean),"
        f" {mix_p50 / mix_weight:.2f} ms (medians)"
    )


if __name__ == "__main__":
    main()
