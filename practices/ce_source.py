"""The 787 real practices of the European Circular Economy Stakeholder Platform, as import records.

The CSV kept in ``practices/data`` (see SOURCES.md) maps onto the import format as the shared corpus
README says: the publisher is the platform, never one of our clusters; the description is the
summary; the sectors are the tags; the country is the ISO code where the source names one country;
the year is unknown. Industries are inferred and marked so: the NACE Rev. 2 divisions of the
record's sectors (``ce-sectors.csv``), else the fallback of its key areas.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CSV_PATH = DATA / "circular-economy-good-practices.csv"
SECTORS_PATH = DATA / "ce-sectors.csv"
PUBLISHER = "European Circular Economy Stakeholder Platform"

COUNTRY_CODES = {
    "Albania": "AL", "Austria": "AT", "Belgium": "BE", "Bulgaria": "BG", "Croatia": "HR",
    "Cyprus": "CY", "Czechia": "CZ", "Denmark": "DK", "Estonia": "EE", "Finland": "FI",
    "France": "FR", "Germany": "DE", "Greece": "GR", "Hong Kong": "HK", "Hungary": "HU",
    "Ireland": "IE", "Italy": "IT", "Latvia": "LV", "Lebanon": "LB", "Lithuania": "LT",
    "Luxembourg": "LU", "Malta": "MT", "Morocco": "MA", "Netherlands": "NL", "Norway": "NO",
    "Poland": "PL", "Portugal": "PT", "Romania": "RO", "Serbia": "RS", "Slovakia": "SK",
    "Slovenia": "SI", "South Africa": "ZA", "Spain": "ES", "Sweden": "SE", "Switzerland": "CH",
    "Tunisia": "TN", "United Kingdom": "GB",
}  # fmt: skip

# Only where none of a record's sectors names an economic activity: what its key areas imply.
# The waste-management key areas give division 38, production gives section C (as the corpus README).
KEY_AREA_FALLBACK = {"Waste management": ("38",), "Secondary raw materials": ("38",), "Production": ("C",)}


@lru_cache(maxsize=1)
def sector_divisions(path: Path = SECTORS_PATH) -> dict[str, tuple[str, ...]]:
    """The source's sector names -> the NACE Rev. 2 divisions they map to (none for themes)."""
    with path.open(newline="", encoding="utf-8") as f:
        return {row["sector"]: tuple(row["nace_divisions"].split()) for row in csv.DictReader(f)}


def country_code(name: str) -> str:
    """'Italy' -> 'IT', 'Other (Serbia)' -> 'RS'; '' for 'EU' or several countries."""
    name = name.strip()
    if name.startswith("Other (") and name.endswith(")"):
        name = name[len("Other (") : -1].strip()
    return COUNTRY_CODES.get(name, "")


def given(value: str) -> str:
    """The source's value, or "" where it says "N/A"."""
    value = value.strip()
    return "" if value == "N/A" else value


def listed(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip() and v.strip() != "N/A"]


def sectors(value: str, known: Iterable[str] | None = None) -> list[str]:
    """The Sector column split by the source's sector names, which may hold commas themselves.

    At each position the longest known name wins; anything else ("Other (a, b)") runs to the
    next comma outside brackets and is kept as written.
    """
    known = set(sector_divisions() if known is None else known)
    pieces = [p.strip() for p in value.split(", ")]
    out: list[str] = []
    i = 0
    while i < len(pieces):
        for j in range(len(pieces), i, -1):
            name = ", ".join(pieces[i:j])
            if name in known:
                break
        else:
            j = i + 1
            while j < len(pieces) and ", ".join(pieces[i:j]).count("(") > ", ".join(pieces[i:j]).count(")"):
                j += 1
            name = ", ".join(pieces[i:j])
        if name and name != "N/A" and name not in out:
            out.append(name)
        i = j
    return out


def industries(sector_names: Iterable[str], key_areas: Iterable[str]) -> list[str]:
    """NACE Rev. 2 codes of a record: its sectors' divisions, else its key areas' fallback."""
    divisions = sector_divisions()
    codes = {code for name in sector_names for code in divisions.get(name, ())}
    if not codes:
        codes = {code for area in key_areas for code in KEY_AREA_FALLBACK.get(area, ())}
    return sorted(codes)


def record(index: int, row: dict) -> dict:
    tags = sectors(row["Sector"])
    return {
        "external_id": f"ce-{index:05d}",
        "title": row["Title"].strip(),
        "summary": row["Description"].strip(),
        "challenge": "",
        "solution": "",
        "results": "",
        "transferability": "",
        "cluster": PUBLISHER,
        "country": country_code(row["Country"]),
        "industries": industries(tags, listed(row["Key Area"])),
        "industries_inferred": True,
        "tags": tags,
        "organisation": given(row["Organisation"]),
        "organisation_type": given(row["Type of Organisation"]),
        "language": given(row["Language"]),
        "year": None,
        "link": row["Link"].strip(),
    }


def records(path: Path = CSV_PATH) -> Iterator[dict]:
    """Every practice of the CSV as an import record, ``ce-00000`` onwards in file order."""
    with path.open(newline="", encoding="utf-8") as f:
        for index, row in enumerate(csv.DictReader(f)):
            yield record(index, row)
