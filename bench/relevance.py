"""Known-item relevance on the 787 real practices: our engines, plain FTS5 BM25, stock Wagtail search.

    python -m bench.relevance

Each query below was written by reading one practice and describing it as a member looking for it
would type it, without copying its title; some carry a typo or another word form. The queries were
written before any run and are not tuned to an engine. Systems: our engine on each embedded index
(fts5, tantivy: the same service, correction and any-word fallback); plain FTS5 BM25 (one
unweighted column, default tokenizer, all words); the same falling back to any word when no row has
all of them (the idea our engine uses, done plainly); stock Wagtail search. Prints, per system, the mean reciprocal rank
(the target's rank among the first 20, else 0) and the share of targets found in the top 3.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.search import setup_django

DEPTH = 20

# (what a member types, the practice's title in the source)
KNOWN_ITEMS = [
    (
        "scan qr code on packaging to learn how to throw it away",
        "A Digital Environmental Label for proper disposal of packaging waste",
    ),
    ("upcycled office furniture catalogue oxfam", "Upcycle your office with IMPACT Furniture"),
    (
        "washing flexible plastic film to remove ink and glue",
        "Blue Plastics - a Dutch innovation for recycling flexible plastics",
    ),
    ("aluminium roof trim for flat roofs", "Claerhout Aluminium or how to make roofing circular"),
    ("recycling multilayer films from food and farming", "CIMPA: making multilayer plastic films circular"),
    (
        "recyclable food contact plastic packaging",
        "CIRCULAR FoodPack, or how to enable the circular use of plastic packaging for direct food contact",
    ),
    (
        "used packaging film recycled back into new film",
        "RE.WIND: routing used packaging film to a dedicated supply chain that recycles it efficiently",
    ),
    (
        "peat free casing soil for mushroom growing",
        "More circular, sustainable and profitable mushroom industry by Bioschamp",
    ),
    (
        "artificial inteligence sorting textile waste",
        "Re4circular: a new AI-based solution to improve the sorting and cataloguing of textile waste",
    ),
    ("growing mushrooms on recycled cellulose serbia", "Ekofungi: Waste to taste"),
    ("business tables to launch environmental startups in galicia", "APROEMA Conecta of Galicia"),
    (
        "library lending tools finland",
        "A tool-sharing corner of Asikkala municipal library is a significant step towards circularity",
    ),
    (
        "consultancy renewable plastics packaging",
        "Green Serendipity: Renewable plastics for packaging and products",
    ),
    ("neighbourhood compost households slovakia", "Community composting in the city of Nitra"),
    (
        "flip flops turned into art from beach cleanups",
        "Nic&Mic: Upcycling waste while supporting employment",
    ),
    (
        "old shoe factory converted into community center",
        "Transforming an old factory building into a community centre and party venue in Sint-Amands",
    ),
    ("compostable packaging dairy wastewater", "BIOCOSI: developing BIOdegradable and COmpostable packaging"),
    (
        "wool leftovers from meat industry used in jackets",
        "Fjällräven up-cycles wool as a by-product of the meat industry",
    ),
    (
        "leather and glue made from sunflower stalks",
        "Studio Thomas Vailly's flower power: how to make leather and glue from sunflowers",
    ),
    ("charity bike repair workshop salzburg", "Carlavelorep: the social bicycle workshop"),
    (
        "wind turbine blades glass fibre shredded into cement",
        "Neocomp: recycling glass-fibre-reinforced plastics",
    ),
    (
        "government surplus office furniture inventory second life",
        "The Flemish government’s Facility Services Agency opts for circular office furnishings",
    ),
    (
        "shopping centre selling only repaired second hand goods sweden",
        "ReTuna Återbruksgalleria – the world’s first recycling mall",
    ),
    (
        "sharing expensive medicines between pharmacists",
        "PharmaSwap, the sharing marketplace to reduce medication waste",
    ),
    (
        "paper made with fibres from textile processing",
        "Refit Wool: the new Favini paper of creative reuse from the world of fashion",
    ),
    (
        "online platform tracing textile leftovers estonia",
        "Reverse Resources promotes upcycling of textile leftovers and creates supply chain transparency "
        "with online platform",
    ),
    (
        "fruit surplus superfood for malnutrition",
        "Nutripeople uses Spain's fruit surplus to create superfood packets that alleviate malnutrition",
    ),
    (
        "glue labels that wash off for reusable bottles",
        "Adhesives industry: water-soluble adhesives facilitate return and reuse bottle schemes and "
        "end-of-life recycling",
    ),
    (
        "shrinking population housing estate refurbishment limburg",
        "Super Circular Estate: joining material and social circularity to respond to citizens' new "
        "demographics and needs",
    ),
    (
        "pyrolysis sewage sludge biochar romania",
        "ecoHORNET develops multi-system burner with ecological combustion procedure to create pyrolysis "
        "gas, oil and biochar",
    ),
    (
        "compacting polystyrene to cut transport costs",
        "Compaction of EPS reduces its storage and transport costs, reducing pre-recycling burden for the "
        "industry",
    ),
    (
        "corporate gifts made from recycled materials",
        "Alisea: corporate gifts can be circular and promote your image in style",
    ),
    (
        "composting to fight desertification oasis",
        "El Ouidane: biowaste revives an oasis and keeps the desert at bay",
    ),
    (
        "durable shoes with repair service",
        "Love them, wear them out, wear them again: full repair service is part of this eco-responsible shoe line",
    ),
    ("recycling chewing gum into rubber products", "Gumdrop gives chewing gum a second life"),
    ("recyling glass wool insulation", "Saint-Gobain's ISOVER is a pioneer in recycling glass wool"),
    (
        "biproduct mill finland forest industry",
        "Metsä Group’s bioproduct mill in Äänekoski, Finland, leads the way towards a carbon neutral society",
    ),
    (
        "valladolid citizen participation circular strategy",
        "Citizen participation and circular economy: a Pilot project in the City Hall of Valladolid",
    ),
    (
        "district heating and water reuse in new ghent neighbourhood",
        "DuCoop presents innovative solutions for heating, water and energy management for a new district "
        "in Ghent with 400+ dwellings",
    ),
    (
        "recycling thermoplastic composites research project",
        "AIMPLAS begins research on developing more efficient methods of recycling composite materials",
    ),
    (
        "old furniture recovered by local craftsmen",
        "Recycling of obsolete furniture and furnishings by Revì",
    ),
    (
        "compostable packaging copolymers european project",
        "European project BIOnTop: Promising results in development of new recyclable and compostable packaging",
    ),
]


def load_practices() -> None:
    from django.core.management import call_command

    from practices import ce_source
    from practices.factories import make_site
    from practices.imports.importer import Importer
    from practices.signals import practices_imported

    call_command("migrate", verbosity=0)
    make_site()
    practices_imported.disconnect(dispatch_uid="search.practices_imported")
    pairs = list(enumerate(ce_source.records(), start=1))
    report = Importer(publish=True, batch_size=1000).run(pairs, total=len(pairs))
    if report.rejected:
        print(f"{len(report.rejected)} records rejected, e.g. {report.rejected[0]}")


def plain_fts5(entries) -> sqlite3.Connection:
    """One unweighted column with every text field, the default (unicode61) tokenizer, no stemming."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(text)")
    conn.executemany(
        "INSERT INTO docs(rowid, text) VALUES (?, ?)",
        (
            (e.page_id, " ".join([e.title, e.summary, e.body, " ".join(e.tags), e.names]))
            for e in entries
            if e.document is None
        ),
    )
    return conn


def plain_fts5_ids(conn: sqlite3.Connection, text: str, joiner: str = " ") -> list[int]:
    words = re.findall(r"\w+", text)
    if not words:
        return []
    match = joiner.join('"' + w + '"' for w in words)
    rows = conn.execute(
        "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, DEPTH)
    )
    return [r[0] for r in rows]


def score(ranked: list[int], target: int) -> tuple[float, bool]:
    if target in ranked[:DEPTH]:
        rank = ranked.index(target) + 1
        return 1 / rank, rank <= 3
    return 0.0, False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print each query's rank per system")
    args = parser.parse_args(argv)

    setup_django(Path(tempfile.mkdtemp(prefix="kb-relevance-")))
    from django.conf import settings
    from django.core.management import call_command

    from practices.models import PracticePage
    from search import documents, service
    from search.query import parse

    load_practices()
    for name in service.EMBEDDED:
        settings.KB_SEARCH_ENGINE = name
        service.rebuild(progress=False)

    def ours(name: str, q: str) -> list[int]:
        settings.KB_SEARCH_ENGINE = name
        return [h.page_id for h in service.search(replace(parse({"q": q})[0], per_page=DEPTH)).hits]

    call_command("update_index", verbosity=0)
    plain = plain_fts5(documents.all_entries())
    by_title = dict(PracticePage.objects.values_list("title", "pk"))
    print(f"{len(by_title)} practices, {len(KNOWN_ITEMS)} known-item queries, depth {DEPTH}")

    systems = {
        **{f"ours, {name}": (lambda q, name=name: ours(name, q)) for name in service.EMBEDDED},
        "plain FTS5 bm25": lambda q: plain_fts5_ids(plain, q),
        # Our engine falls back to any of the words when no entry has them all: the same idea, plainly.
        "plain FTS5, any": lambda q: plain_fts5_ids(plain, q) or plain_fts5_ids(plain, q, " OR "),
        "stock Wagtail": lambda q: [
            p.pk
            for p in PracticePage.objects.live().search(q, backend="modelsearch.backends.database")[:DEPTH]
        ],
    }
    totals = {name: [0.0, 0] for name in systems}
    for text, title in KNOWN_ITEMS:
        target = by_title[title]
        ranks = []
        for name, run in systems.items():
            rr, top3 = score(run(text), target)
            totals[name][0] += rr
            totals[name][1] += top3
            ranks.append(f"{name}: {round(1 / rr) if rr else '-'}")
        if args.verbose:
            print(f"  {text!r}: " + ", ".join(ranks))
    n = len(KNOWN_ITEMS)
    for name, (rr, top3) in totals.items():
        print(f"{name:16} MRR {rr / n:.3f}   found in top 3: {top3}/{n} ({top3 / n:.0%})")


if __name__ == "__main__":
    main()
