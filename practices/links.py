"""Absolute links for places a request does not reach: e-mails, printed credentials, feeds, exports."""

from django.conf import settings


def absolute_url(path: str, request=None) -> str:
    """``path`` on the configured ``KB_BASE_URL``; on the request's own host when that is not set."""
    if path.startswith(("http://", "https://")):
        return path
    base = getattr(settings, "KB_BASE_URL", "")
    if base:
        return base.rstrip("/") + "/" + path.lstrip("/")
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def root_url_for(root_url: str, sites: int) -> str:
    """A page's root URL: ``KB_BASE_URL`` on a one-site install (the address it is served on, not the
    Wagtail Site record's host, often ``localhost``); each site's own with several."""
    base = getattr(settings, "KB_BASE_URL", "")
    return base.rstrip("/") if base and sites == 1 else root_url


class BaseURLMixin:
    """Full URLs of pages (feeds, exports, the API's ``html_url``, the sitemap) on ``KB_BASE_URL``."""

    def get_url_parts(self, request=None):
        parts = super().get_url_parts(request)
        if parts is None:
            return None
        from wagtail.models import Site

        site_id, root_url, page_path = parts
        sites = len({p.root_url for p in Site.get_site_root_paths()})
        return site_id, root_url_for(root_url, sites), page_path
