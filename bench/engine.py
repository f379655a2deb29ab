"""Benchmark the embedded engines side by side on N corpus records, without Django.

    python -m bench.engine 10000
    python -m bench.engine 100000 --rounds 5
    python -m bench.engine 1000000 --engines tantivy --rounds 3 --no-writes

Builds each engine's index through its own ``rebuild`` (one after the other), then runs every query
on each engine in turn, interleaved query by query, so all engines see the same machine load.
Prints per engine: rebuild time, index size, top 10 and top 10 + facets + highlights p50/p95 (wall
and CPU), per kind of query, the "waste" query, autocomplete, one-page writes, and RSS.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import nace, records
from search.engines.base import Entry
from search.query import Query, parse

ENGINES = ("fts5", "tantivy")
# Up to this many entries the corpus is made before the rebuilds are timed (it is then held in memory).
PREPARED_UP_TO = 200_000


def make_engine(name: str, directory: Path):
    if name == "fts5":
        from search.engines.fts5 import Fts5Engine

        return Fts5Engine(directory)
    from search.engines.tantivy import TantivyEngine

    return TantivyEngine(directory)


# (kind, parameters) as a member would send them.
QUERIES = [
    ("one common word", {"q": "waste"}),
    ("one common word", {"q": "recycling"}),
    ("one common word", {"q": "plastic"}),
    ("one rarer word", {"q": "biomethane"}),
    ("two words", {"q": "textile recycling"}),
    ("two words", {"q": "food waste"}),
    ("phrase", {"q": '"circular economy"'}),
    ("phrase", {"q": '"sewage sludge"'}),
    ("prefix", {"q": "recyc*"}),
    ("prefix", {"q": "bio*"}),
    ("word + 1 filter", {"q": "waste", "country": "RS"}),
    ("word + 2 filters", {"q": "plastic", "cluster": "vojvodina-ict-cluster", "year": "2020"}),
    ("exclusion", {"q": "waste -plastic"}),
    ("empty + filter", {"q": "", "industry": "C"}),
    ("empty + 2 filters", {"q": "", "country": "RO", "tag": "construction"}),
    ("typo", {"q": "recyclng"}),
    ("browse page 5 newest", {"q": "", "sort": "newest", "page": "5"}),
]
PREFIXES = ["r", "re", "rec", "recy", "plas", "circular ec", "vojv", "text", "food w", "нови", "bio", "was"]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def to_entry(i: int, r: dict) -> Entry:
    """A record as ``search.documents`` would index the practice page imported from it."""
    names = nace()
    industries = tuple(r["industries"])
    tags = tuple(r["tags"])
    facets = {
        "industry": industries,
        "cluster": (slug(r["cluster"]),),
        "type": ("practice",),
        "tag": tuple(slug(t) for t in tags),
    }
    if r["country"]:
        facets["country"] = (r["country"],)
    if r["year"]:
        facets["year"] = (str(r["year"]),)
    body = "\n\n".join(r[k] for k in ("challenge", "solution", "results", "transferability") if r[k])
    return Entry(
        key=f"page:{i + 1}",
        page_id=i + 1,
        type="practice",
        title=r["title"],
        url=f"/practices/{slug(r['title'])[:60]}-{i + 1}/",
        path=f"00010001{i + 1:06d}",
        summary=r["summary"],
        body=body,
        tags=tags,
        names=" ".join(
            [r["cluster"], r["country"], r["organisation"], *(names[c]["name"] for c in industries)]
        ),
        facets=facets,
        date=datetime(r["year"] or 2011, 1 + i % 12, 1 + i % 28, tzinfo=UTC),
        display={"cluster": r["cluster"], "organisation": r["organisation"]},
        labels={
            "cluster": {slug(r["cluster"]): r["cluster"]},
            "industry": {c: names[c]["name"] for c in industries},
            "tag": {slug(t): t for t in tags},
        },
    )


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms"


def rss_mib() -> float:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status.get("RssAnon", "0 kB").split()[0]) / 1024


def timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def build_index(directory, count: int, seed: int, name: str = "fts5"):
    """An index of the first ``count`` corpus records in ``directory``: engine, entries, seconds."""
    engine = make_engine(name, Path(directory))
    entries = (to_entry(i, r) for i, r in enumerate(records(count, seed=seed)))
    t0 = time.perf_counter()
    n = engine.rebuild(entries)
    return engine, n, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="times each query is run")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma separated: fts5,tantivy")
    parser.add_argument("--no-writes", action="store_true", help="skip the one-page writes")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    print(f"{args.count:,} records, engines {', '.join(names)}, {args.rounds} rounds, interleaved")

    corpus = None
    if args.count <= PREPARED_UP_TO:
        # Made before the rebuilds are timed, so their time is the engine's alone.
        t0 = time.perf_counter()
        corpus = [to_entry(i, r) for i, r in enumerate(records(args.count, seed=args.seed))]
        print(
            f"corpus of {len(corpus):,} entries made in {time.perf_counter() - t0:.1f} s (not in the rebuild times)"
        )
    else:
        print("the rebuild times include making the corpus's entries (too many to hold in memory first)")

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        engines = {}
        report: dict[str, dict[str, str]] = {n: {} for n in names}
        for name in names:
            directory = Path(tmp) / name
            engine = make_engine(name, directory)
            if corpus is not None:
                entries = iter(corpus)
            else:
                entries = (to_entry(i, r) for i, r in enumerate(records(args.count, seed=args.seed)))
            before = rss_mib()
            t0, c0 = time.perf_counter(), time.process_time()
            n = engine.rebuild(entries)
            build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
            size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
            t0 = time.perf_counter()
            engine.search(Query(with_highlights=False))
            report[name]["rebuild"] = f"{build:.1f} s ({n / build:,.0f} entries/s) [CPU {build_cpu:.1f} s]"
            report[name]["index on disk"] = f"{size / 2**20:,.0f} MiB"
            report[name]["first search cache load"] = f"{1000 * (time.perf_counter() - t0):.0f} ms"
            report[name]["RSS after build"] = f"+{rss_mib() - before:,.0f} MiB private"
            print(
                f"{name}: {n} entries, rebuild {build:.1f} s [CPU {build_cpu:.1f} s], index {size / 2**20:,.0f} MiB",
                flush=True,
            )
            engines[name] = engine

        wall = {n: {"top10": [], "facets": []} for n in names}
        cpu = {n: {"top10": [], "facets": []} for n in names}
        by_kind: dict[str, dict[str, list[float]]] = {n: {} for n in names}
        waste = {n: [] for n in names}
        for _ in range(args.rounds):
            for kind, params in QUERIES:
                query, _notes = parse(params)
                bare = replace(query, per_page=10, with_facets=False, with_highlights=False)
                full = replace(query, per_page=10)
                for name, engine in engines.items():
                    for label, q in (("top10", bare), ("facets", full)):
                        w, c = timed(lambda e=engine, q=q: e.search(q))
                        wall[name][label].append(w)
                        cpu[name][label].append(c)
                        if label == "facets":
                            by_kind[name].setdefault(kind, []).append(w)
                            if params == {"q": "waste"}:
                                waste[name].append(w)
        for name in names:
            r = report[name]
            r["top 10"] = (
                percentiles(wall[name]["top10"])
                + f"  [CPU p50 {statistics.median(cpu[name]['top10']) * 1000:.2f} ms]"
            )
            r["top 10 + facets + highlights"] = (
                percentiles(wall[name]["facets"])
                + f"  [CPU p50 {statistics.median(cpu[name]['facets']) * 1000:.2f} ms]"
            )
            r['"waste" + facets'] = percentiles(waste[name])
            for kind, samples in by_kind[name].items():
                r[f"  {kind}"] = percentiles(samples)

        shuffled = PREFIXES * args.rounds * 4
        random.Random(args.seed).shuffle(shuffled)
        times = {n: [] for n in names}
        for prefix in shuffled:
            for name, engine in engines.items():
                times[name].append(timed(lambda e=engine, p=prefix: e.autocomplete(p, limit=8))[0])
        for name in names:
            report[name]["autocomplete"] = percentiles(times[name])

        if not args.no_writes:
            # Publishing: one page re-indexed, one page removed, while the index is at full size.
            sample = list(records(min(args.count, 50), seed=args.seed))
            for name, engine in engines.items():
                times_i = [
                    timed(lambda e=engine, i=i, r=r: e.index([to_entry(i, r)]))[0]
                    for i, r in enumerate(sample[:20])
                ]
                times_r = [timed(lambda e=engine, p=p: e.remove_pages([p]))[0] for p in range(21, 41)]
                report[name]["index one page"] = percentiles(times_i)
                report[name]["remove one page"] = percentiles(times_r)
                report[name]["first search after writes"] = (
                    f"{1000 * timed(lambda e=engine: e.search(parse({'q': 'waste'})[0]))[0]:.0f} ms"
                )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = list(dict.fromkeys(k for r in report.values() for k in r))
        width = max(len(k) for k in rows) + 2
        print()
        print(" " * width + "".join(f"{n:<48}" for n in names))
        for row in rows:
            print(f"{row:<{width}}" + "".join(f"{report[n].get(row, ''):<48}" for n in names))
        print(f"peak RSS of the process (all engines together) {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
