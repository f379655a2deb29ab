import mimetypes

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from wagtail import hooks
from wagtail.contrib.sitemaps import Sitemap
from wagtail.images import get_image_model
from wagtail.permissions import policy_registry

from practices import visibility
from practices.models import KBDocument


class VisibleSitemap(Sitemap):
    """Wagtail's sitemap of the site's pages, limited to what the public sees (expiry included)."""

    def items(self):
        return visibility.visible(super().items())


ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /export/
Disallow: /search/
Sitemap: {sitemap}
"""


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    sitemap = request.build_absolute_uri("/sitemap.xml")
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


def _image_for(path: str):
    """The image a media path holds: an original (``original_images/``) or a rendition (``images/``)."""
    Image = get_image_model()
    if path.startswith("original_images/"):
        return Image.objects.filter(file=path).first()
    if path.startswith("images/"):
        rendition = Image.get_rendition_model().objects.filter(file=path).select_related("image").first()
        return rendition.image if rendition else None
    return None


@require_GET
def media(request, path):
    """Uploaded files, in every configuration (runserver or gunicorn, DEBUG or not): images only, and
    only those a visible page shows (cluster logos; cached publicly for a day) or that the signed-in
    user may choose (admin thumbnails; private). Documents and previews are never served from here:
    their own views check who may see them."""
    image = _image_for(path)
    if image is None:
        raise Http404("No such file")
    public = visibility.visible_images(type(image).objects.filter(pk=image.pk)).exists()
    if not public:
        user = request.user
        policy = policy_registry.get_by_type(type(image))
        if not (
            user.is_authenticated
            and policy.user_has_any_permission_for_instance(user, ["choose", "change"], image)
        ):
            raise Http404("No such file")
    try:
        handle = default_storage.open(path, "rb")
    except FileNotFoundError:
        raise Http404("No such file") from None
    response = FileResponse(handle, content_type=mimetypes.guess_type(path)[0] or "application/octet-stream")
    if public:
        patch_cache_control(response, public=True, max_age=86400)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    return response
