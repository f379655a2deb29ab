"""Imports for tests: records, text or a file run through the real Importer in one call."""

import io
from collections.abc import Iterable

from practices.imports.importer import Importer, Report
from practices.imports.readers import read_file, read_lines


def import_file(path, **options) -> Report:
    pairs = list(read_file(path))
    return Importer(**options).run(pairs, total=len(pairs))


def import_records(records: Iterable[dict], **options) -> Report:
    """Import records already in memory (line numbers count from 1 in the order given)."""
    return Importer(**options).run(enumerate(records, start=1))


def import_text(text: str, fmt: str = "jsonl", **options) -> Report:
    return Importer(**options).run(read_lines(io.StringIO(text, newline=""), fmt))
