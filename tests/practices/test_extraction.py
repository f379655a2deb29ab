import io
import re
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from practices import documents as extraction
from practices.documents import (
    ExtractionFailed,
    Kind,
    Limits,
    UploadRejected,
    check_upload,
    extract,
    sandbox,
    sniff,
)

from . import files

PDF_PAGES = [
    ["Danube cluster strategy", "Smart specialisation in Vojvodina"],
    ["Circular economy", "Pilot for electronics reuse in Ruse"],
    ["Digital innovation hubs", "Training cloud skills in Košice"],
]
SLIDES = [
    ("Opening of the meeting", "Welcome to the cluster managers"),
    ("Cybersecurity for SMEs", "Awareness campaign in Timisoara"),
    ("Next steps", "Joint call for proposals in autumn"),
]
DOC_PAGES = [
    ["Summary of the good practice", "Shared data platform for agrifood clusters"],
    ["Results achieved", "Forty companies joined the open data pilot"],
    ["Transferability", "Suitable for any region with a cluster office"],
]


def assert_each_phrase_only_on_its_unit(result, phrases_per_unit):
    assert [u.number for u in result.units] == list(range(1, len(phrases_per_unit) + 1))
    for unit, phrases in zip(result.units, phrases_per_unit, strict=True):
        for phrase in phrases:
            assert phrase in unit.text
            others = [u.number for u in result.units if u is not unit and phrase in u.text]
            assert others == [], f"{phrase!r} also found on {others}"


# ---------------------------------------------------------------- extraction of real files


def test_pdf_text_is_found_on_its_page(tmp_path):
    result = extract(files.write_pdf(tmp_path / "talk.pdf", PDF_PAGES))

    assert (result.kind, result.page_count) == ("pdf", 3)
    assert {u.unit for u in result.units} == {"page"}
    assert_each_phrase_only_on_its_unit(result, PDF_PAGES)
    assert [u.title for u in result.units] == [lines[0] for lines in PDF_PAGES]


def test_pptx_text_and_notes_are_found_on_their_slide(tmp_path):
    path = files.write_pptx(tmp_path / "talk.pptx", SLIDES, notes=["Speaker reminder about the budget"])

    result = extract(path)

    assert (result.kind, result.page_count) == ("pptx", 3)
    assert {u.unit for u in result.units} == {"slide"}
    assert [u.title for u in result.units] == [title for title, _ in SLIDES]
    assert_each_phrase_only_on_its_unit(
        result, [[*SLIDES[0], "Speaker reminder about the budget"], list(SLIDES[1]), list(SLIDES[2])]
    )


def test_docx_text_is_found_on_its_page_with_heading_as_title(tmp_path):
    headings = ["Summary", "Results", "Transfer"]
    path = files.write_docx(tmp_path / "practice.docx", DOC_PAGES, headings=headings)

    result = extract(path)

    assert (result.kind, result.page_count) == ("docx", 3)
    assert [u.title for u in result.units] == headings
    assert_each_phrase_only_on_its_unit(result, DOC_PAGES)


def _add_rendered_page_break(paragraph):
    from docx.oxml import OxmlElement

    paragraph.runs[0]._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))


def test_docx_pages_recorded_by_word_are_used_and_not_double_counted(tmp_path):
    from docx import Document

    document = Document()
    document.add_paragraph("First page text")
    _add_rendered_page_break(document.add_paragraph("Second page flowed here"))
    document.add_page_break()
    # Word records the layout break again at the start of a page it began for an explicit break.
    _add_rendered_page_break(document.add_paragraph("Third page after explicit break"))
    path = tmp_path / "word.docx"
    document.save(path)

    result = extract(path)

    assert_each_phrase_only_on_its_unit(
        result, [["First page text"], ["Second page flowed here"], ["Third page after explicit break"]]
    )


def test_odt_text_is_found_on_its_page(tmp_path):
    result = extract(files.write_odt(tmp_path / "practice.odt", DOC_PAGES))

    assert (result.kind, result.page_count) == ("odt", 3)
    assert_each_phrase_only_on_its_unit(result, DOC_PAGES)


def test_odp_text_is_found_on_its_slide(tmp_path):
    result = extract(files.write_odp(tmp_path / "talk.odp", SLIDES))

    assert (result.kind, result.page_count) == ("odp", 3)
    assert [u.title for u in result.units] == [title for title, _ in SLIDES]
    assert_each_phrase_only_on_its_unit(result, [list(s) for s in SLIDES])


@pytest.mark.parametrize(
    "build, kind",
    [
        (lambda p: files.write_pdf(p, PDF_PAGES), "pdf"),
        (lambda p: files.write_pptx(p, SLIDES), "pptx"),
        (lambda p: files.write_docx(p, DOC_PAGES), "docx"),
        (lambda p: files.write_odt(p, DOC_PAGES), "odt"),
        (lambda p: files.write_odp(p, SLIDES), "odp"),
    ],
)
def test_documents_are_recognised_by_content_whatever_their_name(tmp_path, build, kind):
    path = build(tmp_path / "misnamed.txt")
    data = path.read_bytes()

    assert sniff(path) == Kind(kind)
    assert sniff(data) == Kind(kind)
    assert sniff(io.BytesIO(data)) == Kind(kind)
    assert extract(path).kind == kind
    # ... but an upload must be named for what it is.
    with pytest.raises(UploadRejected, match=rf"named \.txt\. Rename it to \.{kind} if"):
        check_upload(path)
    renamed = path.rename(tmp_path / f"named.{kind}")
    assert check_upload(renamed) == Kind(kind)


@pytest.mark.parametrize(
    "build, name, message",
    [
        (lambda p: files.write_pdf(p, PDF_PAGES), "slides.pptx", "This file is a PDF document named .pptx."),
        (
            lambda p: files.write_pptx(p, SLIDES),
            "report.pdf",
            "This file is a PowerPoint presentation (PPTX) named .pdf.",
        ),
        (
            lambda p: files.write_docx(p, DOC_PAGES),
            "talk.odp",
            "This file is a Word document (DOCX) named .odp.",
        ),
    ],
    ids=["pdf-as-pptx", "pptx-as-pdf", "docx-as-odp"],
)
def test_a_document_named_as_another_type_is_refused(tmp_path, build, name, message):
    path = build(tmp_path / name)

    with pytest.raises(UploadRejected, match=re.escape(message)):
        check_upload(path)


def test_page_limit_is_enforced_for_every_kind(tmp_path):
    limits = Limits(max_pages=2)
    paths = [
        files.write_pdf(tmp_path / "a.pdf", PDF_PAGES),
        files.write_pptx(tmp_path / "a.pptx", SLIDES),
        files.write_docx(tmp_path / "a.docx", DOC_PAGES),
        files.write_odt(tmp_path / "a.odt", DOC_PAGES),
        files.write_odp(tmp_path / "a.odp", SLIDES),
    ]
    for path in paths:
        with pytest.raises(ExtractionFailed, match=r"more than 2 (page|slide)s"):
            extract(path, limits)
        assert extract(path, Limits(max_pages=3)).page_count == 3


# ---------------------------------------------------------------- broken and hostile files


def test_truncated_pdf_is_accepted_as_upload_but_reported_as_damaged(tmp_path):
    data = files.pdf_bytes(PDF_PAGES)
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) * 2 // 3])

    assert check_upload(path) == Kind.PDF
    with pytest.raises(ExtractionFailed, match="damaged or incomplete"):
        extract(path)


@pytest.mark.parametrize(
    "name, kind", [("deck.pptx", Kind.PPTX), ("report.docx", Kind.DOCX), ("deck.odp", Kind.ODP)]
)
def test_truncated_office_file_is_still_recognised_and_reported_as_damaged(tmp_path, name, kind):
    builders = {
        "pptx": lambda p: files.write_pptx(p, SLIDES),
        "docx": lambda p: files.write_docx(p, DOC_PAGES),
        "odp": lambda p: files.write_odp(p, SLIDES),
    }
    whole = builders[kind.name](tmp_path / f"whole-{name}").read_bytes()
    path = tmp_path / name
    path.write_bytes(whole[: len(whole) // 2])

    assert check_upload(path) == kind
    with pytest.raises(ExtractionFailed, match="damaged or incomplete"):
        extract(path)


def test_password_protected_pdf_is_reported(tmp_path):
    path = files.write_encrypted_pdf(tmp_path / "locked.pdf", PDF_PAGES, "secret", "owner-secret")

    assert check_upload(path) == Kind.PDF
    with pytest.raises(ExtractionFailed, match="password-protected"):
        extract(path)


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    path = files.write_encrypted_pdf(tmp_path / "restricted.pdf", PDF_PAGES, "", "owner-secret")

    assert_each_phrase_only_on_its_unit(extract(path), PDF_PAGES)


def test_pdf_encryption_needing_a_missing_package_is_reported(monkeypatch, tmp_path):
    import pypdf
    from pypdf.errors import DependencyError

    def needs_cryptography(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(pypdf.PdfReader, "decrypt", needs_cryptography)
    path = files.write_encrypted_pdf(tmp_path / "aes.pdf", PDF_PAGES, "", "owner-secret")

    with pytest.raises(ExtractionFailed, match="encrypted in a way this server cannot read"):
        extract(path)


def test_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    path = files.write_zip_bomb(tmp_path / "bomb.docx", 64 * 1024 * 1024)
    assert path.stat().st_size < 200_000

    # Kept as uploaded: it looks like a DOCX; the extractor refuses it.
    assert check_upload(path) == Kind.DOCX
    started = time.perf_counter()
    with pytest.raises(ExtractionFailed, match="zip bomb"):
        extract(path)
    assert time.perf_counter() - started < 1.0


def test_total_unpacked_size_is_limited(tmp_path):
    path = files.write_docx(tmp_path / "ok.docx", DOC_PAGES)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(path).infolist())

    with pytest.raises(ExtractionFailed, match="would unpack to .* over the limit"):
        extract(path, Limits(max_uncompressed_bytes=unpacked - 1))
    assert extract(path, Limits(max_uncompressed_bytes=unpacked)).page_count == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (files.pe_bytes(), "This file is a Windows executable renamed .pdf"),
        (files.elf_bytes(), "This file is a Linux executable (ELF) renamed .pdf"),
    ],
    ids=["windows", "linux"],
)
def test_renamed_executable_is_refused(tmp_path, content, message):
    path = tmp_path / "slides.pdf"
    path.write_bytes(content)

    with pytest.raises(UploadRejected, match=re.escape(message)) as refused:
        check_upload(path)
    assert isinstance(refused.value, ValueError)
    with pytest.raises(ExtractionFailed, match=re.escape(message)):
        extract(path)


def _xlsx_shaped() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            files.DOCX_CONTENT_TYPES.replace(
                "wordprocessingml.document.main+xml", "spreadsheetml.sheet.main+xml"
            ),
        )
    return out.getvalue()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "PNG file"),
        (b"Just some notes from the meeting\n", "plain-text file"),
        (_xlsx_shaped(), "Excel workbook"),
        (b"PK\x03\x04" + bytes(40), "damaged ZIP archive"),
        (b"", "The file is empty"),
    ],
    ids=["png", "text", "xlsx", "broken-zip", "empty"],
)
def test_other_content_is_refused_with_a_description(tmp_path, content, message):
    path = tmp_path / "upload.bin"
    path.write_bytes(content)

    with pytest.raises(UploadRejected, match=message):
        check_upload(path)


class _Unreadable(io.RawIOBase):
    """An upload whose size is known but whose content must not be touched."""

    name = "huge.pdf"
    size = 51 * 1024 * 1024

    def readinto(self, buffer):
        raise AssertionError("content was read before the size check")


def test_oversize_upload_is_refused_before_reading():
    with pytest.raises(UploadRejected, match=r"The file is 51 MB; the largest file accepted is 50 MB"):
        check_upload(_Unreadable())


def test_size_limit_is_configurable(tmp_path):
    path = files.write_pdf(tmp_path / "a.pdf", PDF_PAGES)
    size = path.stat().st_size

    assert check_upload(path, max_bytes=size) == Kind.PDF
    with pytest.raises(UploadRejected, match="largest file accepted"):
        check_upload(path, max_bytes=size - 1)


def test_django_upload_is_checked_and_left_at_its_start(tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("talk.pptx", files.write_pptx(tmp_path / "t.pptx", SLIDES).read_bytes())
    assert check_upload(upload) == Kind.PPTX
    assert upload.tell() == 0

    disguised = SimpleUploadedFile("talk.pptx", files.pe_bytes())
    with pytest.raises(UploadRejected, match="Windows executable renamed .pptx"):
        check_upload(disguised)


# ---------------------------------------------------------------- preview


def test_preview_renders_first_pdf_page(tmp_path):
    path = files.write_pdf(tmp_path / "talk.pdf", PDF_PAGES)
    out = tmp_path / "preview.png"

    assert extraction.render_preview(path, Kind.PDF, out, width=320)
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.width == 320
        # The page has dark text on white: a blank render would have one colour.
        assert len(image.convert("L").getcolors(256)) > 2


def test_preview_is_declined_where_it_cannot_be_rendered(tmp_path):
    out = tmp_path / "preview.png"
    pptx = files.write_pptx(tmp_path / "talk.pptx", SLIDES)
    locked = files.write_encrypted_pdf(tmp_path / "locked.pdf", PDF_PAGES, "secret", "owner")

    assert not extraction.render_preview(pptx, Kind.PPTX, out)
    assert not extraction.render_preview(locked, Kind.PDF, out)
    assert not out.exists()


# ---------------------------------------------------------------- in a child process


def test_subprocess_gives_the_same_result_and_a_preview(tmp_path):
    path = files.write_pdf(tmp_path / "talk.pdf", PDF_PAGES)
    preview = tmp_path / "preview.png"

    result = extraction.extract_in_subprocess(path, preview_path=preview)

    assert result.preview is True
    assert result.units == extract(path).units
    with Image.open(preview) as image:
        assert image.width == 640


def test_subprocess_reports_the_extractors_reason(tmp_path):
    path = files.write_encrypted_pdf(tmp_path / "locked.pdf", PDF_PAGES, "secret", "owner")

    with pytest.raises(ExtractionFailed, match="password-protected"):
        extraction.extract_in_subprocess(path)


def test_subprocess_is_stopped_at_the_time_limit(tmp_path):
    path = files.write_pdf(tmp_path / "talk.pdf", PDF_PAGES)

    with pytest.raises(ExtractionFailed, match="took longer than 0.001 seconds"):
        extraction.extract_in_subprocess(path, Limits(timeout_seconds=0.001))


def test_subprocess_too_small_for_the_memory_limit_is_reported(tmp_path):
    path = files.write_pdf(tmp_path / "talk.pdf", PDF_PAGES)

    with pytest.raises(ExtractionFailed, match="needed more than 20 MB of memory"):
        extraction.extract_in_subprocess(path, Limits(memory_bytes=20 * 1024 * 1024))


def _child_runs(monkeypatch, code: str) -> None:
    monkeypatch.setattr(sandbox, "_child_command", lambda *args: [sys.executable, "-c", code])


def test_memory_limit_applies_inside_the_child(monkeypatch, tmp_path):
    # Without the limit this allocation succeeds and prints nothing, which would read as a bad answer.
    _child_runs(monkeypatch, "x = bytearray(300 * 2**20)")

    with pytest.raises(ExtractionFailed, match="needed more than 200 MB of memory"):
        extraction.extract_in_subprocess(tmp_path / "any.pdf", Limits(memory_bytes=200 * 1024 * 1024))


def test_cpu_limit_applies_inside_the_child(monkeypatch, tmp_path):
    _child_runs(monkeypatch, "while True: pass")

    with pytest.raises(ExtractionFailed, match="more than 1 seconds of processing time"):
        extraction.extract_in_subprocess(tmp_path / "any.pdf", Limits(cpu_seconds=1, timeout_seconds=30))


@pytest.mark.parametrize(
    "code, message",
    [
        ("import os; os.abort()", r"crashed \(SIGABRT\)"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "stopped by the system"),
        ("print('Traceback? no, just chatter')", "could not be understood"),
        ("print('{\"ok\": true}')", "could not be understood"),
        ("raise SystemExit('extractor broke')", r"exit status 1\): extractor broke"),
    ],
)
def test_every_child_failure_becomes_a_plain_reason(monkeypatch, tmp_path, code, message):
    _child_runs(monkeypatch, code)

    with pytest.raises(ExtractionFailed, match=message):
        extraction.extract_in_subprocess(tmp_path / "any.pdf")


def test_default_limits_fit_the_shipped_web_server():
    root = Path(__file__).resolve().parents[2]
    compose = (root / "docker-compose.yml").read_text()
    dockerfile = (root / "Dockerfile").read_text()
    timeouts = {int(t) for t in re.findall(r'--timeout"?,? "?(\d+)', compose + dockerfile)}
    web = compose[compose.index("\n  web:") :]
    memory_mb = int(re.search(r"mem_limit: (\d+)m", web).group(1))

    assert len(timeouts) == 1, "gunicorn's --timeout differs between docker-compose.yml and Dockerfile"
    # Extraction may run in the upload request: it must end well before gunicorn kills the worker.
    assert Limits().timeout_seconds <= timeouts.pop() / 2
    assert Limits().cpu_seconds <= Limits().timeout_seconds
    # One child beside the gunicorn workers must fit in the container.
    assert Limits().memory_bytes <= memory_mb * 1024 * 1024 / 2
