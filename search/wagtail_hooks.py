"""Admin: the search index's health on the dashboard, and the search reports editors act on."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Max, Sum
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import DateColumn, NumberColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.contrib.search_promotions.views.reports import SearchTermsReportView
from wagtail.contrib.search_promotions.views.settings import CreateView as PromotionCreateView
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.search.utils import normalise_query_string

from search import queue, service
from search.models import PendingIndexUpdate, ZeroResultSearch

promotion_policy = ModelPermissionPolicy(SearchPromotion)
PICK_ACTIONS = ["add", "change", "delete"]


def can_curate_search(user) -> bool:
    return promotion_policy.user_has_any_permission(user, PICK_ACTIONS)


# Health panel


class SearchHealthPanel(Component):
    name = "search_health"
    order = 50

    def render_html(self, parent_context=None) -> str:
        h = service.health()
        rows = [_engine_row(h["engine"], h["live_pages"], "Search engine")]
        if h["fallback"] is not None:
            rows.append(_engine_row(h["fallback"], h["live_pages"], "Fallback engine"))
        queued = h["queued"]
        last_failed = (
            PendingIndexUpdate.objects.filter(failed_at__isnull=False).order_by("-failed_at").first()
        )
        return format_html(
            '<section class="panel" aria-labelledby="search-health-heading">'
            '<h2 id="search-health-heading">Search index</h2>'
            '<table class="listing"><thead><tr><th>Engine</th><th>Reachable</th>'
            "<th>Pages indexed</th><th>Entries</th><th>Live public pages</th></tr></thead>"
            "<tbody>{}</tbody></table>"
            "<p>Queued index updates: <strong data-search-queued>{}</strong>{}</p>"
            "<p>Failed index updates: <strong data-search-failed>{}</strong>{}</p></section>",
            format_html_join("", "{}", ((r,) for r in rows)),
            queued,
            " (run manage.py search_sync once the engine answers)" if queued else "",
            queue.failed(PendingIndexUpdate),
            format_html(
                " (refused {} times, skipped; last: page {}: {}; manage.py rebuild_search_index supersedes them)",
                queue.MAX_ATTEMPTS,
                last_failed.page_id,
                last_failed.last_error[:300],
            )
            if last_failed
            else "",
        )


def _condition(state: dict) -> str:
    """What the service is doing about an engine that does not answer."""
    if state.get("broken"):
        return format_html(
            " (index broken; {}; searches are answered by the other index or, more simply, from the"
            " database, with a notice)",
            "rebuilding it in the background"
            if state.get("rebuilding")
            else "manage.py rebuild_search_index repairs it",
        )
    if state.get("circuit_open_for"):
        return format_html(
            " (not answering: not asked for {} s, searches use the fallback; probing in the background)",
            state["circuit_open_for"],
        )
    return ""


def _engine_row(state: dict, live_pages: int, role: str) -> str:
    pages = state.get("pages")
    mismatch = pages is not None and pages != live_pages
    return format_html(
        "<tr><td>{} ({})</td><td data-search-state>{}{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
        state["name"],
        role,
        "yes" if state.get("reachable") else format_html("no: {}", state.get("error") or "unknown error"),
        _condition(state),
        "?" if pages is None else pages,
        " ⚠ differs: run manage.py rebuild_search_index" if mismatch else "",
        "?" if state.get("entries") is None else state["entries"],
        live_pages,
    )


@hooks.register("construct_homepage_panels")
def add_search_health_panel(request, panels):
    if request.user.is_superuser or can_curate_search(request.user):
        panels.append(SearchHealthPanel())


# Search reports


class PromotionPermissionMixin:
    any_permission_required = PICK_ACTIONS

    @cached_property
    def permission_policy(self):
        return promotion_policy


def pick_url(query_string: str, existing: dict[str, int]) -> str:
    """Edit the term's editors' picks if it has some, else add them with the term filled in."""
    if query_string in existing:
        return reverse("wagtailsearchpromotions:edit", args=[existing[query_string]])
    return reverse("search_pick_add") + "?" + urlencode({"query": query_string})


def picked_queries(among=None) -> dict[str, int]:
    """Terms that already have editors' picks (of ``among``, if given) -> their query's id."""
    queries = Query.objects.filter(editors_picks__isnull=False)
    if among is not None:
        queries = queries.filter(query_string__in=among)
    return dict(queries.distinct().values_list("query_string", "pk"))


class ZeroResultReportView(PromotionPermissionMixin, ReportView):
    page_title = "Searches with no results"
    header_icon = "search"
    index_url_name = "search_zero_results"
    index_results_url_name = "search_zero_results_results"
    model = ZeroResultSearch
    paginate_by = 50
    default_ordering = "-searches"
    list_export = ["query_string", "searches", "last_searched"]
    export_headings = {
        "query_string": "Search term(s)",
        "searches": "Searches",
        "last_searched": "Last searched",
    }

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "query_string",
                label="Search term(s)",
                accessor=lambda row: row["query_string"],
                get_url=lambda row: pick_url(row["query_string"], self.picked),
                sort_key="query_string",
            ),
            NumberColumn(
                "searches", label="Searches", accessor=lambda row: row["searches"], sort_key="searches"
            ),
            DateColumn(
                "last_searched",
                label="Last searched",
                accessor=lambda row: row["last_searched"],
                sort_key="last_searched",
            ),
        ]

    def get_base_queryset(self):
        since = timezone.localdate() - timedelta(days=settings.WAGTAILSEARCH_HITS_MAX_AGE)
        return (
            ZeroResultSearch.objects.filter(date__gte=since)
            .values("query_string")
            .annotate(searches=Sum("hits"), last_searched=Max("date"))
        )

    @cached_property
    def picked(self) -> dict[str, int]:
        return picked_queries(among=ZeroResultSearch.objects.values("query_string"))


class PopularSearchesReportView(PromotionPermissionMixin, SearchTermsReportView):
    """Wagtail's "Search terms" report, open to the editors who curate picks, not only superusers."""

    page_title = "Popular searches"
    index_url_name = "search_popular"
    index_results_url_name = "search_popular_results"

    def dispatch(self, request, *args, **kwargs):
        # Skip the stock view's superuser-only check; the permission policy decides.
        return super(SearchTermsReportView, self).dispatch(request, *args, **kwargs)

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "query_string",
                label="Search term(s)",
                get_url=lambda query: pick_url(query.query_string, self.picked),
                sort_key="query_string",
            ),
            NumberColumn("_hits", label="Views", sort_key="_hits"),
        ]

    @cached_property
    def picked(self) -> dict[str, int]:
        return picked_queries()


class PrefilledPromotionCreateView(PromotionCreateView):
    """The "add editors' picks" form with the search term already filled in."""

    def get_initial(self):
        initial = super().get_initial()
        term = normalise_query_string(self.request.GET.get("query", ""))[:255]
        if term:
            initial["query_string"] = term
        return initial


@hooks.register("register_admin_urls")
def register_search_report_urls():
    return [
        path("reports/search-no-results/", ZeroResultReportView.as_view(), name="search_zero_results"),
        path(
            "reports/search-no-results/results/",
            ZeroResultReportView.as_view(results_only=True),
            name="search_zero_results_results",
        ),
        path("reports/search-popular/", PopularSearchesReportView.as_view(), name="search_popular"),
        path(
            "reports/search-popular/results/",
            PopularSearchesReportView.as_view(results_only=True),
            name="search_popular_results",
        ),
        path(
            "reports/search-no-results/pick/", PrefilledPromotionCreateView.as_view(), name="search_pick_add"
        ),
    ]


class SearchReportMenuItem(MenuItem):
    def is_shown(self, request):
        return can_curate_search(request.user)


@hooks.register("register_reports_menu_item")
def register_zero_results_menu_item():
    return SearchReportMenuItem(
        "Searches with no results",
        reverse("search_zero_results"),
        name="search-no-results",
        icon_name="search",
        order=1290,
    )


@hooks.register("register_reports_menu_item")
def register_popular_searches_menu_item():
    return SearchReportMenuItem(
        "Popular searches",
        reverse("search_popular"),
        name="search-popular",
        icon_name="search",
        order=1291,
    )


@hooks.register("construct_reports_menu")
def hide_superuser_only_search_terms(request, menu_items):
    # "Popular searches" is the same report, open to the editors who act on it.
    menu_items[:] = [item for item in menu_items if item.name != "search-terms"]
