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


class Validator:
    def __init__(self):
        self.nace = set(Industry.objects.values_list("code", flat=True))
        self.countries = {code for code, _ in all_countries} | {"XK"}

    def __call__(self, raw: dict) -> dict:
        """The record with every field checked and given its default; raises RecordError."""

        def string(key, required=False):
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

        def strings(key):
            value = raw.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RecordError(f"{key} must be a list of strings")
            out = []
            for v in value:
                v = " ".join(v.split())
                if v and v not in out:
                    out.append(v)
            return out

        rec = {
            "external_id": string("external_id", required=True),
            "title": string("title", required=True),
            "cluster": string("cluster", required=True),
            "link": string("link"),
        }
        for key in TEXT_FIELDS + SECTION_FIELDS:
            rec[key] = string(key)
        if rec["link"]:
            try:
                _url(rec["link"])
            except ValidationError:
                raise RecordError(f"link is not a web address: {rec['link']!r}") from None

        codes = [c.upper() for c in strings("countries")] if raw.get("countries") else []
        single = string("country").upper()
        if single and single not in codes:
            codes.insert(0, single)
        bad = [c for c in codes if c not in self.countries]
        if bad:
            raise RecordError(f"unknown country code {bad[0]!r} (ISO 3166-1 alpha-2 or XK)")
        rec["countries"] = codes

        industries = strings("industries")
        unknown = [c for c in industries if c not in self.nace]
        if unknown:
            raise RecordError(f"unknown NACE Rev. 2 code {unknown[0]!r}")
        rec["industries"] = sorted(industries)

        tags = strings("tags")
        if any(len(t) > 100 for t in tags):
            raise RecordError("a tag is longer than 100 characters")
        rec["tags"] = tags

        year = raw.get("year")
        if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
            raise RecordError(f"year must be a whole number or null, not {year!r}")
        if year is not None and not 1900 <= year <= 2100:
            raise RecordError(f"year {year} is out of range")
        rec["year"] = year

        inferred = raw.get("industries_inferred", False)
        if not isinstance(inferred, bool):
            raise RecordError("industries_inferred must be true or false")
        rec["industries_inferred"] = inferred
        return rec
