"""Feature real practices on the home page out of the box (the rule: ``practices.models.home``), and
fill the demo's example theme with them; what editors have chosen is never changed."""

from django.core.management.base import BaseCommand
from django.db import transaction

from practices.models import HomePage, ThemeIndexPage, ThemePage
from practices.models.home import ict_practices

THEME_SLUG = "example-theme-digital-solutions"
THEME_SIZE = 12


class Command(BaseCommand):
    help = (
        "Feature the ICT practices on the home page and in the example theme, unless editors chose already."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        home = HomePage.objects.first()
        if home is None:
            return
        featured = home.feature_by_default()
        themes = ThemeIndexPage.objects.child_of(home).first()
        filled = 0
        if themes is not None:
            filled = self.theme(themes)
        self.stdout.write(f"Featured {len(featured)} practice(s); example theme filled with {filled}.")

    def theme(self, themes) -> int:
        theme = ThemePage.objects.child_of(themes).filter(slug=THEME_SLUG).first()
        if theme is None:
            theme = ThemePage(
                slug=THEME_SLUG,
                title="Example theme: digital solutions in the circular economy",
                introduction=(
                    "<p>A theme curated for demonstration. The practices are real, published on the European "
                    "Circular Economy Stakeholder Platform; their sectors include digital solutions or ICT. "
                    "The selection is an example of what editors can curate.</p>"
                ),
            )
            themes.add_child(instance=theme)
        if theme.items.exists() or theme.revisions.filter(user__isnull=False).exists():
            return 0
        pages = list(ict_practices(THEME_SIZE))
        for n, page in enumerate(pages):
            theme.items.create(item=page, sort_order=n)
        theme.save_revision().publish()
        return len(pages)
