"""Who is looking at the admin, so a page's admin title can depend on it: an unpublished draft's title
is shown only to those who may edit the page (and to knowledge-base editors)."""

from __future__ import annotations

from contextvars import ContextVar

from .page_policy import is_reviewer

_viewer: ContextVar = ContextVar("admin_viewer", default=None)


def sees_everything(user) -> bool:
    """Knowledge-base editors and superusers: those who may publish see every draft."""
    return bool(user and is_reviewer(user))


class AdminViewerMiddleware:
    """Remembers who is looking, so a page's admin title can depend on it (see PublicTitleForOthers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The lazy user: nothing is read until a page's admin title is asked for.
        token = _viewer.set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            _viewer.reset(token)


class PublicTitleForOthers:
    """The admin shows an unpublished draft's title only to those who may edit the page."""

    def get_admin_display_title(self):
        user = _viewer.get()
        if (
            user is not None
            and user.is_authenticated
            and self.live
            and self.draft_title != self.title
            and not sees_everything(user)
            and not self.permissions_for_user(user).can_edit()
        ):
            return self.title
        return super().get_admin_display_title()
