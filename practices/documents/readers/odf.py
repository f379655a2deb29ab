"""OpenDocument text (ODT, pages at page breaks) and presentations (ODP, slides) (odfpy)."""

from pathlib import Path

from practices.documents.base import TITLE_CHARS, Unit, _clean
from practices.documents.limits import Limits, _too_many
from practices.documents.readers.docx import _Pager


def _odf_text(node) -> str:
    from odf.namespaces import TEXTNS

    parts: list[str] = []

    def walk(n) -> None:
        for child in n.childNodes:
            if child.nodeType == child.TEXT_NODE:
                parts.append(child.data)
                continue
            q = child.qname
            if q == (TEXTNS, "s"):
                parts.append(" " * min(int(child.getAttrNS(TEXTNS, "c") or 1), 100))
            elif q == (TEXTNS, "tab"):
                parts.append("\t")
            elif q == (TEXTNS, "line-break"):
                parts.append("\n")
            elif q != (TEXTNS, "tracked-changes"):
                walk(child)
                if q in ((TEXTNS, "p"), (TEXTNS, "h")):
                    parts.append("\n")

    walk(node)
    return "".join(parts)


def _odf_page_break_styles(document) -> tuple[set[str], set[str]]:
    from odf.namespaces import FONS, STYLENS
    from odf.style import ParagraphProperties, Style

    parents, own_before, own_after = {}, set(), set()
    for container in (document.styles, document.automaticstyles):
        for style in container.getElementsByType(Style):
            name = style.getAttrNS(STYLENS, "name")
            parents[name] = style.getAttrNS(STYLENS, "parent-style-name")
            for props in style.getElementsByType(ParagraphProperties):
                if props.getAttrNS(FONS, "break-before") == "page":
                    own_before.add(name)
                if props.getAttrNS(FONS, "break-after") == "page":
                    own_after.add(name)

    def inherits(name, own: set[str]) -> bool:
        seen = set()
        while name and name not in seen:
            if name in own:
                return True
            seen.add(name)
            name = parents.get(name)
        return False

    return {n for n in parents if inherits(n, own_before)}, {n for n in parents if inherits(n, own_after)}


def _odt_units(path: Path, limits: Limits) -> list[Unit]:
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    document = load(str(path))
    break_before, break_after = _odf_page_break_styles(document)
    pager = _Pager(limits)

    def walk(node) -> None:
        for child in node.childNodes:
            if child.nodeType == child.TEXT_NODE:
                pager.text(child.data)
                continue
            q = child.qname
            if q in ((TEXTNS, "p"), (TEXTNS, "h")):
                style = child.getAttrNS(TEXTNS, "style-name")
                if style in break_before:
                    pager.hard_break()
                walk(child)
                pager.text("\n")
                if q == (TEXTNS, "h"):
                    pager.heading(_odf_text(child))
                if style in break_after:
                    pager.hard_break()
            elif q == (TEXTNS, "soft-page-break"):
                pager.soft_break()
            elif q == (TEXTNS, "s"):
                pager.text(" " * min(int(child.getAttrNS(TEXTNS, "c") or 1), 100))
            elif q == (TEXTNS, "tab"):
                pager.text("\t")
            elif q == (TEXTNS, "line-break"):
                pager.text("\n")
            elif q != (TEXTNS, "tracked-changes"):
                walk(child)

    walk(document.text)
    return pager.units()


def _odp_units(path: Path, limits: Limits) -> list[Unit]:
    from odf.draw import Frame, Page
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import load

    pages = load(str(path)).presentation.getElementsByType(Page)
    if len(pages) > limits.max_pages:
        raise _too_many("slide", limits)
    units = []
    for number, page in enumerate(pages, start=1):
        titles = [f for f in page.getElementsByType(Frame) if f.getAttrNS(PRESENTATIONNS, "class") == "title"]
        title = " ".join(_odf_text(titles[0]).split())[:TITLE_CHARS] if titles else ""
        units.append(Unit(number, "slide", title, _clean(_odf_text(page))))
    return units
