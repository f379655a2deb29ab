"""N good-practice records in the import format (JSON lines), for benchmarks and load tests.

The 787 real practices of ``practices/data/circular-economy-good-practices.csv`` come first, as the
source published them; past those, records are recombined from the same real sentences so term
frequencies stay realistic at any size. Deterministic for a seed; the output matches the shared
corpus (`shared/bench/make_corpus.py`) record for record. Real records come from the importer's own
mapping (`practices.ce_source`); no Django needed.

    python -m bench.corpus 10000 > practices.jsonl
    python bench/corpus.py 100000 --seed 2 > big.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from practices import ce_source  # noqa: E402

NACE_CSV = ce_source.CSV_PATH.parent / "nace-rev2.csv"

# The network's clusters: the four DANUBE ICT partners, then one per other member country.
# Invented records are attributed to them for benchmarks only; they never belong in a demo.
CLUSTERS = (
    ("Foundation ICT Cluster", "MK"),
    ("Cluj IT Cluster", "RO"),
    ("Vojvodina ICT Cluster", "RS"),
    ("Montenegrin IT Cluster", "ME"),
    ("ICT Cluster of Albania", "AL"),
    ("ICT Cluster of Kosovo", "XK"),
    ("ICT Cluster of Greece", "GR"),
    ("ICT Cluster of Bulgaria", "BG"),
    ("ICT Cluster of Bosnia and Herzegovina", "BA"),
    ("ICT Cluster of Ukraine", "UA"),
    ("ICT Cluster of Serbia", "RS"),
    ("ICT Cluster of Romania", "RO"),
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s*(?=[A-Z])")


@cache
def source_rows() -> tuple[dict, ...]:
    with ce_source.CSV_PATH.open(newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


@cache
def nace() -> dict[str, dict]:
    """NACE Rev. 2 by code: {"J": {"level": "1", "parent": "", "name": ...}, "62": {...}}."""
    with NACE_CSV.open(newline="", encoding="utf-8") as f:
        return {r["code"]: r for r in csv.DictReader(f)}


def real_record(i: int, row: dict) -> dict:
    """The importer's own mapping of a real practice, in the shared corpus's exact shape."""
    record = ce_source.record(i, row)
    del record["industries_inferred"]
    return record


def records(n: int, seed: int = 1, real: bool = True) -> Iterator[dict]:
    """The first ``n`` records: real ones first (unless ``real`` is false), then recombined ones."""
    rows = source_rows()
    reals = [real_record(i, row) for i, row in enumerate(rows)]
    head = reals[:n] if real else []
    yield from head
    if n <= len(head):
        return
    rng = random.Random(seed)
    sentences = [
        s.strip() for r in rows for s in _SENTENCE_END.split(r["Description"]) if len(s.strip()) > 20
    ]
    tags = sorted({t for r in reals for t in r["tags"]})
    sections = [code for code, r in nace().items() if r["level"] == "1"]

    def text(k: int) -> str:
        return " ".join(rng.choice(sentences) for _ in range(k))

    for i in range(n - len(head)):
        cluster, country = rng.choice(CLUSTERS)
        base = rng.choice(reals)
        title = base["title"].split()
        rng.shuffle(title)
        yield {
            "external_id": f"syn-{i:07d}",
            "title": " ".join(title[: rng.randint(4, 12)]).strip(" :,-").capitalize(),
            "summary": text(1),
            "challenge": text(rng.randint(1, 3)),
            "solution": text(rng.randint(2, 8)),
            "results": text(rng.randint(0, 3)),
            "transferability": text(rng.randint(0, 2)),
            "cluster": cluster,
            "country": country,
            "industries": sorted(set(base["industries"]) | {rng.choice(sections)}),
            "tags": rng.sample(tags, k=rng.randint(1, 5)),
            "organisation": base["organisation"],
            "organisation_type": base["organisation_type"],
            "language": "English",
            "year": rng.randint(2012, 2026),
            "link": "",
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synthetic-only", action="store_true", help="leave out the 787 real records")
    args = parser.parse_args(argv)
    out = sys.stdout
    for record in records(args.count, seed=args.seed, real=not args.synthetic_only):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
