"""The import format: its fields, their limits, and rich text as the plain text a record carries.

Exports (``search.export``) write this format, so what is exported imports again as it was.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

TEXT_FIELDS = ("summary", "organisation", "organisation_type", "language")
SECTION_FIELDS = ("challenge", "solution", "results", "resources", "transferability")
LIST_FIELDS = ("industries", "tags", "countries")
COLUMNS = (
    "external_id",
    "title",
    "summary",
    *SECTION_FIELDS,
    "cluster",
    "country",
    "countries",
    "industries",
    "industries_inferred",
    "tags",
    "organisation",
    "organisation_type",
    "language",
    "year",
    "link",
)
MAX_LENGTHS = {
    "external_id": 100,
    "title": 255,
    "cluster": 255,
    "organisation": 255,
    "organisation_type": 120,
    "language": 60,
    "link": 500,
}


def text_to_html(text: str) -> str:
    """Plain text as escaped paragraphs, one per non-empty line."""
    return "".join(
        f"<p>{escape(line.strip(), quote=False)}</p>" for line in text.splitlines() if line.strip()
    )


class _BlockText(HTMLParser):
    BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "div", "br", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []

    def _flush(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        self.current.append(data)


def html_to_text(html: str) -> str:
    """Rich text as plain text, one line per paragraph: the inverse of ``text_to_html``."""
    parser = _BlockText()
    parser.feed(html or "")
    parser.close()
    parser._flush()
    return "\n".join(parser.blocks)


def page_values(rec: dict) -> dict:
    """The PracticePage field values a validated record stands for."""
    values = {
        "title": rec["title"],
        "summary": rec["summary"],
        "organisation": rec["organisation"],
        "organisation_type": rec["organisation_type"],
        "language": rec["language"],
        "start_year": rec["year"],
        "source_link": rec["link"],
        "external_id": rec["external_id"],
        "industries_inferred": rec["industries_inferred"],
        "countries": rec["countries"],
    }
    for name in SECTION_FIELDS:
        values[name] = text_to_html(rec[name])
    return values
