"""What only the tantivy engine has to show: unstemmed prefixes, similar practices, and an index that
several processes share (reader reload, one writer at a time, no write lost, crash-safe commits).

Multi-process cases run real processes (``subprocess``), each bounded in time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from search.engines.base import DocumentPart, EngineUnavailable
from search.engines.tantivy import TantivyEngine
from search.engines.tantivy import store as store_module
from tests.search.conftest import corpus, entry
from tests.search.test_engine_contract import keys, q

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tantivy_engine(tmp_path):
    eng = TantivyEngine(tmp_path / "index")
    eng.rebuild(corpus())
    return eng


def child(directory: Path, code: str) -> subprocess.Popen:
    """A separate Python process with a TantivyEngine on the same directory as ``eng``."""
    script = "import sys, time, json\nfrom search.engines.tantivy import TantivyEngine\n"
    script += "from tests.search.conftest import entry\n"
    script += f"eng = TantivyEngine({str(directory)!r})\n" + textwrap.dedent(code)
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_line(proc: subprocess.Popen, expected: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == expected:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited: {proc.stderr.read()}")
    raise AssertionError(f"no {expected!r} from the child in {timeout} s")


def test_prefixes_match_words_as_written_not_their_stems(tantivy_engine):
    # "recycling" is indexed as the stem "recycl": a prefix matched against stems would miss both.
    assert keys(tantivy_engine, "recycli*") == ["page:3"]
    assert keys(tantivy_engine, "recycle*") == ["page:3"]  # "Recycled parts"
    assert keys(tantivy_engine, "recycle") == ["page:3"]  # a whole word is still stemmed
    # The word as typed still matches its own forms: typing "recycle" finds "recycling" at every letter.
    assert keys(tantivy_engine, "recyc*") == keys(tantivy_engine, "recycle*") == ["page:3"]
    assert keys(tantivy_engine, "telemedz*") == []
    hit = tantivy_engine.search(q("recycli*")).hits[0]
    assert "<mark>Recycling</mark>" in hit.title_html and "<mark>Recycled</mark>" not in hit.snippet_html


def test_exclusions_alone_browse_newest_first(tantivy_engine):
    # As with no words at all: nothing ranks one entry above another.
    assert keys(tantivy_engine, "-telemedicine") == [
        k for k in keys(tantivy_engine, sort="newest") if k in keys(tantivy_engine, "-telemedicine")
    ]
    assert keys(tantivy_engine, "-telemedicine")[0] == "page:11"


def test_a_chosen_value_past_the_values_read_is_still_counted(tmp_path, monkeypatch):
    from search.engines.tantivy import engine as engine_module

    monkeypatch.setattr(engine_module, "FACET_VALUES", 3)
    eng = TantivyEngine(tmp_path / "index")
    eng.rebuild([entry(i, f"Practice {i}", tags=(f"Tag{i:02d}", "Common")) for i in range(1, 21)])
    results = eng.search(q("", filters={"tag": ("tag20", "tag19")}))
    assert results.total == 2
    tags = {c.value: (c.count, c.selected, c.label) for c in results.facets["tag"]}
    assert tags["tag20"] == (1, True, "Tag20") and tags["tag19"] == (1, True, "Tag19")
    assert tags["common"] == (20, False, "Common")
    assert eng.search(q("", filters={"tag": ("nosuch",)})).facets["tag"][-1].count == 0


def test_similar_practices(tmp_path):
    eng = TantivyEngine(tmp_path / "index")
    now = datetime.now(UTC)
    base = "circular textile recycling of clothes and fabric waste"
    eng.rebuild(
        [
            entry(1, "Textile recycling hub", base, "Sorting fabric waste from clothes.", tags=("Textiles",)),
            entry(2, "Recycling clothes into fabric", base, "Fabric waste becomes new clothes."),
            entry(3, "Textile waste sorting", "fabric recycling of clothes", "Circular textile waste."),
            entry(4, "Smart parking sensors", "Parking in the city centre.", "Sensors count free spaces."),
            entry(5, "Expired textile recycling", base, "Fabric clothes.", expires=now - timedelta(days=1)),
            entry(6, "Textile recycling talk", base, "Fabric clothes.", type="presentation"),
            entry(
                7,
                "Textile recycling, slides",
                base,
                "Fabric clothes recycling textile.",
                key="doc:1:9:2",
                document=DocumentPart(9, "slides.pdf", 2, "page", "/documents/9/slides.pdf#page=2"),
            ),
            entry(8, "Textile recycling abroad", base, "Fabric clothes waste.", path="00010002"),
        ]
    )
    found = [h.key for h in eng.similar(1)]
    assert set(found) == {"page:2", "page:3", "page:8"}
    assert found.index("page:2") < found.index("page:3")  # more in common, higher
    assert "page:1" not in found  # never itself
    assert "doc:1:9:2" not in found  # nor a document's part
    assert "page:4" not in found  # nothing in common
    assert "page:5" not in found and "page:6" not in found  # expired; not a practice
    assert "page:8" in found and "page:8" not in [h.key for h in eng.similar(1, within=("00010001",))]
    assert len(eng.similar(1, limit=1)) == 1
    assert eng.similar(404) == []
    assert all(h.title_html == h.title for h in eng.similar(1))


def test_a_first_write_into_an_empty_directory_makes_the_index(tmp_path):
    eng = TantivyEngine(tmp_path / "fresh")
    assert eng.index([entry(1, "Zebra crossing sensors")]) == 1
    assert keys(eng, "zebra") == ["page:1"]
    assert TantivyEngine(tmp_path / "empty").search(q("zebra")).total == 0


def test_a_schema_of_another_version_is_refused_not_read(tantivy_engine):
    live = tantivy_engine.directory / (tantivy_engine.directory / "CURRENT").read_text()
    (live / "kb-schema").write_text("0")
    with pytest.raises(EngineUnavailable):
        TantivyEngine(tantivy_engine.directory).search(q("telemedicine"))
    tantivy_engine.rebuild(corpus())  # the way out the message names
    assert TantivyEngine(tantivy_engine.directory).search(q("telemedicine")).total == 3


def test_a_failed_rebuild_keeps_the_live_index_and_leaves_nothing_behind(tantivy_engine):
    def broken():
        yield from corpus()[:3]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        tantivy_engine.rebuild(broken())
    assert tantivy_engine.count() == len(corpus())
    assert not (tantivy_engine.directory / "REBUILDING").exists()
    assert len([p for p in tantivy_engine.directory.iterdir() if p.name.startswith("index-")]) <= 2


def test_a_rebuild_that_disagrees_with_the_expected_pages_is_not_swapped_in(tantivy_engine):
    with pytest.raises(EngineUnavailable):
        tantivy_engine.rebuild(corpus()[:2], expected_page_ids={1, 2, 3})
    assert tantivy_engine.count() == len(corpus())
    assert tantivy_engine.rebuild(corpus()[:2], expected_page_ids={1, 2}) == 2
    assert tantivy_engine.page_ids() == {1, 2}


def test_writes_during_a_rebuild_reach_the_new_index(tantivy_engine):
    def entries():
        for i, e in enumerate(corpus()):
            if i == 5:
                # A page published while the rebuild reads the database, after it read that page.
                tantivy_engine.index([entry(99, "Zebra crossing sensors")])
                tantivy_engine.remove_pages([1])
            yield e

    tantivy_engine.rebuild(entries())
    assert keys(tantivy_engine, "zebra") == ["page:99"]
    assert 1 not in tantivy_engine.page_ids()
    assert not list((tantivy_engine.directory / "journal").iterdir())


def test_old_index_directories_are_removed_after_swaps(tantivy_engine):
    for _ in range(3):
        tantivy_engine.rebuild(corpus())
    dirs = sorted(p.name for p in tantivy_engine.directory.iterdir() if p.name.startswith("index-"))
    assert len(dirs) == 2  # the live one and the one before it, which a reader may still hold
    assert (tantivy_engine.directory / "CURRENT").read_text() == dirs[-1]


def test_another_process_sees_a_publish_within_a_second(tantivy_engine):
    reader = child(
        tantivy_engine.directory,
        """
        assert eng.search(__import__("tests.search.test_engine_contract", fromlist=["q"]).q("zebra")).total == 0
        print("ready", flush=True)
        from tests.search.test_engine_contract import q
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            if eng.search(q("zebra")).total == 1:
                print("seen", flush=True)
                break
            time.sleep(0.02)
        """,
    )
    try:
        wait_line(reader, "ready")
        t0 = time.monotonic()
        tantivy_engine.index([entry(99, "Zebra crossing sensors")])
        wait_line(reader, "seen", timeout=10)
        assert time.monotonic() - t0 < 1.0
        assert reader.wait(timeout=10) == 0
    finally:
        reader.kill()


def test_a_write_that_cannot_get_the_lock_is_kept_and_applied_later(tantivy_engine, monkeypatch):
    holder = child(
        tantivy_engine.directory,
        """
        with eng.store.write_lock(timeout=None):
            print("locked", flush=True)
            time.sleep(2.5)
        print("released", flush=True)
        """,
    )
    try:
        wait_line(holder, "locked")
        monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.3)
        t0 = time.monotonic()
        assert tantivy_engine.index([entry(99, "Zebra crossing sensors")]) == 1
        assert time.monotonic() - t0 < 2.0  # bounded wait, not the holder's 2.5 s
        assert tantivy_engine.store.pending() == 1
        wait_line(holder, "released")
        # The next search (here, or in any process) applies what was left waiting.
        assert keys(tantivy_engine, "zebra") == ["page:99"]
        assert tantivy_engine.store.pending() == 0
    finally:
        holder.kill()


def test_concurrent_writers_from_several_processes_lose_nothing(tantivy_engine):
    writers = [
        child(
            tantivy_engine.directory,
            f"""
            for i in range(15):
                eng.index([entry({1000 * (w + 1)} + i, "Parallel write {w} " + str(i))])
            print("done", flush=True)
            """,
        )
        for w in range(3)
    ]
    try:
        for w in writers:
            wait_line(w, "done", timeout=60)
            assert w.wait(timeout=10) == 0
    finally:
        for w in writers:
            w.kill()
    assert tantivy_engine.search(q("parallel write")).total == 45
    assert tantivy_engine.count() == len(corpus()) + 45


def test_a_crash_in_the_middle_of_a_commit_leaves_the_last_commit_readable(tantivy_engine):
    before = tantivy_engine.count()
    n = 5000
    for delay in (0.0, 0.2, 0.5):
        writer = child(
            tantivy_engine.directory,
            f"""
            eng.index([entry(5000 + i, "Crash test " + str(i), "body " * 100) for i in range({n})])
            """,
        )
        try:
            deadline = time.monotonic() + 30
            # Killed once its write is durable in the spool: while it applies and commits it.
            while (
                not tantivy_engine.store.pending() and writer.poll() is None and time.monotonic() < deadline
            ):
                time.sleep(0.005)
            time.sleep(delay)
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=10)
        finally:
            writer.kill()
        fresh = TantivyEngine(tantivy_engine.directory)
        # The last committed state: without the batch or with all of it, never a part, never unreadable.
        assert fresh.count() in (before, before + n)
        assert keys(fresh, "telemedicine") and fresh.search(q("crash test")).total in (0, n)
    # The next writer takes the lock the dead one held and applies the spooled batch: nothing is lost.
    tantivy_engine.index([entry(99, "Zebra crossing sensors")])
    assert keys(tantivy_engine, "zebra") == ["page:99"]
    assert tantivy_engine.search(q("crash test")).total == n
    assert tantivy_engine.count() == before + n + 1
    assert tantivy_engine.store.pending() == 0


def test_a_deletes_file_left_by_a_writer_killed_in_mid_commit_does_not_block_the_next(tmp_path, caplog):
    """A writer killed in mid-commit can leave the deletes file of the commit it was making; the next
    writer replays the same writes from the spool, reaches the same opstamp and finds that name
    taken (seen in CI: FileAlreadyExists). The stray file is removed and the commit made."""
    import shutil

    engine = TantivyEngine(tmp_path / "live")
    engine.rebuild(corpus())
    name = (tmp_path / "live" / "CURRENT").read_text().strip()
    # The killed writer, acted out on a copy: the same write, committed there.
    shutil.copytree(tmp_path / "live", tmp_path / "copy")
    TantivyEngine(tmp_path / "copy").index([entry(1, "Replaced title")])
    before = {p.name for p in (tmp_path / "live" / name).iterdir()}
    strays = [p for p in (tmp_path / "copy" / name).glob("*.del") if p.name not in before]
    assert strays
    for p in strays:
        shutil.copy(p, tmp_path / "live" / name / p.name)
    fresh = TantivyEngine(tmp_path / "live")
    fresh.index([entry(1, "Replaced title")])
    assert keys(fresh, "replaced") == ["page:1"] and fresh.count() == len(corpus())
    assert "left by a writer stopped in mid-commit, removed" in caplog.text
