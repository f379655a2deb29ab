"""New practices written in bulk: tree paths allocated here, as treebeard would, and the rows Wagtail
would write for each page (page, revision, tags, industries, audit log) inserted a batch at a time.

The one place that uses treebeard's and Django's private APIs (``Page._get_path``, ``Page._str2int``,
``Manager._insert``); pages are written without Wagtail's per-page signals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from taggit.models import Tag
from wagtail.models import Page, PageLogEntry, Revision

from practices.imports.format import page_values
from practices.imports.validation import Record
from practices.models import ClusterPage, Industry, PracticePage, PracticePageTag


@dataclass(frozen=True)
class _Batch:
    """What every row written for one batch of new practices shares."""

    user: object
    publish: bool
    now: datetime
    content_type: ContentType


def create_pages(
    records: list[Record],
    clusters: dict[str, ClusterPage],
    tags: dict[str, Tag],
    *,
    user,
    publish: bool,
    batch_size: int,
) -> list[int]:
    """Create a practice under its cluster for each record; the new pages' ids."""
    if not records:
        return []
    batch = _Batch(user, publish, timezone.now(), ContentType.objects.get_for_model(PracticePage))
    pages = _placed_pages(records, clusters, batch)
    _insert_pages(pages, batch_size)
    _insert_tags_and_industries(pages, tags)
    _insert_revisions(pages, batch)
    _insert_log_entries(pages, batch)
    return [p.pk for p in pages]


def _placed_pages(
    records: list[Record], clusters: dict[str, ClusterPage], batch: _Batch
) -> list[PracticePage]:
    """Unsaved pages, each given the next tree path and a free slug under its cluster (whose
    ``numchild`` counts them already)."""
    by_parent: dict[int, list[Record]] = {}
    for r in records:
        by_parent.setdefault(clusters[r.data["cluster"]].pk, []).append(r)

    pages: list[PracticePage] = []
    for parent_id, group in by_parent.items():
        # Re-read the parent: earlier batches may have changed its numchild.
        parent = Page.objects.get(pk=parent_id)
        children = Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
        last = children.order_by("-path").values_list("path", flat=True).first()
        step = Page._str2int(last[-Page.steplen :]) if last else 0
        slugs = set(children.values_list("slug", flat=True))
        for r in group:
            step += 1
            slug = free_slug(r.data, slugs)
            page = PracticePage(
                **page_values(r.data),
                slug=slug,
                draft_title=r.data["title"],
                path=Page._get_path(parent.path, parent.depth + 1, step),
                depth=parent.depth + 1,
                numchild=0,
                url_path=f"{parent.url_path}{slug}/",
                content_type=batch.content_type,
                locale_id=parent.locale_id,
                translation_key=uuid.uuid4(),
                owner=batch.user,
                live=batch.publish,
                has_unpublished_changes=not batch.publish,
                first_published_at=batch.now if batch.publish else None,
                last_published_at=batch.now if batch.publish else None,
                latest_revision_created_at=batch.now,
            )
            page._import_record = r.data
            pages.append(page)
        Page.objects.filter(pk=parent_id).update(numchild=F("numchild") + len(group))
    return pages


def _insert_pages(pages: list[PracticePage], batch_size: int) -> None:
    """The pages' ``wagtailcore_page`` rows, then their ``PracticePage`` rows, in bulk."""
    page_fields = [f for f in Page._meta.concrete_fields if not f.primary_key]
    rows = Page.objects.bulk_create(
        [Page(**{f.attname: getattr(p, f.attname) for f in page_fields}) for p in pages]
    )
    for page, row in zip(pages, rows, strict=True):
        page.pk = page.id = page.page_ptr_id = row.pk
    local = PracticePage._meta.local_concrete_fields
    size = max(1, min(batch_size, 900 // len(local)))
    for start in range(0, len(pages), size):
        PracticePage._base_manager._insert(pages[start : start + size], fields=local)


def _insert_tags_and_industries(pages: list[PracticePage], tags: dict[str, Tag]) -> None:
    """Tag and industry rows; each page also holds them in memory, as its first revision records them."""
    industries = {i.code: i for i in Industry.objects.all()}
    tag_rows, industry_rows = [], []
    Through = PracticePage.industries.through
    for page in pages:
        rec = page._import_record
        page.tagged_items = [PracticePageTag(content_object=page, tag=tags[t.lower()]) for t in rec["tags"]]
        page.industries = [industries[c] for c in rec["industries"]]
        page.partner_clusters = []
        page.attached_documents = []
        page.related_practices = []
        tag_rows += [PracticePageTag(content_object_id=page.pk, tag=tags[t.lower()]) for t in rec["tags"]]
        industry_rows += [
            Through(practicepage_id=page.pk, industry_id=industries[c].pk) for c in rec["industries"]
        ]
    PracticePageTag.objects.bulk_create(tag_rows)
    Through.objects.bulk_create(industry_rows)


def _insert_revisions(pages: list[PracticePage], batch: _Batch) -> None:
    """Each page's first revision, its latest (and, published, its live) one."""
    revisions = Revision.objects.bulk_create(
        [
            Revision(
                content_type=batch.content_type,
                base_content_type=ContentType.objects.get_for_model(Page),
                object_id=str(page.pk),
                created_at=batch.now,
                user=batch.user,
                object_str=page.title,
                content=page.serializable_data(),
            )
            for page in pages
        ]
    )
    for page, revision in zip(pages, revisions, strict=True):
        page.latest_revision = revision
        page.live_revision = revision if batch.publish else None
    Page.objects.bulk_update(pages, ["latest_revision", "live_revision"], batch_size=250)


def _insert_log_entries(pages: list[PracticePage], batch: _Batch) -> None:
    """The audit log's "created" (and "published") entries Wagtail would have written."""
    actions = ["wagtail.create"] + (["wagtail.publish"] if batch.publish else [])
    PageLogEntry.objects.bulk_create(
        [
            PageLogEntry(
                page_id=page.pk,
                content_type=batch.content_type,
                label=page.title,
                action=action,
                timestamp=batch.now,
                user=batch.user,
                revision=page.latest_revision if action == "wagtail.publish" else None,
                content_changed=True,
            )
            for page in pages
            for action in actions
        ]
    )


def free_slug(rec: dict, taken: set[str]) -> str:
    base = slugify(rec["title"])[:80].strip("-") or slugify(rec["external_id"])[:80] or "practice"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug
