"""A real kill -9 between an import batch's commit and its index update loses nothing (bounded in time)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_kill_9_between_commit_and_index_update_is_repaired_by_search_sync(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # a SQLite file of its own
    env.update(
        DJANGO_SETTINGS_MODULE="kb.settings.dev",
        KB_VAR_DIR=str(tmp_path),
        SEARCH_INDEX_DIR=str(tmp_path / "index"),
        PYTHONPATH=str(ROOT),
    )

    def manage(*args, code=None):
        argv = [sys.executable, "manage.py", *args] if code is None else [sys.executable, "-c", code]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    manage("migrate", "--verbosity", "0")
    manage(code="import django; django.setup(); from practices.factories import make_site; make_site()")
    records = tmp_path / "records.jsonl"
    records.write_text(
        "".join(
            json.dumps(
                {"external_id": f"kill-{n}", "title": f"Kiln heat recovery {n}", "cluster": "Cluj IT Cluster"}
            )
            + "\n"
            for n in range(1, 4)
        )
    )

    importer = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "crash_import.py"), str(records)], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 120
        owed = 0
        while not owed:
            assert time.monotonic() < deadline and importer.poll() is None, "the first batch never committed"
            time.sleep(0.2)
            with sqlite3.connect(tmp_path / "db.sqlite3", timeout=10) as db:
                owed = db.execute("SELECT count(*) FROM search_unindexedchange").fetchone()[0]
    finally:
        os.kill(importer.pid, signal.SIGKILL)
        importer.wait(timeout=30)
    assert importer.returncode == -signal.SIGKILL

    count = "import django; django.setup(); from search import service; print(sorted(service.get_engine().page_ids()))"
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        committed = sorted(r[0] for r in db.execute("SELECT page_ptr_id FROM practices_practicepage"))
    assert len(committed) == 2  # the first batch, committed; the second never started
    assert manage(code=count).strip() == "[]"  # killed before its index update

    assert "Indexed 2 pages whose change had not reached the index." in manage("search_sync")
    assert manage(code=count).strip() == str(committed)
