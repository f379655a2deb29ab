"""A checklist with a search box and the chosen values as removable chips: industries by NACE section,
countries with the network's first, partner clusters. Without JavaScript it is a grouped checklist."""

from dataclasses import dataclass, field

from django_countries import countries as all_countries

from django import forms


@dataclass
class Group:
    label: str
    items: list = field(default_factory=list)  # (value, label)
    option: tuple | None = None  # the group's own value, when the group itself can be chosen


class SearchableChecklist(forms.CheckboxSelectMultiple):
    template_name = "practices/widgets/checklist.html"

    def __init__(self, groups, search_label="Find", placeholder="", attrs=None):
        super().__init__(attrs)
        self.groups = groups  # a callable giving [Group], called at render time so data is fresh
        self.search_label = search_label
        self.placeholder = placeholder

    class Media:
        js = ["js/kb-checklist.js"]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = {str(v) for v in (value or [])}
        groups, labels = [], {}
        for group in self.groups():
            option = None
            if group.option:
                option = (str(group.option[0]), group.option[1], str(group.option[0]) in chosen)
                labels[option[0]] = option[1]
            items = [(str(v), label, str(v) in chosen) for v, label in group.items]
            labels.update({v: label for v, label, _ in items})
            groups.append({"label": group.label, "option": option, "items": items})
        context["widget"].update(
            groups=groups,
            chosen=[(v, labels[v]) for v in labels if v in chosen],
            search_label=self.search_label,
            placeholder=self.placeholder,
        )
        return context


def industry_groups():
    """NACE sections (A to U), each with its divisions by name."""
    from .models import Industry

    industries = list(Industry.objects.order_by("code"))
    sections = [i for i in industries if i.level == 1]
    divisions = {}
    for industry in industries:
        if industry.level == 2:
            divisions.setdefault(industry.parent_id, []).append(industry)
    return [
        Group(
            label=str(section),
            option=(section.pk, f"{section.code} – {section.name} (whole section)"),
            items=[(d.pk, str(d)) for d in sorted(divisions.get(section.pk, []), key=lambda d: d.name)],
        )
        for section in sections
    ]


def network_country_codes():
    from .models import Network

    codes = set()
    for countries in Network.objects.values_list("countries", flat=True):
        items = countries.split(",") if isinstance(countries, str) else countries or []
        codes.update(str(getattr(c, "code", c)) for c in items if c)
    return codes


def country_groups():
    """The network's member countries first, then every other country, by name."""
    first = network_country_codes()
    ours = sorted(((code, name) for code, name in all_countries if code in first), key=lambda c: c[1])
    rest = [(code, name) for code, name in all_countries if code not in first]
    groups = [Group(label="Countries of the network", items=ours)] if ours else []
    return groups + [Group(label="All countries" if ours else "Countries", items=rest)]


def cluster_groups():
    """The network's clusters that the public can see (no source platforms, no unpublished drafts)."""
    from .models import ClusterPage

    clusters = ClusterPage.objects.live().public().filter(kind=ClusterPage.KIND_CLUSTER).order_by("title")
    return [Group(label="Clusters", items=[(c.pk, c.title) for c in clusters])]


def industries_widget():
    return SearchableChecklist(
        industry_groups, search_label="Find an industry", placeholder="Type part of a name, e.g. software"
    )


def countries_widget():
    return SearchableChecklist(
        country_groups, search_label="Find a country", placeholder="Type a name, e.g. Serbia"
    )


def clusters_widget():
    return SearchableChecklist(
        cluster_groups, search_label="Find a cluster", placeholder="Type part of a name"
    )
