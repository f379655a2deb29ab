"""Sign-in throttling (django-axes): the admin login, and the set-password links, which a guesser
could otherwise try token after token."""

from __future__ import annotations

import ipaddress

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from wagtail.admin.views.account import PasswordResetConfirmView

from kb.ratelimit import client_address


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the same client address the rate limit counts (KB_TRUSTED_PROXIES);
    None when the request carries none (a session made in code), as axes stores an address typed."""
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


def lockout(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a page saying what happened and for how long (429, Retry-After)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    response = render(
        request,
        "kb/lockout.html",
        {
            "username": username,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": max(1, seconds // 60),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def _username(uidb64: str) -> str:
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        user = get_user_model()._default_manager.filter(pk=pk).only("username").first()
    except (TypeError, ValueError, OverflowError):
        return ""
    return user.get_username() if user is not None else ""


_confirm = PasswordResetConfirmView.as_view()


def set_password(request, uidb64: str, token: str):
    """Wagtail's set-password view, refused after too many wrong links per account or address."""
    credentials = {"username": _username(uidb64)}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return get_lockout_response(request, credentials=credentials)
    response = _confirm(request, uidb64=uidb64, token=token)
    context = getattr(response, "context_data", None) or {}
    if context.get("validlink") is False:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return response
