"""Factories for tests: page trees (built in the test, never relied on from migrations), documents
and their text, images, collections, networks, users, page and collection restrictions, related
practices and theme items."""

import datetime

import factory
import wagtail_factories

from django.conf import settings
from django.core.files.base import ContentFile

from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import (
    BaseViewRestriction,
    Collection,
    CollectionViewRestriction,
    Page,
    PageViewRestriction,
    Site,
)

from practices.models import (
    ClusterIndexPage,
    ClusterPage,
    DocumentTextUnit,
    EventIndexPage,
    EventPage,
    HomePage,
    KBDocument,
    Network,
    PracticeDocument,
    PracticePage,
    PresentationPage,
    RelatedPractice,
    ThemeIndexPage,
    ThemeItem,
    ThemePage,
)


class HomePageFactory(wagtail_factories.PageFactory):
    title = "Home"
    slug = "home"

    class Meta:
        model = HomePage


class ClusterIndexPageFactory(wagtail_factories.PageFactory):
    title = "Clusters"
    slug = "clusters"

    class Meta:
        model = ClusterIndexPage


class ClusterPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Test Cluster {n}")
    country = "RS"

    class Meta:
        model = ClusterPage


class PracticePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Test practice {n}")
    summary = "A test practice."
    solution = "<p>Shared work.</p>"

    class Meta:
        model = PracticePage


class EventIndexPageFactory(wagtail_factories.PageFactory):
    title = "Meetings"
    slug = "meetings"

    class Meta:
        model = EventIndexPage


class EventPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Test meeting {n}")
    start_date = datetime.date(2016, 2, 18)

    class Meta:
        model = EventPage


class PresentationPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Test presentation {n}")
    presenter = "Test Presenter"

    class Meta:
        model = PresentationPage


class ThemeIndexPageFactory(wagtail_factories.PageFactory):
    title = "Themes"
    slug = "themes"

    class Meta:
        model = ThemeIndexPage


class ThemePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Test theme {n}")

    class Meta:
        model = ThemePage


class KBDocumentFactory(factory.django.DjangoModelFactory):
    """A document whose file starts as a PDF does (its text is not extracted unless a test asks)."""

    title = factory.Sequence(lambda n: f"Document {n}")
    file = factory.LazyAttribute(lambda o: ContentFile(b"%PDF-1.4 test", name=f"{o.title}.pdf"))

    class Meta:
        model = KBDocument


class NetworkFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Test Clusters Network {n}")

    class Meta:
        model = Network
        django_get_or_create = ("name",)


class PracticeDocumentFactory(factory.django.DjangoModelFactory):
    """A document attached to a practice (``page=`` is required); a new one unless ``document=`` is given."""

    document = factory.SubFactory(KBDocumentFactory)

    class Meta:
        model = PracticeDocument


class ImageFactory(factory.django.DjangoModelFactory):
    """A small PNG in the root collection unless ``collection=`` is given."""

    title = factory.Sequence(lambda n: f"Image {n}")
    file = factory.LazyFunction(get_test_image_file)

    class Meta:
        model = get_image_model()


class CollectionFactory(wagtail_factories.CollectionFactory):
    """A collection under the root one unless ``parent=`` is given."""

    name = factory.Sequence(lambda n: f"Collection {n}")
    parent = factory.LazyFunction(Collection.get_first_root_node)


class DocumentTextUnitFactory(factory.django.DjangoModelFactory):
    """The extracted text of a document's next page (or ``unit="slide"``), a new document unless
    ``document=`` is given."""

    document = factory.SubFactory(KBDocumentFactory, text_status=KBDocument.STATUS_EXTRACTED)
    number = factory.LazyAttribute(lambda o: o.document.text_units.count() + 1)
    unit = "page"
    text = factory.LazyAttribute(lambda o: f"Text of {o.unit} {o.number}.")

    class Meta:
        model = DocumentTextUnit


class ViewRestrictionFactory(factory.django.DjangoModelFactory):
    """Shown only to signed-in users, or with ``password=`` to those who know it."""

    restriction_type = factory.LazyAttribute(
        lambda o: BaseViewRestriction.PASSWORD if o.password else BaseViewRestriction.LOGIN
    )
    password = ""

    class Meta:
        abstract = True


class PageViewRestrictionFactory(ViewRestrictionFactory):
    """A restriction on a page (``page=`` is required) and the pages below it."""

    class Meta:
        model = PageViewRestriction


class CollectionViewRestrictionFactory(ViewRestrictionFactory):
    """A restriction on the documents and images of a collection, a new one unless ``collection=``
    is given."""

    collection = factory.SubFactory(CollectionFactory)

    class Meta:
        model = CollectionViewRestriction


class RelatedPracticeFactory(factory.django.DjangoModelFactory):
    """A practice (``related=``) listed as related on another (``page=``); both are required."""

    class Meta:
        model = RelatedPractice


class ThemeItemFactory(factory.django.DjangoModelFactory):
    """A page (``item=``) listed on a theme page (``page=``); both are required."""

    class Meta:
        model = ThemeItem


class UserFactory(factory.django.DjangoModelFactory):
    """A user whose password is "pw" unless given; ``groups=[...]`` gives them those roles (see
    ``practices.permissions``), ``superuser=True`` makes an administrator."""

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("pw")

    class Meta:
        model = settings.AUTH_USER_MODEL
        skip_postgeneration_save = True

    class Params:
        superuser = factory.Trait(is_superuser=True, is_staff=True)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*extracted)


def make_site():
    """A home page as the default site's root, with the three index pages under it."""
    root = Page.get_first_root_node()
    Site.objects.all().delete()
    for page in Page.objects.filter(depth=2):
        page.delete()
    home = HomePageFactory(parent=Page.objects.get(pk=root.pk))
    Site.objects.create(is_default_site=True, root_page=home, hostname="localhost", port=80)
    return {
        "home": home,
        "clusters": ClusterIndexPageFactory(parent=home),
        "events": EventIndexPageFactory(parent=home),
        "themes": ThemeIndexPageFactory(parent=home),
    }
