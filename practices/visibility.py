"""Who may see a page or a document: the one rule that indexing, listings, the API, feeds, exports,
the sitemap and downloads all call.

A page is visible to the public when it is live, not expired (nor past an expiry that
``publish_scheduled`` has not applied yet), has no view restriction on it or an ancestor, sits under
a Site root, and every ancestor below that root is live and unexpired too (a practice under an
unpublished cluster is hidden). A document is visible when such a page uses it and its collection
has no view restriction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction, Site


def _subtrees(paths: Iterable[str]) -> Q:
    """Pages at or below any of these tree paths (nested paths collapse into their top one)."""
    tops: list[str] = []
    for path in sorted(set(paths)):
        if not tops or not path.startswith(tops[-1]):
            tops.append(path)
    q = Q(pk__in=[])
    for path in tops:
        q |= Q(path__startswith=path)
    return q


def _own_gone(now) -> Q:
    return Q(live=False) | Q(expired=True) | Q(expire_at__lte=now)


def gone_q(now=None) -> Q:
    """Pages no visitor may reach at all, logged in or not: not live, expired (or past their expiry),
    under a page that is, or outside every Site."""
    now = now or timezone.now()
    own = _own_gone(now)
    hidden_parents = Page.objects.filter(own, numchild__gt=0, depth__gt=1).values_list("path", flat=True)
    roots = Site.objects.values_list("root_page__path", flat=True)
    return own | _subtrees(hidden_parents) | ~_subtrees(roots)


def private_q() -> Q:
    """Pages with a view restriction (login, password, groups) on them or an ancestor."""
    return _subtrees(PageViewRestriction.objects.values_list("page__path", flat=True))


def hidden_q(now=None) -> Q:
    return gone_q(now) | private_q()


def visible(queryset: QuerySet | None = None, now=None) -> QuerySet:
    """The pages of ``queryset`` (any page queryset; default every page) the public may see now."""
    if queryset is None:
        queryset = Page.objects.all()
    return queryset.exclude(hidden_q(now))


def is_visible(page: Page, now=None) -> bool:
    return visible(Page.objects.filter(pk=page.pk), now).exists()


def is_gone(page: Page, now=None) -> bool:
    """True when the page may not be served to anyone (see ``gone_q``); restrictions are Wagtail's."""
    return Page.objects.filter(pk=page.pk).filter(gone_q(now)).exists()


def restricted_collection_ids() -> set[int]:
    """Collections with a view restriction, and every collection below one."""
    paths = Collection.objects.filter(
        pk__in=CollectionViewRestriction.objects.values("collection_id")
    ).values_list("path", flat=True)
    paths = list(paths)
    if not paths:
        return set()
    return set(Collection.objects.filter(_subtrees(paths)).values_list("pk", flat=True))


def _document_pages_q(pages) -> Q:
    from practices.models import PracticeDocument, PresentationPage

    return Q(pk__in=PracticeDocument.objects.filter(page__in=pages).values("document_id")) | Q(
        pk__in=PresentationPage.objects.filter(pk__in=pages).values("slides_id")
    )


def visible_documents(queryset: QuerySet | None = None, now=None) -> QuerySet:
    """The documents of ``queryset`` a visible page uses (a practice's attachment, a presentation's
    slides), outside restricted collections."""
    from practices.models import KBDocument

    if queryset is None:
        queryset = KBDocument.objects.all()
    pages = visible(now=now).values("pk")
    return queryset.filter(_document_pages_q(pages)).exclude(collection_id__in=restricted_collection_ids())


def is_document_visible(document, now=None) -> bool:
    return visible_documents(type(document).objects.filter(pk=document.pk), now).exists()


def visible_images(queryset: QuerySet, now=None) -> QuerySet:
    """The images of ``queryset`` a visible page shows (a cluster's logo), outside restricted collections."""
    from practices.models import ClusterPage

    logos = ClusterPage.objects.filter(pk__in=visible(now=now).values("pk")).values("logo_id")
    return queryset.filter(pk__in=logos).exclude(collection_id__in=restricted_collection_ids())


def visible_tags(queryset: QuerySet | None = None, now=None) -> QuerySet:
    """The tags of ``queryset`` that a visible practice or presentation carries (a tag only drafts use
    does not exist for visitors)."""
    from taggit.models import Tag

    from practices.models import PracticePage, PresentationPage

    if queryset is None:
        queryset = Tag.objects.all()
    practices = visible(PracticePage.objects.all(), now).values("pk")
    presentations = visible(PresentationPage.objects.all(), now).values("pk")
    return queryset.filter(
        Q(practices_practicepagetag_items__content_object__in=practices)
        | Q(practices_presentationpagetag_items__content_object__in=presentations)
    ).distinct()
