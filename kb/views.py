from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from wagtail import hooks
from wagtail.documents.views.serve import serve as wagtail_serve_document

from practices.links import absolute_url
from practices.models import KBDocument

ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /export/
Disallow: /search/
Sitemap: {sitemap}
"""


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    sitemap = absolute_url("/sitemap.xml", request)
    return HttpResponse(ROBOTS.format(sitemap=sitemap), content_type="text/plain; charset=utf-8")


@require_GET
def document_preview(request, document_id):
    """A document's first page as an image, only to those the document itself would be served to."""
    document = get_object_or_404(KBDocument, pk=document_id)
    if not document.preview:
        raise Http404("No preview")
    # The same checks as a download (drafts, private pages, restricted collections); never a login page.
    for hook in hooks.get_hooks("before_serve_document"):
        if isinstance(hook(document, request), HttpResponse):
            raise Http404("No such document")
    try:
        image = document.preview.open("rb")
    except FileNotFoundError:
        raise Http404("No preview") from None
    response = FileResponse(image, content_type="image/png")
    patch_cache_control(response, private=True, max_age=3600)
    return response


def serve_document(request, document_id, document_filename):
    """Wagtail's document view, less the literal ``Content-Encoding: None`` its sendfile writes for a
    file that is not compressed (a client would try to decode it with a codec called "None")."""
    response = wagtail_serve_document(request, document_id, document_filename)
    if response.get("Content-Encoding") == "None":
        del response["Content-Encoding"]
    return response
