"""Validation of import records: every field checked and given its default, or the reason it is refused."""

from __future__ import annotations

from dataclasses import dataclass

from django_countries import countries as all_countries

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from practices.imports.format import MAX_LENGTHS, SECTION_FIELDS, TEXT_FIELDS
from practices.models import Industry

_url = URLValidator(schemes=["http", "https"])


class RecordError(ValueError):
    """Why a record cannot be imported."""


@dataclass
class Record:
    line: int
    data: dict


def _string(raw: dict, key: str, required: bool = False) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a string, not {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise RecordError(f"missing {key}")
    if len(value) > MAX_LENGTHS.get(key, 100_000):
        raise RecordError(f"{key} is longer than {MAX_LENGTHS[key]} characters")
    return value


def _strings(raw: dict, key: str) -> list[str]:
    """A list of strings, each with its spaces collapsed, empty ones and repeats left out."""
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{key} must be a list of strings")
    out = []
    for v in value:
        v = " ".join(v.split())
        if v and v not in out:
            out.append(v)
    return out


def _check_web_address(link: str) -> None:
    if link:
        try:
            _url(link)
        except ValidationError:
            raise RecordError(f"link is not a web address: {link!r}") from None


def _tags(raw: dict) -> list[str]:
    tags = _strings(raw, "tags")
    if any(len(t) > 100 for t in tags):
        raise RecordError("a tag is longer than 100 characters")
    return tags


def _year(raw: dict) -> int | None:
    year = raw.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise RecordError(f"year must be a whole number or null, not {year!r}")
    if year is not None and not 1900 <= year <= 2100:
        raise RecordError(f"year {year} is out of range")
    return year


def _industries_inferred(raw: dict) -> bool:
    inferred = raw.get("industries_inferred", False)
    if not isinstance(inferred, bool):
        raise RecordError("industries_inferred must be true or false")
    return inferred


class Validator:
    """Checks records against the import format and the site's NACE codes and countries."""

    def __init__(self):
        self.nace = set(Industry.objects.values_list("code", flat=True))
        self.countries = {code for code, _ in all_countries} | {"XK"}

    def __call__(self, raw: dict) -> dict:
        """The record with every field checked and given its default; raises RecordError."""
        rec = {
            "external_id": _string(raw, "external_id", required=True),
            "title": _string(raw, "title", required=True),
            "cluster": _string(raw, "cluster", required=True),
            "link": _string(raw, "link"),
        }
        for key in TEXT_FIELDS + SECTION_FIELDS:
            rec[key] = _string(raw, key)
        _check_web_address(rec["link"])
        rec["countries"] = self._countries(raw)
        rec["industries"] = self._industries(raw)
        rec["tags"] = _tags(raw)
        rec["year"] = _year(raw)
        rec["industries_inferred"] = _industries_inferred(raw)
        return rec

    def _countries(self, raw: dict) -> list[str]:
        """``countries`` with ``country`` first (if not among them), as upper-case codes."""
        codes = [c.upper() for c in _strings(raw, "countries")] if raw.get("countries") else []
        single = _string(raw, "country").upper()
        if single and single not in codes:
            codes.insert(0, single)
        bad = [c for c in codes if c not in self.countries]
        if bad:
            raise RecordError(f"unknown country code {bad[0]!r} (ISO 3166-1 alpha-2 or XK)")
        return codes

    def _industries(self, raw: dict) -> list[str]:
        industries = _strings(raw, "industries")
        unknown = [c for c in industries if c not in self.nace]
        if unknown:
            raise RecordError(f"unknown NACE Rev. 2 code {unknown[0]!r}")
        return sorted(industries)
