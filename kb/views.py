import re

import markdown

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from wagtail import hooks

from practices.links import absolute_url
from practices.models import ContributeSettings, KBDocument

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


GUIDE_DIR = settings.BASE_DIR / "docs"


@require_GET
def contribute(request):
    """The public way in for a cluster: who publishes, how to get an account, where to sign in."""
    context = {
        "contact": ContributeSettings.load(request_or_site=request),
        "login_url": absolute_url(reverse("wagtailadmin_login"), request),
    }
    return render(request, "practices/contribute.html", context)


@require_GET
def editors_guide(request):
    """docs/editors.md, the editors' guide kept in the repository, as a page of the site."""
    text = (GUIDE_DIR / "editors.md").read_text(encoding="utf-8")
    html = markdown.markdown(text, extensions=["toc", "sane_lists"], output_format="html")
    return render(request, "practices/editors_guide.html", {"guide": mark_safe(html)})  # noqa: S308 our own file


@require_GET
def editors_guide_image(request, name):
    if not re.fullmatch(r"[a-z0-9-]+\.png", name):
        raise Http404("No such image")
    path = GUIDE_DIR / "img" / name
    if not path.is_file():
        raise Http404("No such image")
    response = FileResponse(path.open("rb"), content_type="image/png")
    patch_cache_control(response, public=True, max_age=3600)
    return response
