"""What extraction deals in: a file's kind, its units (pages or slides), and how it fails."""

import dataclasses
import os
from dataclasses import dataclass
from typing import IO, ClassVar

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


def _clean(text: str) -> str:
    # NUL and lone surrogates break JSON consumers and PostgreSQL text columns.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").replace("\v", "\n").strip()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:TITLE_CHARS]
    return ""
