"""Text from uploaded documents: what a file is (by content), and its text page by page or slide by slide.

Deliberately free of Django so it can run in a throwaway child process with resource limits:
``extract_in_subprocess`` is what a worker should call; ``extract`` trusts the file it is given.
``sniffing`` (what a file is), ``readers`` (one per format), ``limits`` (and zip bombs), ``sandbox``
(the limited child, ``__main__`` its entry point) and ``preview`` (the first page as PNG).
"""

from practices.documents.base import Extraction, ExtractionFailed, Kind, Unit, UploadRejected
from practices.documents.limits import DEFAULT_MAX_UPLOAD_BYTES, Limits
from practices.documents.preview import render_preview
from practices.documents.readers import extract
from practices.documents.sandbox import extract_in_subprocess
from practices.documents.sniffing import ACCEPTED, check_upload, sniff

__all__ = [
    "ACCEPTED",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "Extraction",
    "ExtractionFailed",
    "Kind",
    "Limits",
    "Unit",
    "UploadRejected",
    "check_upload",
    "extract",
    "extract_in_subprocess",
    "render_preview",
    "sniff",
]
