"""How much a document may cost to read: pages, unpacked size, time, CPU and memory; zip bombs refused
before anything is unpacked."""

import zipfile
from dataclasses import dataclass
from pathlib import Path

from practices.documents.base import ExtractionFailed, Kind

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


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


def _human(size: int) -> str:
    for factor, label in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB")):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {label}"
    return f"{size} bytes"


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        return None
    with archive.open(info) as member:
        return member.read(limit)


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


def _memory_reason(limits: Limits) -> str:
    return f"Reading the file needed more than {_human(limits.memory_bytes)} of memory and was stopped."
