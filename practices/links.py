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
