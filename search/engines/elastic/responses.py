"""Elasticsearch's answers read back into results, facets, a correction and completions (no I/O)."""

from __future__ import annotations

import html
from typing import Any

from search.engines.base import Completion, DocumentPart, FacetCount, Hit, Results
from search.engines.common import (
    apply_correction,
    edit_distance,
    edits_allowed,
    merge_completions,
    plain_snippet,
    unique_titles,
)
from search.engines.elastic.mapping import split_facet_key
from search.facets import SUGGESTED, ordered
from search.query import FACETS, Query
from search.text import normalize


def parse_response(query: Query, response: dict[str, Any]) -> Results:
    hits = [parse_hit(h, query) for h in response["hits"]["hits"]]
    total = response["hits"]["total"]
    total = total["value"] if isinstance(total, dict) else int(total)
    facets = _facets(query, response.get("aggregations", {})) if query.with_facets else {}
    return Results(
        total=total,
        hits=hits,
        facets=facets,
        correction=_correction(query, response.get("suggest", {})),
    )


def parse_hit(raw: dict[str, Any], query: Query) -> Hit:
    src = raw["_source"]
    marked = raw.get("highlight", {})
    title_html = (marked.get("title") or [html.escape(src["title"])])[0]
    snippet_html = (
        marked.get("summary")
        or marked.get("body")
        or [plain_snippet(src.get("summary") or "", src.get("body") or "")]
    )[0]
    doc = src.get("document")
    return Hit(
        key=src["key"],
        page_id=src["page_id"],
        type=src["type"],
        title=src["title"],
        url=src["url"],
        title_html=title_html,
        snippet_html=snippet_html,
        score=raw.get("_score") or 0.0,
        display=src.get("display") or {},
        document=DocumentPart(**doc) if doc else None,
    )


def _facets(query: Query, aggs: dict[str, Any]) -> dict[str, list[FacetCount]]:
    labels: dict[tuple[str, str], str] = {}
    for facet, agg in aggs.get("selected_labels", {}).items():
        if isinstance(agg, dict) and "keys" in agg:
            for b in agg["keys"]["buckets"]:
                value, label = split_facet_key(b["key"])
                labels.setdefault((facet, value), label)
    out: dict[str, list[FacetCount]] = {}
    for facet in FACETS:
        agg = aggs.get(f"facet_{facet}", {})
        chosen = query.filters.get(facet, ())
        counts: dict[str, FacetCount] = {}
        for b in agg.get("values", {}).get("buckets", []):
            value, label = split_facet_key(b["key"])
            if value in counts:  # one value stored under two labels: a relabel not yet reindexed
                counts[value].count += b["doc_count"]
            else:
                counts[value] = FacetCount(value, b["doc_count"], value in chosen, label)
        selected_counts = {b["key"]: b["doc_count"] for b in agg.get("selected", {}).get("buckets", [])}
        for value in chosen:
            if value in counts:
                counts[value].count = selected_counts.get(value, counts[value].count)
            else:
                label = labels.get((facet, value), value)
                counts[value] = FacetCount(value, selected_counts.get(value, 0), True, label)
        out[facet] = ordered(counts.values(), chosen)
    return out


def _correction(query: Query, suggest: dict[str, Any]) -> str | None:
    """The query text with each misspelt word replaced by the phrase suggester's correction."""
    entries = suggest.get("did_you_mean") or []
    if not entries or not entries[0].get("options"):
        return None
    corrected = entries[0]["options"][0]["text"].split()
    words = [t.text for t in query.positive_terms if not (t.phrase or t.prefix)]
    if len(corrected) != len(words):
        return None
    fixes = [
        (w, fixed)
        for w, fixed in zip(words, corrected, strict=True)
        if normalize(w) != fixed and edit_distance(normalize(w), fixed) <= edits_allowed(normalize(w))
    ]
    return apply_correction(query.text, fixes)


def parse_completions(response: dict[str, Any], limit: int) -> list[Completion]:
    """Tags, clusters and industries by how many entries have them, then titles; the labels take at
    most half the list unless titles leave room (as the embedded engine)."""
    aggs = response.get("aggregations", {}).get("labels", {}).get("visible", {})
    labels = []
    for facet in SUGGESTED:
        for bucket in aggs.get(facet, {}).get("buckets", []):
            value, label = split_facet_key(bucket["key"])
            labels.append((bucket["doc_count"], label, Completion(label, facet, value=value)))
    titles = unique_titles(
        ((h["_source"]["title"], h["_source"]["url"]) for h in response["hits"]["hits"]), limit
    )
    return merge_completions(labels, titles, limit)
