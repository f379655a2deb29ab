"""PDF: the text of each page (pypdf)."""

from pathlib import Path

from practices.documents.base import ExtractionFailed, Unit, _clean, _first_line
from practices.documents.limits import Limits, _too_many


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
