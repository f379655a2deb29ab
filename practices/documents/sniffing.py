"""What a file is, judged by its content rather than its name; uploads refused with the reason."""

import io
import os
import re
import zipfile
from pathlib import Path

from practices.documents.base import SUPPORTED, Kind, Source, UploadRejected
from practices.documents.limits import DEFAULT_MAX_UPLOAD_BYTES, _human, _read_member

ACCEPTED = "Accepted formats are PDF, PowerPoint (PPTX), Word (DOCX) and OpenDocument (ODP, ODT)."


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
