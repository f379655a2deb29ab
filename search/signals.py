"""Publishing events -> index updates of exactly the affected pages.

Updates run after the transaction commits, so a rolled-back publish never reaches the index; a crash
in between is repaired by ``manage.py rebuild_search_index``, and for imports (whose batches record
what the index owes in their own transaction) by the next import or ``manage.py search_sync``. Drafts never reach the index because
only publish events (never saves) trigger an update, and entries are built from the live row.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete

from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from practices.downloads import page_ids_using
from practices.models import (
    ClusterPage,
    Industry,
    KBDocument,
    PracticePage,
    PresentationPage,
    ThemePage,
)
from practices.signals import document_text_changed, labels_changed, practices_imported
from search import service
from search.documents import INDEXED_MODELS

logger = logging.getLogger("search")
INDEXED = tuple(INDEXED_MODELS)


def _after_commit(fn, *args) -> None:
    def run():
        try:
            fn(*args)
        except Exception:
            # A failed index update must never break publishing; a rebuild repairs it.
            logger.exception("search index update failed")

    transaction.on_commit(run)


def subtree_ids(page: Page) -> list[int]:
    """The page and its descendants that are of an indexed type."""
    pages = Page.objects.filter(path__startswith=page.path, depth__gte=page.depth)
    return list(pages.type(*INDEXED).values_list("pk", flat=True))


def affected_ids(page: Page) -> set[int]:
    """Every indexed page whose entries show something of this page."""
    ids = set(subtree_ids(page))
    specific = page.specific_deferred
    if isinstance(specific, ClusterPage):
        ids.update(PresentationPage.objects.filter(presenting_cluster=page.pk).values_list("pk", flat=True))
    if isinstance(specific, ThemePage):
        ids.update(specific.items.values_list("item_id", flat=True))
        ids.update(service.page_ids_with("theme", page.slug))
    return ids


def refresh(page_ids) -> None:
    service.index_pages(page_ids)


def on_published(sender, instance, **kwargs):
    _after_commit(refresh, affected_ids(instance))


def on_unpublished(sender, instance, **kwargs):
    _after_commit(refresh, affected_ids(instance))


def on_moved(sender, instance, **kwargs):
    # Paths and URLs of the whole subtree changed; visibility may have too (moved under a private parent).
    _after_commit(refresh, affected_ids(instance))


def on_deleted(sender, instance, **kwargs):
    _after_commit(service.remove_pages, [instance.pk])


def on_theme_deleting(sender, instance, **kwargs):
    # Which pages list the theme must be known before its items are gone.
    instance._search_affected = affected_ids(instance) - {instance.pk}


def on_theme_deleted(sender, instance, **kwargs):
    _after_commit(refresh, getattr(instance, "_search_affected", set()))


def on_restriction_changed(sender, instance, **kwargs):
    try:
        page = Page.objects.get(pk=instance.page_id)
    except Page.DoesNotExist:
        return
    _after_commit(refresh, subtree_ids(page))


def on_industry_saved(sender, instance, created, **kwargs):
    if created:
        return
    codes = [instance.pk, *instance.divisions.values_list("pk", flat=True)]
    ids = set(PracticePage.objects.filter(industries__in=codes).values_list("pk", flat=True))
    ids.update(PresentationPage.objects.filter(industries__in=codes).values_list("pk", flat=True))
    _after_commit(refresh, ids)


def on_pages_changed(sender, page_ids=(), **kwargs):
    _after_commit(refresh, set(page_ids))


def on_practices_imported(sender, page_ids=(), unchanged_ids=(), **kwargs):
    # Recorded in the batch's transaction, indexed after its commit: a crash in between is caught up
    # by the next import or `manage.py search_sync`. Unchanged pages the index lacks are indexed too.
    marks = service.owe(page_ids) if page_ids else []

    def update():
        service.settle(marks, page_ids)
        service.catch_up()
        if unchanged_ids:
            service.index_missing(unchanged_ids)

    _after_commit(update)


def on_document_text_changed(sender, document, **kwargs):
    _after_commit(refresh, page_ids_using([document]))


def on_document_saved(sender, instance, created, update_fields=None, **kwargs):
    # Title and collection (and so visibility) show in the entries; extraction reports through its own signal.
    if created or (update_fields is not None and not {"title", "collection"} & set(update_fields)):
        return
    _after_commit(refresh, page_ids_using([instance]))


def on_document_deleting(sender, instance, **kwargs):
    # Which pages show the document must be known before its attachments are gone.
    instance._search_affected = page_ids_using([instance])


def on_document_deleted(sender, instance, **kwargs):
    _after_commit(refresh, getattr(instance, "_search_affected", set()))


def on_collection_restriction_changed(sender, instance, **kwargs):
    collection = Collection.objects.filter(pk=instance.collection_id).first()
    if collection is None:
        return
    # A restriction covers the collection's descendants too.
    collections = Collection.objects.filter(path__startswith=collection.path)
    _after_commit(refresh, page_ids_using(KBDocument.objects.filter(collection__in=collections)))


def connect() -> None:
    page_published.connect(on_published, dispatch_uid="search.page_published")
    page_unpublished.connect(on_unpublished, dispatch_uid="search.page_unpublished")
    post_page_move.connect(on_moved, dispatch_uid="search.post_page_move")
    for model in INDEXED:
        post_delete.connect(on_deleted, sender=model, dispatch_uid=f"search.post_delete.{model.__name__}")
    pre_delete.connect(on_theme_deleting, sender=ThemePage, dispatch_uid="search.pre_delete.ThemePage")
    post_delete.connect(on_theme_deleted, sender=ThemePage, dispatch_uid="search.post_delete.ThemePage")
    post_save.connect(
        on_restriction_changed, sender=PageViewRestriction, dispatch_uid="search.restriction_saved"
    )
    post_delete.connect(
        on_restriction_changed, sender=PageViewRestriction, dispatch_uid="search.restriction_deleted"
    )
    post_save.connect(on_industry_saved, sender=Industry, dispatch_uid="search.industry_saved")
    practices_imported.connect(on_practices_imported, dispatch_uid="search.practices_imported")
    labels_changed.connect(on_pages_changed, dispatch_uid="search.labels_changed")
    document_text_changed.connect(on_document_text_changed, dispatch_uid="search.document_text_changed")
    post_save.connect(on_document_saved, sender=KBDocument, dispatch_uid="search.document_saved")
    pre_delete.connect(on_document_deleting, sender=KBDocument, dispatch_uid="search.pre_delete.KBDocument")
    post_delete.connect(on_document_deleted, sender=KBDocument, dispatch_uid="search.post_delete.KBDocument")
    post_save.connect(
        on_collection_restriction_changed,
        sender=CollectionViewRestriction,
        dispatch_uid="search.collection_restriction_saved",
    )
    post_delete.connect(
        on_collection_restriction_changed,
        sender=CollectionViewRestriction,
        dispatch_uid="search.collection_restriction_deleted",
    )
