"""A site as members meet it, for browser tests: the demo (meeting, presentations, clusters) and a
slice of the real practices that covers every country of the source, so long facets are long."""

from __future__ import annotations

from django.core.management import call_command

from practices import ce_source
from search import service
from tests.imports import import_records


def real_slice(extra: int = 40) -> list[dict]:
    """A practice of every country in the real data, then ``extra`` more about recycling."""
    chosen, countries = [], set()
    rest = []
    for rec in ce_source.records():
        codes = set(rec.get("countries") or [rec.get("country")]) - {None, ""}
        if codes - countries:
            chosen.append(rec)
            countries |= codes
        else:
            rest.append(rec)
    chosen += [r for r in rest if "recycl" in (r["title"] + r.get("summary", "")).lower()][:extra]
    return chosen


# The real practices name no practice in Montenegro, a network country; this test-only example
# (under the demo's fictional Example Cluster, titled as an example) makes it a long-tail value.
MONTENEGRO_EXAMPLE = {
    "external_id": "test-example-me",
    "title": "Example: a test practice in Montenegro",
    "summary": "A fictional example practice made by the browser tests, not a real one.",
    "cluster": "Example Cluster",
    "country": "ME",
}


def build_site() -> dict:
    call_command("load_demo", verbosity=0)
    records = [*real_slice(), MONTENEGRO_EXAMPLE]
    import_records(records, publish=True)
    service.reset_engine()
    service.rebuild(progress=False)
    countries = {c for r in records for c in (r.get("countries") or [r.get("country")]) if c}
    return {"records": records, "countries": countries}
