"""Text from uploaded documents: what a file is (by content), and its text page by page or slide by slide.

Deliberately free of Django so it can run in a throwaway child process with resource limits:
`extract_in_subprocess` is what a worker should call; `extract` trusts the file it is given.
"""

import argparse
import dataclasses
import io
import json
import os
import re
import resource
import signal
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ACCEPTED = "Accepted formats are PDF, PowerPoint (PPTX), Word (DOCX) and OpenDocument (ODP, ODT)."
TITLE_CHARS = 200

Source = str | os.PathLike | bytes | IO[bytes]


class UploadRejected(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ExtractionFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Kind:
    """What a file is, judged by its content; `reason` says why an unsupported file is refused."""

    name: str
    reason: str = ""

    PDF: ClassVar["Kind"]
    PPTX: ClassVar["Kind"]
    DOCX: ClassVar["Kind"]
    ODP: ClassVar["Kind"]
    ODT: ClassVar["Kind"]

    @property
    def supported(self) -> bool:
        return self.name in SUPPORTED

    @property
    def unit(self) -> str:
        return "slide" if self.name in ("pptx", "odp") else "page"

    def __str__(self) -> str:
        return self.name


Kind.PDF, Kind.PPTX, Kind.DOCX, Kind.ODP, Kind.ODT = (Kind(n) for n in ("pdf", "pptx", "docx", "odp", "odt"))
SUPPORTED = frozenset({"pdf", "pptx", "docx", "odp", "odt"})


@dataclass(frozen=True)
class Limits:
    max_pages: int = 2000
    max_uncompressed_bytes: int = 256 * 1024 * 1024
    max_compression_ratio: int = 100
    max_zip_members: int = 10_000
    # Extraction may run in the uploading editor's request: well inside gunicorn's --timeout (180 s),
    # leaving time to receive the upload; address space at half the web container's memory (768 MB).
    timeout_seconds: float = 90
    cpu_seconds: int = 60
    memory_bytes: int = 384 * 1024 * 1024


@dataclass(frozen=True)
class Unit:
    number: int
    unit: str
    title: str
    text: str


@dataclass(frozen=True)
class Extraction:
    kind: str
    units: list[Unit]
    page_count: int
    preview: bool = False

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Extraction":
        units = [Unit(int(u["number"]), u["unit"], u["title"], u["text"]) for u in data["units"]]
        return cls(str(data["kind"]), units, int(data["page_count"]), bool(data.get("preview", False)))


# ---------------------------------------------------------------- what the file is


def _human(size: int) -> str:
    for factor, label in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB")):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {label}"
    return f"{size} bytes"


_MAGIC = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "a Linux executable (ELF)"),
    (b"\xfe\xed\xfa\xce", "a macOS executable"),
    (b"\xfe\xed\xfa\xcf", "a macOS executable"),
    (b"\xce\xfa\xed\xfe", "a macOS executable"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
    (b"#!", "a script"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style or password-protected Office file (DOC, PPT)"),
    (b"{\\rtf", "a Rich Text Format (RTF) document"),
)

_OOXML = {
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": Kind.PPTX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": Kind.DOCX,
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": "a macro-enabled PowerPoint (PPTM)",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "a macro-enabled Word file (DOCM)",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml": "a PowerPoint show",
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml": "a PowerPoint template",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "a Word template",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "an Excel workbook (XLSX)",
}
_ODF = {
    "application/vnd.oasis.opendocument.presentation": Kind.ODP,
    "application/vnd.oasis.opendocument.text": Kind.ODT,
    "application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet (ODS)",
    "application/vnd.oasis.opendocument.graphics": "an OpenDocument drawing (ODG)",
}


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        return None
    with archive.open(info) as member:
        return member.read(limit)


def _describe_zip(archive: zipfile.ZipFile) -> "Kind | str":
    mimetype = _read_member(archive, "mimetype", 256)
    if mimetype is not None:
        mime = mimetype.decode("ascii", "replace").strip()
        return _ODF.get(mime, f"a packed file of type {mime}")
    types = _read_member(archive, "[Content_Types].xml", 1 << 20)
    if types is not None:
        for content_type in re.findall(rb'ContentType="([^"]+)"', types):
            found = _OOXML.get(content_type.decode("ascii", "replace"))
            if found is not None:
                return found
        return "an Office file of a kind not accepted here"
    if "META-INF/MANIFEST.MF" in archive.namelist():
        return "a Java archive (JAR)"
    return "a ZIP archive"


def _describe_damaged_zip(data: bytes) -> "Kind | str":
    """Name a zip whose directory is unreadable (a truncated upload) from its local headers."""
    names = []
    for match in re.finditer(rb"PK\x03\x04", data):
        at = match.start()
        if at + 30 > len(data):
            break
        method, size, name_len, extra_len = (
            int.from_bytes(data[at + 8 : at + 10], "little"),
            int.from_bytes(data[at + 18 : at + 22], "little"),
            int.from_bytes(data[at + 26 : at + 28], "little"),
            int.from_bytes(data[at + 28 : at + 30], "little"),
        )
        name = data[at + 30 : at + 30 + name_len]
        if name == b"mimetype" and method == zipfile.ZIP_STORED and size < 256:
            start = at + 30 + name_len + extra_len
            found = _ODF.get(data[start : start + size].decode("ascii", "replace"))
            if isinstance(found, Kind):
                return found
        names.append(name)
    if b"ppt/presentation.xml" in names:
        return Kind.PPTX
    if b"word/document.xml" in names:
        return Kind.DOCX
    return "a damaged ZIP archive"


def _describe(head: bytes, open_zip, read_start) -> "Kind | str":
    if not head:
        return "empty"
    for magic, description in _MAGIC:
        if head.startswith(magic):
            return description
    # PDF readers accept the header anywhere in the first kilobyte.
    if b"%PDF-" in head[:1024]:
        return Kind.PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with open_zip() as archive:
                return _describe_zip(archive)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
            # Kept as uploaded if it is a damaged document; extraction will then say it is damaged.
            return _describe_damaged_zip(read_start())
    import filetype

    guessed = filetype.guess(head)
    if guessed is not None:
        return f"a {guessed.extension.upper()} file ({guessed.mime})"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "an HTML page" if b"<html" in head[:1024].lower() else "a plain-text file"
    return "a file of unknown type"


def _read_start(path, size: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def sniff(source: Source, name: str | None = None) -> Kind:
    """Judge a file by its content (magic bytes, and the type recorded inside zip containers)."""
    head_size, scan = 2048, 64 * 1024 * 1024
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        found = _describe(data[:head_size], lambda: zipfile.ZipFile(io.BytesIO(data)), lambda: data[:scan])
    elif isinstance(source, str | os.PathLike):
        name = name or os.fspath(source)
        head = _read_start(source, head_size)
        found = _describe(head, lambda: zipfile.ZipFile(source), lambda: _read_start(source, scan))
    else:
        start = source.tell()

        def read_start(size: int) -> bytes:
            source.seek(start)
            return source.read(size)

        try:
            found = _describe(
                read_start(head_size), lambda: zipfile.ZipFile(source), lambda: read_start(scan)
            )
        finally:
            source.seek(start)
        name = name or getattr(source, "name", None)
    if isinstance(found, Kind):
        return found
    if found == "empty":
        return Kind("unsupported", "The file is empty.")
    extension = Path(str(name)).suffix.lower() if name else ""
    if extension in {f".{k}" for k in SUPPORTED}:
        return Kind("unsupported", f"This file is {found} renamed {extension}. {ACCEPTED}")
    return Kind("unsupported", f"This file is {found}, which is not accepted. {ACCEPTED}")


def _size_of(file) -> int:
    if isinstance(file, str | os.PathLike):
        return os.stat(file).st_size
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    try:
        return os.fstat(file.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        start = file.tell()
        size = file.seek(0, os.SEEK_END)
        file.seek(start)
        return size


_DESCRIPTIONS = {
    "pdf": "a PDF document",
    "pptx": "a PowerPoint presentation (PPTX)",
    "docx": "a Word document (DOCX)",
    "odp": "an OpenDocument presentation (ODP)",
    "odt": "an OpenDocument text (ODT)",
}


def check_upload(file, max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> Kind:
    """Refuse an upload that is too large (checked before any content is read), not a supported type,
    or named as a type it is not."""
    size = _size_of(file)
    if size > max_bytes:
        raise UploadRejected(f"The file is {_human(size)}; the largest file accepted is {_human(max_bytes)}.")
    kind = sniff(file)
    if not kind.supported:
        raise UploadRejected(kind.reason)
    name = os.fspath(file) if isinstance(file, str | os.PathLike) else getattr(file, "name", None)
    extension = Path(str(name)).suffix.lower() if name else ""
    # Browsers, viewers and the `#page=` links go by the name, so it must tell the truth.
    if extension and extension != f".{kind.name}":
        raise UploadRejected(
            f"This file is {_DESCRIPTIONS[kind.name]} named {extension}. "
            f"Rename it to .{kind.name} if that is what it should be, and upload it again."
        )
    return kind


# ---------------------------------------------------------------- reading the text


def _clean(text: str) -> str:
    # NUL and lone surrogates break JSON consumers and PostgreSQL text columns.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").replace("\v", "\n").strip()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:TITLE_CHARS]
    return ""


def _too_many(unit: str, limits: Limits) -> ExtractionFailed:
    return ExtractionFailed(
        f"The document has more than {limits.max_pages:,} {unit}s, the most that are read."
    )


def _check_zip(path: Path, kind: Kind, limits: Limits) -> None:
    """Refuse zip bombs from the central directory, before any member is inflated.

    Declared sizes are enough: zipfile never inflates a member past its declared size.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise ExtractionFailed(
                f"The file holds {len(members):,} parts; the limit is {limits.max_zip_members:,}."
            )
        total = sum(m.file_size for m in members)
        if total > limits.max_uncompressed_bytes:
            raise ExtractionFailed(
                f"The file would unpack to {_human(total)}, over the limit of "
                f"{_human(limits.max_uncompressed_bytes)}; it may be a 'zip bomb'."
            )
        for m in members:
            if m.flag_bits & 0x1:
                raise ExtractionFailed("The file is password-protected, so its text cannot be read.")
            ratio = m.file_size / max(m.compress_size, 1)
            if m.file_size > (1 << 20) and ratio > limits.max_compression_ratio:
                raise ExtractionFailed(
                    f"Part {m.filename} unpacks {ratio:,.0f} times larger than stored, "
                    "which documents never do; the file looks like a 'zip bomb'."
                )
        if kind.name in ("odp", "odt"):
            manifest = _read_member(archive, "META-INF/manifest.xml", 1 << 20) or b""
            if b"encryption-data" in manifest:
                raise ExtractionFailed("The document is password-protected, so its text cannot be read.")


def _pdf_units(path: Path, limits: Limits) -> list[Unit]:
    from pypdf.errors import DependencyError

    try:
        return _pdf_pages(path, limits)
    except DependencyError as e:
        # AES needs the optional `cryptography` package, at decryption or later when a stream is read.
        raise ExtractionFailed("The PDF is encrypted in a way this server cannot read.") from e


def _pdf_pages(path: Path, limits: Limits) -> list[Unit]:
    from pypdf import PasswordType, PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        opened = reader.decrypt("")
        if opened == PasswordType.NOT_DECRYPTED:
            raise ExtractionFailed(
                "The PDF is password-protected, so its text cannot be read. Upload a copy without a password."
            )
    count = len(reader.pages)
    if count > limits.max_pages:
        raise _too_many("page", limits)
    units = []
    for number, page in enumerate(reader.pages, start=1):
        text = _clean(page.extract_text() or "")
        units.append(Unit(number, "page", _first_line(text), text))
    return units


def _pptx_shape_texts(shapes):
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _pptx_shape_texts(shape.shapes)
        elif shape.has_text_frame:
            yield shape.text_frame.text
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                for cell in row.cells:
                    yield cell.text


def _pptx_units(path: Path, limits: Limits) -> list[Unit]:
    from pptx import Presentation

    slides = Presentation(path).slides
    if len(slides) > limits.max_pages:
        raise _too_many("slide", limits)
    units = []
    for number, slide in enumerate(slides, start=1):
        parts = list(_pptx_shape_texts(slide.shapes))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            parts.append(slide.notes_slide.notes_text_frame.text)
        title_shape = slide.shapes.title
        title = _clean(title_shape.text_frame.text) if title_shape is not None else ""
        text = _clean("\n".join(p for p in parts if p.strip()))
        units.append(Unit(number, "slide", " ".join(title.split())[:TITLE_CHARS], text))
    return units


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
    from docx.oxml.ns import qn

    document = Document(path)
    headings = {
        style.style_id
        for style in document.styles
        if style.type == WD_STYLE_TYPE.PARAGRAPH
        and (style.name or "").lower().startswith(("heading", "title"))
    }
    P, PPR, T, TAB, BR, CR = (qn(t) for t in ("w:p", "w:pPr", "w:t", "w:tab", "w:br", "w:cr"))
    RENDERED, FALLBACK = (
        qn("w:lastRenderedPageBreak"),
        "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
    )
    pager = _Pager(limits)

    def inline(element, collected: list[str]) -> None:
        for child in element:
            tag = child.tag
            if tag == T:
                pager.text(child.text or "")
                collected.append(child.text or "")
            elif tag == TAB:
                pager.text("\t")
            elif tag == BR:
                if child.get(qn("w:type")) == "page":
                    pager.hard_break()
                else:
                    pager.text("\n")
            elif tag == CR:
                pager.text("\n")
            elif tag == RENDERED:
                pager.soft_break()
            elif tag == P:
                paragraph(child)
            elif tag not in (PPR, FALLBACK):
                inline(child, collected)

    def paragraph(element) -> None:
        ppr = element.find(PPR)
        style = section_break = None
        if ppr is not None:
            before = ppr.find(qn("w:pageBreakBefore"))
            if before is not None and before.get(qn("w:val"), "true") not in ("0", "false", "off"):
                pager.hard_break()
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
        collected: list[str] = []
        inline(element, collected)
        pager.text("\n")
        if style in headings:
            pager.heading("".join(collected))
        if section_break:
            pager.hard_break()

    inline(document.element.body, [])
    return pager.units()


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


_READERS = {"pdf": _pdf_units, "pptx": _pptx_units, "docx": _docx_units, "odt": _odt_units, "odp": _odp_units}


def extract(path: str | os.PathLike, limits: Limits | None = None) -> Extraction:
    """The text of a document, per page or slide. Untrusted files belong in `extract_in_subprocess`."""
    limits = limits or Limits()
    path = Path(path)
    try:
        kind = sniff(path)
    except OSError as e:
        raise ExtractionFailed(f"The file could not be opened ({e.strerror or e}).") from e
    if not kind.supported:
        raise ExtractionFailed(kind.reason)
    try:
        if kind.name != "pdf":
            _check_zip(path, kind, limits)
        units = _READERS[kind.name](path, limits)
    except (ExtractionFailed, MemoryError, ImportError):
        raise
    except RecursionError as e:
        raise ExtractionFailed("The file is nested too deeply to be read; it may be hostile.") from e
    except Exception as e:  # Parsers raise many kinds of error on damaged input; all mean the same here.
        detail = " ".join(str(e).split())[:200] or type(e).__name__
        raise ExtractionFailed(f"The file is damaged or incomplete and could not be read ({detail}).") from e
    return Extraction(kind.name, units, len(units))


def render_preview(
    path: str | os.PathLike, kind: Kind | str, out_path: str | os.PathLike, width: int = 640
) -> bool:
    """Render the first page of a PDF to PNG; False where no registry package can render the format."""
    if str(kind) != "pdf":
        return False
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(os.fspath(path))
    except (pdfium.PdfiumError, OSError):
        return False
    try:
        if len(document) == 0:
            return False
        page = document[0]
        page_width, page_height = page.get_size()
        if page_width <= 0 or page_height <= 0:
            return False
        # Cap the height too, so a freakishly tall page cannot exhaust memory.
        scale = min(width / page_width, 4 * width / page_height)
        page.render(scale=scale).to_pil().save(out_path, format="PNG")
        return True
    except (pdfium.PdfiumError, OSError, ValueError):
        return False
    finally:
        document.close()


# ---------------------------------------------------------------- in a child process


def _limit_child(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child_command(path: Path, limits: Limits, preview_path: Path | None) -> list[str]:
    command = [sys.executable, "-m", "practices.extraction", os.fspath(path)]
    command += ["--limits", json.dumps(dataclasses.asdict(limits))]
    if preview_path is not None:
        command += ["--preview", os.fspath(preview_path)]
    return command


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _memory_reason(limits: Limits) -> str:
    return f"Reading the file needed more than {_human(limits.memory_bytes)} of memory and was stopped."


def _child_result(returncode: int, stdout: bytes, stderr: bytes, limits: Limits) -> Extraction:
    if returncode < 0:
        signum = -returncode
        if signum == signal.SIGXCPU:
            raise ExtractionFailed(
                f"Reading the file used more than {limits.cpu_seconds} seconds of processing time "
                "and was stopped."
            )
        if signum == signal.SIGKILL:
            raise ExtractionFailed(
                "Reading the file was stopped by the system, most likely for using too much memory."
            )
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        raise ExtractionFailed(f"The text extractor crashed ({name}); the file may be damaged or hostile.")
    if returncode != 0:
        if any(sign in stderr for sign in (b"MemoryError", b"failed to map", b"Cannot allocate memory")):
            raise ExtractionFailed(_memory_reason(limits))
        last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        detail = f": {last[0][:200]}" if last[0] else ""
        raise ExtractionFailed(f"The text extractor failed (exit status {returncode}){detail}.")
    try:
        payload = json.loads(stdout)
        if payload["ok"]:
            return Extraction.from_dict(payload["extraction"])
        reason = payload["reason"]
    except (ValueError, KeyError, TypeError) as e:
        raise ExtractionFailed("The text extractor gave an answer that could not be understood.") from e
    raise ExtractionFailed(str(reason))


def extract_in_subprocess(
    path: str | os.PathLike, limits: Limits | None = None, preview_path: str | os.PathLike | None = None
) -> Extraction:
    """`extract` in a child process limited in wall-clock time, CPU time and memory.

    Every way the child can fail becomes an ExtractionFailed with a reason an editor can read.
    """
    limits = limits or Limits()
    command = _child_command(Path(path), limits, Path(preview_path) if preview_path else None)
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.timeout_seconds,
            env=_child_env(),
            preexec_fn=lambda: _limit_child(limits.memory_bytes, limits.cpu_seconds),
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise ExtractionFailed(
            f"Reading the file took longer than {limits.timeout_seconds:g} seconds and was stopped."
        ) from e
    except OSError as e:
        raise ExtractionFailed(f"The text extractor could not be started ({e.strerror or e}).") from e
    return _child_result(done.returncode, done.stdout, done.stderr, limits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a document's text per page or slide as JSON.")
    parser.add_argument("path")
    parser.add_argument("--limits", default="{}", help="Limits as JSON")
    parser.add_argument("--preview", help="where to write a PNG of the first page")
    args = parser.parse_args(argv)
    limits = Limits(**json.loads(args.limits))
    try:
        extraction = extract(args.path, limits)
        if args.preview:
            rendered = render_preview(args.path, extraction.kind, args.preview)
            extraction = dataclasses.replace(extraction, preview=rendered)
        payload = {"ok": True, "extraction": extraction.to_dict()}
    except ExtractionFailed as e:
        payload = {"ok": False, "reason": e.reason}
    except MemoryError:
        payload = {"ok": False, "reason": _memory_reason(limits)}
    except ImportError as e:
        # Under RLIMIT_AS a library's shared object can fail to map; anything else is a real fault.
        if "map" not in str(e) and "allocate" not in str(e):
            raise
        payload = {"ok": False, "reason": _memory_reason(limits)}
    sys.stdout.write(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
