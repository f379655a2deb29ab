"""One Content-Security-Policy for the public site, a looser one for Wagtail's admin.

The public site loads nothing from outside and runs no inline script or style. Wagtail's admin
still needs inline scripts and styles of its own (CONTENT_SECURITY_POLICY_ADMIN in the settings).
"""

from dataclasses import replace

from csp.middleware import CSPMiddleware
from csp.utils import default_config

from django.conf import settings

ADMIN_PREFIX = "/admin/"


class KBCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.config is None and request.path_info.startswith(ADMIN_PREFIX):
            parts = replace(
                parts, config=default_config(settings.CONTENT_SECURITY_POLICY_ADMIN["DIRECTIVES"])
            )
        return parts
