"""One reader per format, and ``extract``: a trusted file's text, page by page or slide by slide."""

import os
from pathlib import Path

from practices.documents.base import Extraction, ExtractionFailed
from practices.documents.limits import Limits, _check_zip
from practices.documents.readers.docx import _docx_units
from practices.documents.readers.odf import _odp_units, _odt_units
from practices.documents.readers.pdf import _pdf_units
from practices.documents.readers.pptx import _pptx_units
from practices.documents.sniffing import sniff

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
