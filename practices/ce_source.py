"""The 787 real practices of the European Circular Economy Stakeholder Platform, as import records.

The CSV kept in ``practices/data`` (see SOURCES.md) maps onto the import format as the shared corpus
README says: the publisher is the platform, never one of our clusters; the description is the
summary; the sectors are the tags; the country is the ISO code where the source names one country;
the year is unknown; industries are inferred from the key areas and marked so.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent / "data" / "circular-economy-good-practices.csv"
PUBLISHER = "European Circular Economy Stakeholder Platform"
MAX_TAGS = 6

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

# The source classifies by circular-economy key area, not by industry: the NACE Rev. 2 sections
# each area most plausibly touches.
KEY_AREA_SECTIONS = {
    "Waste management": ("E",),
    "Secondary raw materials": ("E", "C"),
    "Production": ("C",),
    "Consumption": ("G", "I"),
    "Innovation and investments": ("M", "K"),
}


def country_code(name: str) -> str:
    """'Italy' -> 'IT', 'Other (Serbia)' -> 'RS'; '' for 'EU' or several countries."""
    name = name.strip()
    if name.startswith("Other (") and name.endswith(")"):
        name = name[len("Other (") : -1].strip()
    return COUNTRY_CODES.get(name, "")


def listed(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip() and v.strip() != "N/A"]


def record(index: int, row: dict) -> dict:
    areas = listed(row["Key Area"])
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
        "industries": sorted({code for area in areas for code in KEY_AREA_SECTIONS.get(area, ())}),
        "industries_inferred": True,
        "tags": listed(row["Sector"])[:MAX_TAGS],
        "organisation": row["Organisation"].strip(),
        "organisation_type": row["Type of Organisation"].strip(),
        "language": row["Language"].strip(),
        "year": None,
        "link": row["Link"].strip(),
    }


def records(path: Path = CSV_PATH) -> Iterator[dict]:
    """Every practice of the CSV as an import record, ``ce-00000`` onwards in file order."""
    with path.open(newline="", encoding="utf-8") as f:
        for index, row in enumerate(csv.DictReader(f)):
            yield record(index, row)
