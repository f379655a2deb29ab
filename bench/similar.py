"""Benchmark the "Similar practices" block's engine work: more-like-this on N corpus records.

    python -m bench.similar 100000
    python -m bench.similar 10000 --samples 300

Builds an FTS5 index of N records aside (as ``bench.engine`` does, without Django), then asks
``similar()`` for random practices, as a practice page does once per view, and prints p50/p95.
The rest of the block (``search.service.similar_practices``) is three small SQL queries by primary
key and path, whatever N: the editors' related ids, one visibility check, the pages and their clusters.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

from bench.engine import build_index, percentiles
from search.query import Query, parse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=500, help="practice pages asked for")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        engine, n, build = build_index(tmp, args.count, args.seed)
        print(f"entries {n}  rebuild {build:.1f} s")
        engine.search(Query(with_highlights=False))  # loads the engine's caches once
        rng = random.Random(args.seed)
        # Real practices (the first 787) and recombined ones alike.
        page_ids = [rng.randint(1, n) for _ in range(args.samples)]
        engine.similar(page_ids[0])
        times, found = [], 0
        for page_id in page_ids:
            t0 = time.perf_counter()
            hits = engine.similar(page_id, limit=6)
            times.append(time.perf_counter() - t0)
            found += len(hits)
        print(
            f"similar(limit=6): {percentiles(times)}  ({len(times)} pages, {found / len(times):.1f} hits each)"
        )
        # The same sitting's one-word search, for scale on a machine whose load varies.
        query = parse({"q": "recycling"})[0]
        times = []
        for _ in range(min(args.samples, 100)):
            t0 = time.perf_counter()
            engine.search(query)
            times.append(time.perf_counter() - t0)
        print(f"for scale, search 'recycling' with facets: {percentiles(times)}")


if __name__ == "__main__":
    main()
