"""Import speed: records per second for 1,000 and 10,000 records, search index updated.

Each size runs on a fresh SQLite database and search index in a temporary folder (or on
``DATABASE_URL`` when set: it must point at an empty database of its own). Prints figures.

    .venv/bin/python bench/import.py            # 1000 and 10000
    .venv/bin/python bench/import.py 2000 --publish
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run(count: int, publish: bool, batch_size: int) -> None:
    import django
    from django.core.management import call_command
    from django.db import connection

    from bench.corpus import records
    from practices.factories import make_site
    from practices.imports.importer import Importer
    from practices.models import PracticePage
    from search import service

    call_command("migrate", verbosity=0)
    make_site()
    data = list(records(count))
    start = time.perf_counter()
    report = Importer(publish=publish, batch_size=batch_size).run(enumerate(data, start=1))
    elapsed = time.perf_counter() - start
    indexed = service.get_engine().count() if publish else 0
    print(
        f"{count:>7} records  {elapsed:7.1f} s  {count / elapsed:8.0f} records/s  "
        f"[{report.summary()}; {indexed} index entries; {connection.vendor}; django {django.get_version()}]"
    )
    assert PracticePage.objects.count() == count - len(report.rejected)

    start = time.perf_counter()
    again = Importer(publish=publish, batch_size=batch_size).run(enumerate(data, start=1))
    elapsed = time.perf_counter() - start
    print(f"{'':>7} re-import {elapsed:5.1f} s  {count / elapsed:8.0f} records/s  [{again.summary()}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--drafts", action="store_true", help="import as drafts (nothing reaches the index)")
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    for count in args.counts:
        # A fresh process per size keeps the database, index and engine cache apart.
        if os.environ.get("BENCH_IMPORT_CHILD"):
            run(count, not args.drafts, args.batch_size)
            continue
        with tempfile.TemporaryDirectory(prefix="kb-bench-import-") as tmp:
            env = dict(os.environ, BENCH_IMPORT_CHILD="1", KB_VAR_DIR=tmp)
            env.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings.dev")
            env["SEARCH_INDEX_DIR"] = str(Path(tmp) / "search-index")
            argv = [sys.executable, __file__, str(count), "--batch-size", str(args.batch_size)]
            if args.drafts:
                argv.append("--drafts")
            subprocess.run(argv, env=env, check=True)


if __name__ == "__main__":
    if os.environ.get("BENCH_IMPORT_CHILD"):
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings.dev")
        django.setup()
    main()
