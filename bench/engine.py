"""Benchmark the embedded FTS5 engine on N corpus records, without Django.

    python -m bench.engine 10000
    python -m bench.engine 100000 --rounds 5

Prints the rebuild time and rate, the index size on disk, search latency (with facets and
highlights) per kind of query and overall, autocomplete latency and peak RSS.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import nace, records
from search.engines.base import Entry
from search.engines.fts5 import Fts5Engine
from search.query import Query, parse

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
    return f"p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  max {ms[-1]:6.1f} ms"


def build_index(directory, count: int, seed: int) -> tuple[Fts5Engine, int, float]:
    """An FTS5 index of the first ``count`` corpus records in ``directory``: engine, entries, seconds."""
    engine = Fts5Engine(directory)
    entries = (to_entry(i, r) for i, r in enumerate(records(count, seed=seed)))
    t0 = time.perf_counter()
    n = engine.rebuild(entries)
    return engine, n, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="times each query is run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        engine, n, build = build_index(tmp, args.count, args.seed)
        size = sum(p.stat().st_size for p in Path(tmp).iterdir() if p.is_file())
        print(
            f"entries {n}  rebuild {build:.1f} s  ({n / build:,.0f} entries/s)  index {size / 2**20:,.0f} MiB"
        )

        t0 = time.perf_counter()
        engine.search(Query(with_highlights=False))
        print(
            f"first search's cache load (once per process and rebuild) {1000 * (time.perf_counter() - t0):.0f} ms"
        )

        by_kind: dict[str, list[float]] = {}
        every: list[float] = []
        for _ in range(args.rounds):
            for kind, params in QUERIES:
                query, _notes = parse(params)
                t0 = time.perf_counter()
                engine.search(query)
                took = time.perf_counter() - t0
                by_kind.setdefault(kind, []).append(took)
                every.append(took)
        for kind, samples in by_kind.items():
            print(f"  {kind:22s} {percentiles(samples)}")
        print(f"search, facets+highlights: {percentiles(every)}  ({len(every)} searches)")

        shuffled = PREFIXES * args.rounds * 4
        random.Random(args.seed).shuffle(shuffled)
        times = []
        for prefix in shuffled:
            t0 = time.perf_counter()
            engine.autocomplete(prefix, limit=8)
            times.append(time.perf_counter() - t0)
        print(f"autocomplete:              {percentiles(times)}  ({len(times)} requests)")
        # Publishing: one page re-indexed, one page removed, while the index is at full size.
        sample = list(records(min(n, 50), seed=args.seed))
        times = []
        for i, r in enumerate(sample[:20]):
            t0 = time.perf_counter()
            engine.index([to_entry(i, r)])
            times.append(time.perf_counter() - t0)
        print(f"index one page:            {percentiles(times)}  ({len(times)} writes)")
        times = []
        for page_id in range(21, 41):
            t0 = time.perf_counter()
            engine.remove_pages([page_id])
            times.append(time.perf_counter() - t0)
        print(f"remove one page:           {percentiles(times)}  ({len(times)} writes)")
        t0 = time.perf_counter()
        engine.search(parse({"q": "waste"})[0])
        print(f"first search after writes (reloads bitsets) {1000 * (time.perf_counter() - t0):.0f} ms")
        status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        anon = int(status.get("RssAnon", "0 kB").split()[0]) / 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak:,.0f} MiB (now {anon:,.0f} MiB private, the rest mapped index pages)")


if __name__ == "__main__":
    main()
