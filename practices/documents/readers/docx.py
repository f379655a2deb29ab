"""Word (DOCX): text cut into pages at the author's page breaks (python-docx)."""

from pathlib import Path

from practices.documents.base import TITLE_CHARS, Unit, _clean, _first_line
from practices.documents.limits import Limits, _too_many


class _Pager:
    """Splits flowing text into pages at explicit breaks and at the breaks the authoring program recorded."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pages: list[list[str]] = [[]]
        self.titles: list[str] = [""]
        self.fresh = True

    def text(self, fragment: str) -> None:
        if fragment:
            self.pages[-1].append(fragment)
            self.fresh = self.fresh and not fragment.strip()

    def heading(self, text: str) -> None:
        if not self.titles[-1] and text.strip():
            self.titles[-1] = " ".join(text.split())[:TITLE_CHARS]

    def hard_break(self) -> None:
        if len(self.pages) >= self.limits.max_pages:
            raise _too_many("page", self.limits)
        self.pages.append([])
        self.titles.append("")
        self.fresh = True

    def soft_break(self) -> None:
        # A recorded layout break right after an explicit one marks the same page.
        if not self.fresh:
            self.hard_break()

    def units(self) -> list[Unit]:
        units = []
        for number, (parts, title) in enumerate(zip(self.pages, self.titles, strict=True), start=1):
            text = _clean("".join(parts))
            units.append(Unit(number, "page", title or _first_line(text), text))
        return units


def _docx_units(path: Path, limits: Limits) -> list[Unit]:
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE

    document = Document(path)
    headings = {
        style.style_id
        for style in document.styles
        if style.type == WD_STYLE_TYPE.PARAGRAPH
        and (style.name or "").lower().startswith(("heading", "title"))
    }
    pager = _Pager(limits)
    _BodyReader(pager, headings).inline(document.element.body, [])
    return pager.units()


class _BodyReader:
    """Reads a document body's XML in order, giving the pager its text, headings and breaks."""

    def __init__(self, pager: _Pager, headings: set[str]):
        from docx.oxml.ns import qn

        self.qn = qn
        self.pager = pager
        self.headings = headings
        self.P, self.PPR, self.T, self.TAB, self.BR, self.CR = (
            qn(t) for t in ("w:p", "w:pPr", "w:t", "w:tab", "w:br", "w:cr")
        )
        self.RENDERED = qn("w:lastRenderedPageBreak")
        self.FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"

    def inline(self, element, collected: list[str]) -> None:
        """A run's (or any container's) text and breaks; ``collected`` gathers the text itself."""
        pager, qn = self.pager, self.qn
        for child in element:
            tag = child.tag
            if tag == self.T:
                pager.text(child.text or "")
                collected.append(child.text or "")
            elif tag == self.TAB:
                pager.text("\t")
            elif tag == self.BR:
                if child.get(qn("w:type")) == "page":
                    pager.hard_break()
                else:
                    pager.text("\n")
            elif tag == self.CR:
                pager.text("\n")
            elif tag == self.RENDERED:
                pager.soft_break()
            elif tag == self.P:
                self.paragraph(child)
            elif tag not in (self.PPR, self.FALLBACK):
                self.inline(child, collected)

    def paragraph(self, element) -> None:
        style, section_break = self._properties(element.find(self.PPR))
        collected: list[str] = []
        self.inline(element, collected)
        self.pager.text("\n")
        if style in self.headings:
            self.pager.heading("".join(collected))
        if section_break:
            self.pager.hard_break()

    def _properties(self, ppr) -> tuple[str | None, bool | None]:
        """The paragraph's style and whether a new page follows its section; a page break before it
        is taken at once."""
        qn = self.qn
        style = section_break = None
        if ppr is not None:
            before = ppr.find(qn("w:pageBreakBefore"))
            if before is not None and before.get(qn("w:val"), "true") not in ("0", "false", "off"):
                self.pager.hard_break()
            style_element = ppr.find(qn("w:pStyle"))
            style = style_element.get(qn("w:val")) if style_element is not None else None
            sect = ppr.find(qn("w:sectPr"))
            if sect is not None:
                section_type = sect.find(qn("w:type"))
                continuous = section_type is not None and section_type.get(qn("w:val")) in (
                    "continuous",
                    "nextColumn",
                )
                section_break = not continuous
        return style, section_break
