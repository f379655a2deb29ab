import logging
import mimetypes
import re

import markdown

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from wagtail import hooks
from wagtail.contrib.sitemaps import Sitemap
from wagtail.documents.views.serve import serve as wagtail_serve_document
from wagtail.images import get_image_model
from wagtail.permissions import policy_registry

from kb.ratelimit import client_address, over_limit
from practices import visibility
from practices.forms import ContactForm
from practices.links import absolute_url
from practices.models import (
    ContactMessage,
    ContactRecipient,
    ContributeSettings,
    KBDocument,
    PracticePage,
    contact_recipient,
)
from search import service

logger = logging.getLogger("kb")
CONTACT_WINDOW = 3600


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


def _contactable(request, page_id: int) -> tuple[PracticePage, ContactRecipient]:
    """A practice the public may see on this site (the search's visibility rule), and who receives
    messages about it (its contact, its cluster's, or the editors')."""
    if page_id not in service.visible_page_ids([page_id], service.within_for(request)):
        raise Http404("No such practice")
    page = get_object_or_404(PracticePage, pk=page_id)
    recipient = contact_recipient(page, request)
    if recipient is None:
        raise Http404("This practice has no contact")
    return page, recipient


def _relayed_email(request, page: PracticePage, recipient: ContactRecipient, data: dict) -> EmailMessage:
    title = " ".join(page.title.split())
    link = absolute_url(page.url, request)
    footer = (
        f"-- \nReply to this e-mail to answer {data['name']} at {data['email']}."
        " The knowledge base did not show your address to them."
    )
    if recipient.relays:
        publisher = page.cluster.title + (f" ({page.organisation})" if page.organisation else "")
        subject = f"Message for the publisher of a practice: {title}"
        body = (
            f"{data['name']} wrote through the Danube ICT Good Practice Knowledge Base about the practice"
            f' "{page.title}" ({link}), published by {publisher}.\n\n'
            "Neither the practice nor its cluster has a contact e-mail, so the message comes to you, the"
            " knowledge-base editors: the member was told you will pass it to the publisher.\n\n"
            f"{data['message']}\n\n{footer}"
        )
    else:
        whose = "your practice" if recipient.kind == ContactMessage.TO_PRACTICE else "your cluster's practice"
        subject = f"Message about {whose}: {title}"
        body = (
            f"{data['name']} wrote to you through the Danube ICT Good Practice Knowledge Base about {whose}"
            f' "{page.title}" ({link}).\n\n{data["message"]}\n\n{footer}'
        )
    return EmailMessage(subject=subject[:200], body=body, to=[recipient.email], reply_to=[data["email"]])


def _page_with_form(request, page: PracticePage, form: ContactForm, status: int, error: str = ""):
    context = page.get_context(request)
    context.update({"contact_form": form, "contact_error": error})
    return TemplateResponse(request, page.get_template(request), context, status=status)


@require_POST
@never_cache
def contact_publisher(request, page_id: int):
    """Relay a member's message about a practice by e-mail, never showing the address."""
    page, recipient = _contactable(request, page_id)
    form = ContactForm(request.POST)
    if form.is_robot:
        # Answer a robot as a person, so it learns nothing; nothing is sent or kept.
        logger.info("contact form: honeypot filled for page %s", page.pk)
        return redirect(f"{page.url}?contact=sent#contact", permanent=False)
    if not form.is_valid():
        return _page_with_form(request, page, form, 400)
    retry = over_limit(
        "contact",
        client_address(request),
        limit=settings.KB_CONTACT_MESSAGES_PER_HOUR,
        window=CONTACT_WINDOW,
    )
    if retry is not None:
        minutes = max(1, round(retry / 60))
        n = settings.KB_CONTACT_MESSAGES_PER_HOUR
        error = (
            f"You have sent {n} message{'' if n == 1 else 's'} in the last hour, the most we relay."
            f" Your message is kept below: please send it again in about {minutes} minutes."
        )
        response = _page_with_form(request, page, form, 429, error)
        response["Retry-After"] = str(retry)
        return response
    data = form.cleaned_data
    message = ContactMessage.objects.create(
        page=page,
        name=data["name"],
        email=data["email"],
        message=data["message"],
        relayed_to=recipient.kind,
    )
    try:
        _relayed_email(request, page, recipient, data).send()
    except Exception:
        logger.exception("contact form: could not send the message %s", message.pk)
        error = "Your message could not be sent just now. It is kept: please try again in a few minutes."
        return _page_with_form(request, page, form, 503, error)
    ContactMessage.objects.filter(pk=message.pk).update(sent=True)
    return redirect(f"{page.url}?contact=sent#contact", permanent=False)


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


def serve_document(request, document_id, document_filename):
    """Wagtail's document view, less the literal ``Content-Encoding: None`` its sendfile writes for a
    file that is not compressed (a client would try to decode it with a codec called "None")."""
    response = wagtail_serve_document(request, document_id, document_filename)
    if response.get("Content-Encoding") == "None":
        del response["Content-Encoding"]
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
