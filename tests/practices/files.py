"""Builders of real documents for tests and benchmarks, made with the same libraries the extractor reads."""

import io
import zipfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from practices.demo_slides import pdf_bytes


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    path.write_bytes(pdf_bytes(pages))
    return path


def write_encrypted_pdf(path: Path, pages: list[list[str]], user_password: str, owner_password: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    # RC4 needs no optional crypto package, so the test runs wherever pypdf does.
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")
    with path.open("wb") as f:
        writer.write(f)
    return path


def write_pptx(path: Path, slides: list[tuple[str, str]], notes: list[str] | None = None) -> Path:
    from pptx import Presentation

    presentation = Presentation()
    layout = presentation.slide_layouts[1]  # "Title and Content"
    for i, (title, body) in enumerate(slides):
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        slide.placeholders[1].text_frame.text = body
        if notes and i < len(notes):
            slide.notes_slide.notes_text_frame.text = notes[i]
    presentation.save(path)
    return path


def write_docx(path: Path, pages: list[list[str]], headings: list[str] | None = None) -> Path:
    from docx import Document

    document = Document()
    for i, paragraphs in enumerate(pages):
        if i:
            document.add_page_break()
        if headings:
            document.add_heading(headings[i], level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    document.save(path)
    return path


def write_odt(path: Path, pages: list[list[str]]) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style
    from odf.text import P

    document = OpenDocumentText()
    new_page = Style(name="NewPage", family="paragraph")
    new_page.addElement(ParagraphProperties(breakbefore="page"))
    document.automaticstyles.addElement(new_page)
    for i, paragraphs in enumerate(pages):
        for j, text in enumerate(paragraphs):
            if i and not j:
                document.text.addElement(P(stylename=new_page, text=text))
            else:
                document.text.addElement(P(text=text))
    document.save(str(path))
    return path


def write_odp(path: Path, slides: list[tuple[str, str]]) -> Path:
    from odf.draw import Frame, Page, TextBox
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout, PageLayoutProperties
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="Screen")
    layout.addElement(PageLayoutProperties(pagewidth="28cm", pageheight="21cm", printorientation="landscape"))
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Default", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    for i, (title, body) in enumerate(slides, start=1):
        page = Page(name=f"page{i}", masterpagename=master)
        for cls, text, y in (("title", title, "1cm"), ("outline", body, "5cm")):
            frame = Frame(width="24cm", height="3cm", x="2cm", y=y)
            frame.setAttrNS(PRESENTATIONNS, "class", cls)
            box = TextBox()
            box.addElement(P(text=text))
            frame.addElement(box)
            page.addElement(frame)
        document.presentation.addElement(page)
    document.save(str(path))
    return path


DOCX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


def write_zip_bomb(path: Path, expanded_bytes: int) -> Path:
    """A .docx-shaped zip whose document part inflates from a few kB to expanded_bytes."""
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            remaining = expanded_bytes
            while remaining > 0:
                member.write(chunk[: min(remaining, len(chunk))])
                remaining -= len(chunk)
    return path


def elf_bytes() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(48)


def pe_bytes() -> bytes:
    header = bytearray(b"MZ" + bytes(0x3E))
    header[0x3C:0x40] = (0x40).to_bytes(4, "little")
    return bytes(header) + b"PE\x00\x00" + b"\x64\x86" + bytes(200)
