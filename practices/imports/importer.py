"""Import good practices from JSON lines or CSV: every record validated, pages written in batches.

New practices are written with bulk inserts (``practices.imports.bulk``), with their revision, tags,
industries and audit log; a practice already imported (same ``external_id``) gets a new revision
through Wagtail's own ``save_revision``. Pages are written without Wagtail's per-page signals, so
each batch is announced with ``practices_imported`` inside its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tqdm import tqdm

from django.db import transaction
from django.db.models.functions import Lower

from taggit.models import Tag
from wagtail.models import Page

from practices.imports.bulk import create_pages
from practices.imports.format import SECTION_FIELDS, page_values
from practices.imports.validation import Record, RecordError, Validator
from practices.models import ClusterIndexPage, ClusterPage, Industry, PracticePage
from practices.signals import practices_imported

# Publishers that are platforms we import from, not clusters of the network: their pages are
# ClusterPage(kind="source") so practices are attributed to where they were really published.
SOURCE_PLATFORMS = {
    "European Circular Economy Stakeholder Platform": "https://circulareconomy.europa.eu/platform/en",
}

BATCH_SIZE = 500


@dataclass(frozen=True)
class Rejection:
    line: int
    external_id: str
    reason: str

    def __str__(self):
        ident = f" ({self.external_id})" if self.external_id else ""
        return f"line {self.line}{ident}: {self.reason}"


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    page_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected"
        )


def _state(page: PracticePage) -> tuple:
    """What an import can change on a page, to tell an unchanged record from an update."""
    return (
        page.title,
        page.summary,
        page.organisation,
        page.organisation_type,
        page.language,
        page.start_year,
        page.source_link,
        page.industries_inferred,
        tuple(sorted(str(c) for c in page.countries)),
        *(getattr(page, name) for name in SECTION_FIELDS),
        tuple(sorted(i.code for i in page.industries.all())),
        tuple(sorted(t.name.lower() for t in page.tags.all())),
    )


def _record_state(rec: dict) -> tuple:
    values = page_values(rec)
    return (
        *(
            values[k]
            for k in (
                "title",
                "summary",
                "organisation",
                "organisation_type",
                "language",
                "start_year",
                "source_link",
                "industries_inferred",
            )
        ),
        tuple(sorted(rec["countries"])),
        *(values[name] for name in SECTION_FIELDS),
        tuple(rec["industries"]),
        tuple(sorted(t.lower() for t in rec["tags"])),
    )


class Importer:
    def __init__(self, *, publish=False, dry_run=False, batch_size=BATCH_SIZE, user=None, progress=False):
        self.publish = publish
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.user = user
        self.progress = progress
        self.report = Report()

    # Reading

    def run(self, pairs: Iterable[tuple[int, dict | str]], total: int | None = None) -> Report:
        validate = Validator()
        seen: dict[str, int] = {}
        batch: list[Record] = []
        bar = tqdm(total=total, unit="record", disable=not self.progress)
        for line, raw in pairs:
            bar.update(1)
            ident = raw.get("external_id", "") if isinstance(raw, dict) else ""
            ident = ident if isinstance(ident, str) else ""
            if isinstance(raw, str):
                self.report.rejected.append(Rejection(line, "", raw))
                continue
            try:
                rec = validate(raw)
                if rec["external_id"] in seen:
                    raise RecordError(f"external_id already used on line {seen[rec['external_id']]}")
            except RecordError as exc:
                self.report.rejected.append(Rejection(line, ident, str(exc)))
                continue
            seen[rec["external_id"]] = line
            batch.append(Record(line, rec))
            if len(batch) >= self.batch_size:
                self.write(batch)
                batch = []
        if batch:
            self.write(batch)
        bar.close()
        return self.report

    # Writing

    def write(self, batch: list[Record]) -> None:
        existing = {
            p.external_id: p
            for p in PracticePage.objects.filter(external_id__in=[r.data["external_id"] for r in batch])
            .select_related("latest_revision")
            .prefetch_related("industries", "tags")
        }
        parents = dict(
            Page.objects.filter(path__in={p.path[: -Page.steplen] for p in existing.values()}).values_list(
                "path", "title"
            )
        )
        for page in existing.values():
            page._import_parent_title = parents.get(page.path[: -Page.steplen])
        if self.dry_run:
            for r in batch:
                page = existing.get(r.data["external_id"])
                if page is None:
                    self.report.created += 1
                elif self._is_unchanged(page, r.data):
                    self.report.unchanged += 1
                else:
                    self.report.updated += 1
            return
        with transaction.atomic():
            touched: list[int] = []
            unchanged: list[int] = []
            new = [r for r in batch if r.data["external_id"] not in existing]
            clusters = self._clusters({r.data["cluster"] for r in batch})
            tags = self._tags([t for r in batch for t in r.data["tags"]])
            touched += self._create(new, clusters, tags)
            for r in batch:
                page = existing.get(r.data["external_id"])
                if page is None:
                    continue
                if self._is_unchanged(page, r.data):
                    self.report.unchanged += 1
                    if page.live:
                        unchanged.append(page.pk)
                    continue
                self._update(page, r.data, clusters[r.data["cluster"]], tags)
                touched.append(page.pk)
                self.report.updated += 1
            # In the batch's transaction, so what the index owes is recorded with the pages themselves.
            practices_imported.send(sender=PracticePage, page_ids=touched, unchanged_ids=unchanged)
        self.report.page_ids += touched

    def _is_unchanged(self, page: PracticePage, rec: dict) -> bool:
        current = page.get_latest_revision_as_object() if page.has_unpublished_changes else page
        if page._import_parent_title != rec["cluster"]:
            return False
        if self.publish and (not page.live or page.has_unpublished_changes):
            return False
        return _state(current) == _record_state(rec)

    def _clusters(self, names: set[str]) -> dict[str, ClusterPage]:
        index = ClusterIndexPage.objects.first()
        if index is None:
            raise RecordError("the site has no cluster index page to import under")
        found = {c.title: c for c in ClusterPage.objects.child_of(index).filter(title__in=names)}
        for name in sorted(names - found.keys()):
            is_source = name in SOURCE_PLATFORMS
            cluster = ClusterPage(
                title=name,
                kind=ClusterPage.KIND_SOURCE if is_source else ClusterPage.KIND_CLUSTER,
                website=SOURCE_PLATFORMS.get(name, ""),
                live=False,
            )
            index.add_child(instance=cluster)
            revision = cluster.save_revision(user=self.user, log_action=True)
            if self.publish:
                revision.publish(user=self.user)
            found[name] = cluster
        return found

    def _tags(self, names: list[str]) -> dict[str, Tag]:
        # Tags match case-insensitively; a new tag is spelled as it first appears in the file.
        lowered: dict[str, str] = {}
        for name in names:
            lowered.setdefault(name.lower(), name)
        found = {
            t.name.lower(): t
            for t in Tag.objects.annotate(lname=Lower("name")).filter(lname__in=list(lowered))
        }
        for low, name in lowered.items():
            if low not in found:
                found[low] = Tag.objects.create(name=name)
        return found

    def _create(
        self, records: list[Record], clusters: dict[str, ClusterPage], tags: dict[str, Tag]
    ) -> list[int]:
        if not records:
            return []
        ids = create_pages(
            records, clusters, tags, user=self.user, publish=self.publish, batch_size=self.batch_size
        )
        self.report.created += len(ids)
        return ids

    def _update(self, page: PracticePage, rec: dict, cluster: ClusterPage, tags: dict[str, Tag]) -> None:
        if page.get_parent().pk != cluster.pk:
            page.move(cluster, pos="last-child", user=self.user)
            page.refresh_from_db()
        page = page.get_latest_revision_as_object()
        for name, value in page_values(rec).items():
            setattr(page, name, value)
        page.industries = list(Industry.objects.filter(code__in=rec["industries"]))
        page.tags.set([tags[t.lower()] for t in rec["tags"]])
        revision = page.save_revision(user=self.user, log_action=True)
        if self.publish:
            revision.publish(user=self.user)
