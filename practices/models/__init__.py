from .clusters import ClusterIndexPage, ClusterPage
from .contact import ContactMessage, ContactRecipient, contact_recipient
from .contribute import ContributeSettings
from .documents import DocumentTextUnit, KBDocument
from .events import EventGuest, EventIndexPage, EventPage, PresentationPage, PresentationPageTag
from .home import HomeFeatured, HomePage
from .practice import PracticeDocument, PracticePage, PracticePageTag, RelatedPractice
from .snippets import Industry, Network, Project
from .themes import ThemeIndexPage, ThemeItem, ThemePage

__all__ = [
    "ClusterIndexPage",
    "ClusterPage",
    "ContactMessage",
    "ContactRecipient",
    "ContributeSettings",
    "DocumentTextUnit",
    "EventGuest",
    "EventIndexPage",
    "EventPage",
    "HomeFeatured",
    "HomePage",
    "Industry",
    "KBDocument",
    "Network",
    "PracticeDocument",
    "PracticePage",
    "PracticePageTag",
    "PresentationPage",
    "PresentationPageTag",
    "Project",
    "RelatedPractice",
    "ThemeIndexPage",
    "ThemeItem",
    "ThemePage",
    "contact_recipient",
]
