from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /django-admin/
Disallow: /export/
Disallow: /search/
Sitemap: {sitemap}
"""


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    sitemap = request.build_absolute_uri("/sitemap.xml")
    return HttpResponse(ROBOTS.format(sitemap=sitemap), content_type="text/plain; charset=utf-8")
