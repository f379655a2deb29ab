"""Benchmark search through Django: N practices in a throwaway SQLite site, indexed by each embedded
engine, then searched on each in turn (interleaved query by query).

    python -m bench.search 10000
    python -m bench.search 1000 --rounds 3 --stock

Prints index build time and rate, index size, the engine's and the full HTTP request's p50/p95 for a
fixed query mix, SQL queries per request, autocomplete p50/p95, peak RSS and (with --stock) the stock
Wagtail search (`Page.objects.live().search(q)`, database backend) on the same pages, with the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    {"q": "waste"},
    {"q": "recycling"},
    {"q": "plastic"},
    {"q": "textile recycling"},
    {"q": "food waste"},
    {"q": '"circular economy"'},
    {"q": "recyc*"},
    {"q": "waste", "country": "RS"},
    {"q": "plastic", "industry": ["E", "C"], "year": "2020"},
    {"q": "", "industry": "E"},
    {"q": "wsate"},
    {"q": "packaging", "sort": "newest"},
]
STOCK_WORDS = ["textile", "waste", "plastic"]
PREFIXES = ["rec", "was", "plas", "circ", "bio", "tex", "foo", "pack"]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def setup_django(var_dir: Path, database_url: str | None = None) -> None:
    os.environ["KB_VAR_DIR"] = str(var_dir)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings.test")
    import django

    django.setup()
    from django.conf import settings

    settings.SEARCH_INDEX_DIR = var_dir / "search-index"
    settings.ALLOWED_HOSTS = ["*"]


def load(n: int, seed: int) -> float:
    from django.core.management import call_command

    from bench.corpus import records
    from practices.factories import make_site
    from practices.imports.importer import Importer
    from practices.signals import practices_imported

    call_command("migrate", verbosity=0)
    make_site()
    # The bench times the rebuild on its own, so the import does not index batch by batch.
    practices_imported.disconnect(dispatch_uid="search.practices_imported")
    started = time.perf_counter()
    pairs = ((i, json.loads(json.dumps(r))) for i, r in enumerate(records(n, seed), start=1))
    report = Importer(publish=True, batch_size=1000).run(pairs, total=n)
    if report.rejected:
        print(f"  {len(report.rejected)} records rejected, e.g. {report.rejected[0]}", file=sys.stderr)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stock", action="store_true", help="also time the stock Wagtail search")
    args = parser.parse_args(argv)

    var_dir = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    setup_django(var_dir)
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from search import service
    from search.query import parse

    load_s = load(args.count, args.seed)
    print(f"corpus: {args.count} practices loaded in {load_s:.1f} s (SQLite, {var_dir})")

    from django.conf import settings

    names = list(service.EMBEDDED)
    engines = {}
    for name in names:
        settings.KB_SEARCH_ENGINE = name
        started = time.perf_counter()
        counts = service.rebuild(progress=False)
        build_s = time.perf_counter() - started
        engine = engines[name] = service.get_engine()
        # The FTS5 files sit directly in its directory; the tantivy index in a folder of its own inside it.
        files = engine.directory.rglob("*") if name == "tantivy" else engine.directory.glob("index-*")
        size = sum(p.stat().st_size for p in files if p.is_file())
        print(
            f"{name} build: {counts[name]} entries in {build_s:.1f} s ({counts[name] / build_s:.0f} entries/s),"
            f" index {size / 1e6:.1f} MB"
        )

    def use(name: str) -> None:
        settings.KB_SEARCH_ENGINE = name

    # Engines interleaved query by query, so both see the same load on a shared machine.
    engine_ms: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for params in QUERIES:
            query, _ = parse(params)
            for name, engine in engines.items():
                t = time.perf_counter()
                engine.search(query)
                engine_ms[name].append((time.perf_counter() - t) * 1000)
    for name in names:
        ms = engine_ms[name]
        print(
            f"{name} engine search: p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms ({len(ms)} searches)"
        )

    client = Client()
    http_ms: dict[str, list[float]] = {n: [] for n in names}
    queries_per_request: dict[str, tuple[int, int]] = {}
    for _ in range(args.rounds):
        for params in QUERIES:
            for name in names:
                use(name)
                with CaptureQueriesContext(connection) as ctx:
                    t = time.perf_counter()
                    response = client.get("/search/", params)
                    http_ms[name].append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.status_code
                total = service.search(parse(params)[0]).total
                queries_per_request[f"{name} {json.dumps(params, ensure_ascii=False)}"] = (
                    total,
                    len(ctx.captured_queries),
                )
                reset_queries()
    for name in names:
        print(
            f"{name} HTTP /search/: p50 {pct(http_ms[name], 50):.1f} ms, p95 {pct(http_ms[name], 95):.1f} ms"
        )
    print("SQL queries per request (hits: queries), by engine and query:")
    for params, (total, n) in queries_per_request.items():
        print(f"  {params}: {total} hits, {n} queries")
    suggest_ms: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for prefix in PREFIXES:
            for name in names:
                use(name)
                t = time.perf_counter()
                client.get("/search/suggest", {"q": prefix})
                suggest_ms[name].append((time.perf_counter() - t) * 1000)
    for name in names:
        ms = suggest_ms[name]
        print(f"{name} HTTP /search/suggest: p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms")

    # The floor: a bare FTS5 bm25 top 10 of the same word on the same index file, no facets or rendering.
    use("fts5")
    fts5 = engines["fts5"]
    raw = sqlite3.connect(fts5.directory / (fts5.directory / "CURRENT").read_text().strip())
    for word in STOCK_WORDS:
        raw_ms, ours_ms = [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            raw.execute(
                "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT 10", (word,)
            ).fetchall()
            raw_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            client.get("/search/", {"q": word})
            ours_ms.append((time.perf_counter() - t) * 1000)
        raw_p50, ours_p50 = statistics.median(raw_ms), statistics.median(ours_ms)
        print(
            f"raw FTS5 top 10 {word!r}: {raw_p50:.1f} ms; our full request {ours_p50:.1f} ms"
            f" ({ours_p50 / raw_p50:.1f}x the raw query)"
        )
    raw.close()

    if args.stock:
        from django.core.management import call_command

        from wagtail.models import Page

        t = time.perf_counter()
        call_command("update_index", verbosity=0)
        print(f"stock Wagtail update_index: {time.perf_counter() - t:.1f} s")

        for word in STOCK_WORDS:
            t = time.perf_counter()
            list(Page.objects.live().search(word, backend="modelsearch.backends.database")[:10])
            stock = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            client.get("/search/", {"q": word})
            ours = (time.perf_counter() - t) * 1000
            print(
                f"stock Wagtail search {word!r}: {stock:.0f} ms; our full request {ours:.1f} ms; ratio {stock / ours:.1f}x"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MB")
    for name in names:
        print(f"{name} median engine time {statistics.median(engine_ms[name]):.1f} ms")


if __name__ == "__main__":
    main()
