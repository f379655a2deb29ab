"""Every engine that is available, behind one fixture, so one suite holds them all to the same behaviour."""

from __future__ import annotations

import copy
import os
import uuid
from datetime import UTC, datetime

import pytest

from search.engines.base import DocumentPart, Entry

ENGINES = ["fts5", "tantivy", "elastic"]
DEFAULT_DATE = datetime(2020, 1, 1, tzinfo=UTC)

CLUSTERS = {
    "vojvodina-ict": "Vojvodina ICT Cluster",
    "cluj-it": "Cluj IT Cluster",
    "foundation-ict": "Foundation ICT Cluster",
}
INDUSTRIES = {
    "J": "Information and communication",
    "E": "Water supply; sewerage, waste management",
    "C": "Manufacturing",
}


def entry(
    n: int,
    title: str,
    summary: str = "",
    body: str = "",
    *,
    tags: tuple[str, ...] = (),
    cluster: str = "cluj-it",
    country: str = "RO",
    industries: tuple[str, ...] = ("J",),
    year: int | None = 2020,
    type: str = "practice",
    path: str = "00010001",
    date: datetime | None = DEFAULT_DATE,
    document: DocumentPart | None = None,
    key: str | None = None,
    expires: datetime | None = None,
) -> Entry:
    """An entry as ``search.documents`` would make it from a practice page."""
    facets = {
        "cluster": (cluster,),
        "country": (country,),
        "industry": industries,
        "type": (type,),
        "tag": tuple(t.lower().replace(" ", "-") for t in tags),
    }
    if year is not None:
        facets["year"] = (str(year),)
    return Entry(
        key=key or f"page:{n}",
        page_id=n,
        type=type,
        title=title,
        url=f"/practices/{n}/",
        path=f"{path}{n:04d}",
        summary=summary,
        body=body,
        tags=tags,
        names=f"{CLUSTERS[cluster]} {country} " + " ".join(INDUSTRIES[i] for i in industries),
        facets=facets,
        date=date,
        expires=expires,
        display={"cluster": CLUSTERS[cluster], "n": n},
        labels={
            "cluster": {cluster: CLUSTERS[cluster]},
            "industry": {i: INDUSTRIES[i] for i in industries},
            "tag": {t.lower().replace(" ", "-"): t for t in tags},
        },
        document=document,
    )


def corpus() -> list[Entry]:
    """A small hand-made knowledge base: every case the contract suite checks has its entry here."""
    d = lambda y, m=1: datetime(y, m, 1, tzinfo=UTC)  # noqa: E731
    return [
        entry(
            1,
            "Telemedicine platform for rural clinics",
            "Remote consultations over video.",
            "Doctors in Cluj consult patients in villages.",
            tags=("Health", "Digital solutions"),
            date=d(2021),
            industries=("J",),
        ),
        entry(
            2,
            "Open data portal",
            "The city publishes budgets.",
            "A telemedicine pilot used the portal for clinic locations.",
            tags=("Open data",),
            cluster="vojvodina-ict",
            country="RS",
            date=d(2023),
            year=2023,
        ),
        entry(
            3,
            "Recycling electronic waste",
            "Collecting and recycling old phones.",
            "Recycled parts go back into manufacturing.",
            tags=("Waste", "Circular economy"),
            cluster="foundation-ict",
            country="MK",
            industries=("E", "C"),
            date=d(2019),
            year=2019,
        ),
        entry(
            4,
            "Smart city sensors in Novi Sad",
            "Air quality sensors across Нови Сад.",
            "Sensors report every minute.",
            tags=("Smart city",),
            cluster="vojvodina-ict",
            country="RS",
            date=d(2024),
            year=2024,
        ),
        entry(
            5,
            "Ђорђе Петровић ментор програм",
            "Менторство за стартапе у Београду.",
            "Програм повезује стартапе и компаније.",
            tags=("Mentoring",),
            cluster="vojvodina-ict",
            country="RS",
            date=d(2022),
            year=2022,
        ),
        entry(
            6,
            "Timișoara and Čačak: twin hubs",
            "Exchange between Timișoara and Čačak startups.",
            "Both cities host a hub.",
            tags=("Startups",),
            cluster="cluj-it",
            country="RO",
            date=d(2018),
            year=2018,
        ),
        entry(
            7,
            "Circular economy in textile production",
            "Circular design for clothes.",
            "The economy of circular production of textiles.",
            tags=("Circular economy",),
            cluster="foundation-ict",
            country="MK",
            industries=("C",),
            date=None,
            year=None,
        ),
        entry(
            8,
            "<script>alert(1)</script> security training",
            "Teaching <b>safe</b> coding & review.",
            "Security awareness for developers.",
            tags=("Security",),
            date=d(2020, 6),
        ),
        entry(
            9,
            "Economy circular",
            "Words in the other order.",
            "Nothing else here.",
            tags=("Circular economy",),
            cluster="cluj-it",
            date=d(2017),
            year=2017,
        ),
        entry(
            10,
            "Meeting slides on telemedicine",
            "",
            "Slide three: telemedicine reimbursement in Romania.",
            type="presentation",
            date=d(2022, 5),
            year=2022,
            key="doc:10:77:3",
            document=DocumentPart(77, "slides.pdf", 3, "page", "/documents/77/slides.pdf#page=3"),
        ),
        entry(
            11,
            "Digital skills for teachers",
            "Training teachers in digital tools.",
            "Teachers in Novi Sad schools.",
            tags=("Education", "Digital solutions"),
            cluster="vojvodina-ict",
            country="RS",
            path="00010002",
            date=d(2025),
            year=2025,
        ),
    ]


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path):
    if request.param == "fts5":
        from search.engines.fts5 import Fts5Engine

        yield Fts5Engine(tmp_path / "index")
        return
    if request.param == "tantivy":
        from search.engines.tantivy import TantivyEngine

        yield TantivyEngine(tmp_path / "index")
        return
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is not set")
    from search.engines.elastic import ElasticEngine

    eng = ElasticEngine(url=url, index_prefix=f"kbtest-{uuid.uuid4().hex[:10]}")
    yield eng
    drop = getattr(eng, "drop", None)
    if drop is not None:
        drop()


@pytest.fixture
def loaded(engine):
    engine.rebuild(corpus())
    return engine


@pytest.fixture(scope="module")
def kb_data(shared_db):
    from search import service
    from tests.search.test_visibility import build_kb

    tree = build_kb()
    service.rebuild(progress=False)
    return tree


@pytest.fixture
def kb(kb_data, db):
    """The small knowledge base of test_visibility, published and indexed: built once per module."""
    from search import service

    service.reset_engine()
    yield copy.deepcopy(kb_data)
    service.reset_engine()
