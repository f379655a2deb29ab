"""Documents' downloads: who may download a document (Wagtail's ``before_serve_document`` hook), and
which pages a document is attached to."""

from django.http import Http404

from wagtail.permissions import policy_registry

from practices import visibility
from practices.models import KBDocument, PracticePage, PresentationPage


def only_public_documents(document, request):
    """Wagtail's before_serve_document hook: documents of drafts and private pages are not served (404)."""
    if not may_download(request.user, document):
        raise Http404("No such document")


def page_ids_using(documents) -> set[int]:
    """Ids of the pages these documents are attached to (practices' documents, presentations' slides)."""
    ids = set(
        PracticePage.objects.filter(attached_documents__document__in=documents).values_list("pk", flat=True)
    )
    ids.update(PresentationPage.objects.filter(slides__in=documents).values_list("pk", flat=True))
    return ids


def may_download(user, document) -> bool:
    if visibility.is_document_visible(document):
        return True
    if not (user and user.is_authenticated):
        return False
    policy = policy_registry.get_by_type(KBDocument)
    return policy.user_has_any_permission_for_instance(user, ["choose", "change"], document)
