"""Import good practices from JSON lines or CSV: every record validated, pages written in batches.

New practices are written with bulk inserts (tree paths allocated here, as treebeard would), with
their revision, tags, industries and audit log; a practice already imported (same ``external_id``)
gets a new revision through Wagtail's own ``save_revision``. Pages are written without Wagtail's
per-page signals, so each batch is announced with ``practices_imported`` inside its transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from django_countries import countries as all_countries
from tqdm import tqdm

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from taggit.models import Tag
from wagtail.models import Page, PageLogEntry, Revision

from practices.models import ClusterIndexPage, ClusterPage, Industry, PracticePage, PracticePageTag
from practices.signals import practices_imported

# Publishers that are platforms we import from, not clusters of the network: their pages are
# ClusterPage(kind="source") so practices are attributed to where they were really published.
SOURCE_PLATFORMS = {
    "European Circular Economy Stakeholder Platform": "https://circulareconomy.europa.eu/platform/en",
}

TEXT_FIELDS = ("summary", "organisation", "organisation_type", "language")
SECTION_FIELDS = ("challenge", "solution", "results", "resources", "transferability")
LIST_FIELDS = ("industries", "tags", "countries")
COLUMNS = (
    "external_id",
    "title",
    "summary",
    *SECTION_FIELDS,
    "cluster",
    "country",
    "countries",
    "industries",
    "industries_inferred",
    "tags",
    "organisation",
    "organisation_type",
    "language",
    "year",
    "link",
)
MAX_LENGTHS = {
    "external_id": 100,
    "title": 255,
    "cluster": 255,
    "organisation": 255,
    "organisation_type": 120,
    "language": 60,
    "link": 500,
}
BATCH_SIZE = 500
_url = URLValidator(schemes=["http", "https"])


class RecordError(ValueError):
    """Why a record cannot be imported."""


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


@dataclass
class Record:
    line: int
    data: dict


# --- Text <-> rich text ----------------------------------------------------------------------


def text_to_html(text: str) -> str:
    """Plain text as escaped paragraphs, one per non-empty line."""
    return "".join(
        f"<p>{escape(line.strip(), quote=False)}</p>" for line in text.splitlines() if line.strip()
    )


class _BlockText(HTMLParser):
    BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "div", "br", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []

    def _flush(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        self.current.append(data)


def html_to_text(html: str) -> str:
    """Rich text as plain text, one line per paragraph: the inverse of ``text_to_html``."""
    parser = _BlockText()
    parser.feed(html or "")
    parser.close()
    parser._flush()
    return "\n".join(parser.blocks)


# --- Reading and validation ------------------------------------------------------------------


def read_lines(lines: Iterable[str], fmt: str = "jsonl") -> Iterator[tuple[int, dict | str]]:
    """(line number, raw record) pairs; a line that cannot be parsed gives its error message instead."""
    if fmt == "csv":
        reader = csv.DictReader(lines)
        for row in reader:
            raw = {k: v for k, v in row.items() if k is not None}
            if None in row:
                yield reader.line_num, "more values than columns"
                continue
            yield reader.line_num, _from_csv(raw)
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield number, f"broken JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(raw, dict):
            yield number, "a record must be a JSON object"
            continue
        yield number, raw


def read_file(path: str | Path) -> Iterator[tuple[int, dict | str]]:
    path = Path(path)
    fmt = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    with path.open(encoding="utf-8-sig", newline="" if fmt == "csv" else None) as f:
        yield from read_lines(f, fmt)


# Exports write a cell that starts like a formula with a leading apostrophe (OWASP's CSV injection
# rule); importing such a file takes the apostrophe off again, so an export imports as it was.
_QUOTED_FORMULA = re.compile(r"'(?=[=+\-@\t\r])")


def _from_csv(row: dict) -> dict:
    out: dict = {}
    for key, value in row.items():
        value = (value or "").strip()
        if _QUOTED_FORMULA.match(value):
            value = value[1:]
        if key in LIST_FIELDS:
            out[key] = [v.strip() for v in value.split(";") if v.strip()]
        elif key == "year":
            out[key] = int(value) if re.fullmatch(r"\d{1,4}", value) else (value or None)
        elif key == "industries_inferred":
            out[key] = value.lower() in ("1", "true", "yes")
        else:
            out[key] = value
    return out


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


# --- Writing ----------------------------------------------------------------------------------


def page_values(rec: dict) -> dict:
    """The PracticePage field values a validated record stands for."""
    values = {
        "title": rec["title"],
        "summary": rec["summary"],
        "organisation": rec["organisation"],
        "organisation_type": rec["organisation_type"],
        "language": rec["language"],
        "start_year": rec["year"],
        "source_link": rec["link"],
        "external_id": rec["external_id"],
        "industries_inferred": rec["industries_inferred"],
        "countries": rec["countries"],
    }
    for name in SECTION_FIELDS:
        values[name] = text_to_html(rec[name])
    return values


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
        now = timezone.now()
        content_type = ContentType.objects.get_for_model(PracticePage)
        base_type = ContentType.objects.get_for_model(Page)
        industries = {i.code: i for i in Industry.objects.all()}
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
                slug = self._free_slug(r.data, slugs)
                page = PracticePage(
                    **page_values(r.data),
                    slug=slug,
                    draft_title=r.data["title"],
                    path=Page._get_path(parent.path, parent.depth + 1, step),
                    depth=parent.depth + 1,
                    numchild=0,
                    url_path=f"{parent.url_path}{slug}/",
                    content_type=content_type,
                    locale_id=parent.locale_id,
                    translation_key=uuid.uuid4(),
                    owner=self.user,
                    live=self.publish,
                    has_unpublished_changes=not self.publish,
                    first_published_at=now if self.publish else None,
                    last_published_at=now if self.publish else None,
                    latest_revision_created_at=now,
                )
                page._import_record = r.data
                pages.append(page)
            Page.objects.filter(pk=parent_id).update(numchild=F("numchild") + len(group))

        page_fields = [f for f in Page._meta.concrete_fields if not f.primary_key]
        rows = Page.objects.bulk_create(
            [Page(**{f.attname: getattr(p, f.attname) for f in page_fields}) for p in pages]
        )
        for page, row in zip(pages, rows, strict=True):
            page.pk = page.id = page.page_ptr_id = row.pk
        local = PracticePage._meta.local_concrete_fields
        size = max(1, min(self.batch_size, 900 // len(local)))
        for start in range(0, len(pages), size):
            PracticePage._base_manager._insert(pages[start : start + size], fields=local)

        tag_rows, industry_rows = [], []
        Through = PracticePage.industries.through
        for page in pages:
            rec = page._import_record
            page.tagged_items = [
                PracticePageTag(content_object=page, tag=tags[t.lower()]) for t in rec["tags"]
            ]
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

        revisions = Revision.objects.bulk_create(
            [
                Revision(
                    content_type=content_type,
                    base_content_type=base_type,
                    object_id=str(page.pk),
                    created_at=now,
                    user=self.user,
                    object_str=page.title,
                    content=page.serializable_data(),
                )
                for page in pages
            ]
        )
        for page, revision in zip(pages, revisions, strict=True):
            page.latest_revision = revision
            page.live_revision = revision if self.publish else None
        Page.objects.bulk_update(pages, ["latest_revision", "live_revision"], batch_size=250)

        actions = ["wagtail.create"] + (["wagtail.publish"] if self.publish else [])
        PageLogEntry.objects.bulk_create(
            [
                PageLogEntry(
                    page_id=page.pk,
                    content_type=content_type,
                    label=page.title,
                    action=action,
                    timestamp=now,
                    user=self.user,
                    revision=page.latest_revision if action == "wagtail.publish" else None,
                    content_changed=True,
                )
                for page in pages
                for action in actions
            ]
        )
        self.report.created += len(pages)
        return [p.pk for p in pages]

    @staticmethod
    def _free_slug(rec: dict, taken: set[str]) -> str:
        base = slugify(rec["title"])[:80].strip("-") or slugify(rec["external_id"])[:80] or "practice"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        return slug

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


def import_file(path, **options) -> Report:
    pairs = list(read_file(path))
    return Importer(**options).run(pairs, total=len(pairs))


def import_records(records: Iterable[dict], **options) -> Report:
    """Import records already in memory (line numbers count from 1 in the order given)."""
    return Importer(**options).run(enumerate(records, start=1))


def import_text(text: str, fmt: str = "jsonl", **options) -> Report:
    return Importer(**options).run(read_lines(io.StringIO(text, newline=""), fmt))
