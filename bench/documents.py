"""Benchmark text extraction on generated PDF and PPTX files of 10, 100 and 500 pages.

    python -m bench.documents
    python -m bench.documents --sizes 10 100 500 --kinds pdf pptx --rounds 3

For each file prints pages per second in-process (`extract`) and in the limited child process a
worker uses (`extract_in_subprocess`, interpreter start included), and the child's peak RSS.
Each case runs in its own process, because RUSAGE_CHILDREN reports the peak over all children.
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from practices.documents import extract, extract_in_subprocess
from tests.practices import files

WORDS = (
    "cluster innovation digital platform regional smart specialisation cooperation startup "
    "cybersecurity cloud training skills companies research transfer danube network pilot data "
    "open services public sector funding partners results energy circular economy manufacturing"
).split()


def _line(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(10)).capitalize()


def build(kind: str, pages: int, folder: Path, seed: int = 7) -> Path:
    rng = random.Random(seed)
    path = folder / f"bench-{pages}.{kind}"
    if kind == "pdf":
        return files.write_pdf(path, [[f"Page {n}", *(_line(rng) for _ in range(8))] for n in range(pages)])
    slides = [(f"Slide {n}", "\n".join(_line(rng) for _ in range(6))) for n in range(pages)]
    return files.write_pptx(path, slides)


def run_case(kind: str, pages: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = build(kind, pages, Path(folder))
        in_process, child = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            assert extract(path).page_count == pages
            in_process.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert extract_in_subprocess(path).page_count == pages
            child.append(time.perf_counter() - started)
        return {
            "kind": kind,
            "pages": pages,
            "bytes": path.stat().st_size,
            "in_process": pages / min(in_process),
            "child": pages / min(child),
            "child_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--kinds", nargs="+", choices=["pdf", "pptx"], default=["pdf", "pptx"])
    parser.add_argument("--rounds", type=int, default=3, help="best of N runs")
    parser.add_argument("--case", nargs=2, metavar=("KIND", "PAGES"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]), args.rounds)))
        return

    print(
        f"{'kind':<5} {'pages':>5} {'file':>9} {'in-process':>14} {'child process':>15} {'child peak RSS':>15}"
    )
    for kind in args.kinds:
        for pages in args.sizes:
            case = [
                sys.executable,
                "-m",
                "bench.documents",
                "--case",
                kind,
                str(pages),
                "--rounds",
                str(args.rounds),
            ]
            row = json.loads(subprocess.run(case, capture_output=True, check=True, text=True).stdout)
            print(
                f"{kind:<5} {pages:>5} {row['bytes'] / 1024:>6.0f} kB "
                f"{row['in_process']:>8.0f} pages/s {row['child']:>9.0f} pages/s "
                f"{row['child_peak_kb'] / 1024:>12.1f} MB"
            )


if __name__ == "__main__":
    main()
