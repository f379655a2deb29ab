"""Reading import files: JSON lines or CSV, as (line number, raw record or the reason it cannot be read)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from practices.imports.format import LIST_FIELDS


def read_lines(lines: Iterable[str], fmt: str = "jsonl") -> Iterator[tuple[int, dict | str]]:
    """(line number, raw record) pairs; a line that cannot be parsed gives its error message instead."""
    if fmt == "csv":
        reader = csv.DictReader(lines)
        for row in reader:
            raw = {k: v for k, v in row.items() if k is not None}
            if None in row:
                yield reader.line_num, "more values than columns"
                continue
            yield reader.line_num, _from_csv(raw)
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield number, f"broken JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(raw, dict):
            yield number, "a record must be a JSON object"
            continue
        yield number, raw


def read_file(path: str | Path) -> Iterator[tuple[int, dict | str]]:
    path = Path(path)
    fmt = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    with path.open(encoding="utf-8-sig", newline="" if fmt == "csv" else None) as f:
        yield from read_lines(f, fmt)


# Exports write a cell that starts like a formula with a leading apostrophe (OWASP's CSV injection
# rule); importing such a file takes the apostrophe off again, so an export imports as it was.
_QUOTED_FORMULA = re.compile(r"'(?=[=+\-@\t\r])")


def _from_csv(row: dict) -> dict:
    out: dict = {}
    for key, value in row.items():
        value = (value or "").strip()
        if _QUOTED_FORMULA.match(value):
            value = value[1:]
        if key in LIST_FIELDS:
            out[key] = [v.strip() for v in value.split(";") if v.strip()]
        elif key == "year":
            out[key] = int(value) if re.fullmatch(r"\d{1,4}", value) else (value or None)
        elif key == "industries_inferred":
            out[key] = value.lower() in ("1", "true", "yes")
        else:
            out[key] = value
    return out
