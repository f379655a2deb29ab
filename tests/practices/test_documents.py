"""Documents through the admin's real upload view: checked by content, extracted, served only when public."""

import datetime
from pathlib import Path

import pytest

from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from wagtail.models import Page

from practices.factories import (
    ClusterPageFactory,
    EventPageFactory,
    KBDocumentFactory,
    PageViewRestrictionFactory,
    PracticePageFactory,
    PresentationPageFactory,
    UserFactory,
    make_site,
)
from practices.models import KBDocument
from tests.on_commit import run_on_commit
from tests.practices.files import elf_bytes, pdf_bytes, write_pptx, write_zip_bomb


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(superuser=True))
    return client


def upload(client, name, data, title="Doc"):
    """Through the admin's upload view, with the on-commit work (the text extraction) run."""
    with run_on_commit():
        return client.post(
            reverse("wagtaildocs:add"),
            {"title": title, "file": ContentFile(data, name=name), "collection": 1},
        )


def stored_document(title, data, name):
    """A document saved as an upload is, its text extracted on commit."""
    with run_on_commit():
        return KBDocumentFactory(title=title, file=ContentFile(data, name=name))


@pytest.mark.django_db
def test_a_pdf_upload_is_extracted_page_by_page(superuser_client):
    response = upload(
        superuser_client, "slides.pdf", pdf_bytes([["Agritech partnerships"], ["Cloud lab results"]])
    )
    assert response.status_code == 302
    document = KBDocument.objects.get()
    assert document.text_status == KBDocument.STATUS_EXTRACTED
    units = list(document.text_units.values_list("number", "unit", "text"))
    assert [(n, u) for n, u, _ in units] == [(1, "page"), (2, "page")]
    assert "Cloud lab results" in units[1][2] and "Cloud lab results" not in units[0][2]
    assert document.preview  # first page rendered by pypdfium2


@pytest.mark.django_db
def test_a_pptx_upload_is_extracted_slide_by_slide(superuser_client, tmp_path):
    path = write_pptx(
        tmp_path / "deck.pptx", [("Welcome", "Intro"), ("Partnerships", "Farmers meet developers")]
    )
    assert upload(superuser_client, "deck.pptx", path.read_bytes()).status_code == 302
    document = KBDocument.objects.get()
    assert list(document.text_units.values_list("number", "unit", "title")) == [
        (1, "slide", "Welcome"),
        (2, "slide", "Partnerships"),
    ]


@pytest.mark.django_db
def test_a_renamed_executable_is_refused_with_a_clear_message(superuser_client):
    response = upload(superuser_client, "report.pdf", elf_bytes())
    assert response.status_code == 200
    assert "renamed .pdf" in response.content.decode()
    assert not KBDocument.objects.exists()


class RecordingHandler(FileUploadHandler):
    """Placed after the size limit, in front of the handlers that store: records the bytes they would get."""

    received: list[int] = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received.append(0)

    def receive_data_chunk(self, raw_data, start):
        self.received[-1] += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def recorded(settings):
    handlers = list(settings.FILE_UPLOAD_HANDLERS)
    assert handlers[0] == "practices.uploads.SizeLimitUploadHandler"
    settings.FILE_UPLOAD_HANDLERS = [handlers[0], f"{__name__}.RecordingHandler", *handlers[1:]]
    RecordingHandler.received = []
    return RecordingHandler.received


def stored_files(settings):
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_a_pdf_named_as_slides_is_refused_saying_what_it_is(superuser_client):
    response = upload(superuser_client, "slides.pptx", pdf_bytes([["Agritech partnerships"]]))
    assert response.status_code == 200
    assert "This file is a PDF document named .pptx" in response.content.decode()
    assert not KBDocument.objects.exists()


@pytest.mark.django_db
def test_an_oversize_upload_is_discarded_while_it_streams(superuser_client, settings, recorded):
    settings.KB_MAX_UPLOAD_BYTES = 1000
    data = pdf_bytes([["x" * 2000]])
    response = upload(superuser_client, "big.pdf", data)
    assert response.status_code == 200
    assert f"The file is {len(data) / 1024:.1f} kB; the largest file accepted is 1000 bytes" in (
        response.content.decode()
    )
    assert recorded and max(recorded) <= 1000  # never more than the limit passed on to be stored
    assert not KBDocument.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_a_request_too_long_to_hold_an_acceptable_file_is_not_read_past_its_fields(
    superuser_client, settings, recorded
):
    settings.KB_MAX_UPLOAD_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1000
    data = pdf_bytes([["Agritech"]]) + b"%" + b"0" * (200 * 1024)
    response = upload(superuser_client, "huge.pdf", data)
    assert response.status_code == 200
    assert "This file is too big" in response.content.decode()
    assert recorded == []  # the storing handlers never saw the file start
    assert not KBDocument.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_a_file_at_the_limit_is_accepted(superuser_client, settings, recorded):
    data = pdf_bytes([["Within the limit"]])
    settings.KB_MAX_UPLOAD_BYTES = settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = len(data)
    assert upload(superuser_client, "fits.pdf", data).status_code == 302
    assert recorded == [len(data)]
    assert KBDocument.objects.get().file.size == len(data)


@pytest.mark.django_db
def test_a_hostile_file_is_kept_and_marked_and_its_page_still_publishes(superuser_client, tmp_path):
    bomb = write_zip_bomb(tmp_path / "bomb.docx", 300 * 1024 * 1024)
    document = stored_document("Bomb", bomb.read_bytes(), "bomb.docx")
    document.refresh_from_db()
    assert document.text_status == KBDocument.STATUS_FAILED
    assert document.text_error
    assert document.file.size == bomb.stat().st_size  # kept as uploaded

    tree = make_site()
    practice = PracticePageFactory(parent=ClusterPageFactory(parent=tree["clusters"]))
    practice.attached_documents.create(document=document)
    practice.save_revision().publish()
    practice.refresh_from_db()
    assert practice.live


@pytest.mark.django_db
def test_extract_document_text_command_reports_failures(tmp_path, capsys):
    KBDocument.objects.bulk_create(
        [
            KBDocument(title="Broken", file=ContentFile(pdf_bytes([["Truncated"]])[:60], name="broken.pdf")),
            KBDocument(title="Good", file=ContentFile(pdf_bytes([["Fine text"]]), name="good.pdf")),
        ]
    )
    call_command("extract_document_text")
    out = capsys.readouterr().out
    assert "not extracted: Broken" in out
    assert "1 failed; 1 documents have their text extracted out of 2." in out


@pytest.mark.django_db
def test_documents_of_drafts_and_private_pages_are_not_served_to_visitors(client):
    tree = make_site()
    cluster = ClusterPageFactory(parent=tree["clusters"])
    public_doc, draft_doc, private_doc, slides = (
        stored_document(n, pdf_bytes([[n]]), f"{n}.pdf") for n in ("public", "draft", "private", "slides")
    )
    public = PracticePageFactory(parent=cluster)
    public.attached_documents.create(document=public_doc)
    public.save_revision().publish()
    draft = PracticePageFactory(parent=cluster, live=False)
    draft.attached_documents.create(document=draft_doc)
    draft.save_revision()
    private = PracticePageFactory(parent=cluster)
    private.attached_documents.create(document=private_doc)
    private.save_revision().publish()
    PageViewRestrictionFactory(page=private)
    event = EventPageFactory(parent=tree["events"])
    PresentationPageFactory(parent=event, slides=slides)

    assert client.get(public_doc.url).status_code == 200
    assert client.get(slides.url).status_code == 200
    assert client.get(draft_doc.url).status_code == 404
    assert client.get(private_doc.url).status_code == 404
    # Past its page's expiry, before publish_scheduled has unpublished the page.
    Page.objects.filter(pk=public.pk).update(expire_at=timezone.now() - datetime.timedelta(minutes=1))
    assert client.get(public_doc.url).status_code == 404


@pytest.mark.django_db
def test_editors_see_why_text_was_not_extracted(superuser_client):
    document = stored_document("Broken", b"%PDF-1.4 broken", "broken.pdf")
    document.refresh_from_db()
    assert document.text_status == KBDocument.STATUS_FAILED
    html = superuser_client.get(reverse("wagtaildocs:edit", args=[document.pk])).content.decode()
    assert "Text not extracted" in html and document.text_error[:30] in html


@pytest.mark.django_db
def test_presentation_shows_its_preview_and_slide_titles_and_the_preview_follows_visibility(client):
    tree = make_site()
    event = EventPageFactory(parent=tree["events"])
    public_doc, draft_doc, private_doc = (
        stored_document(n, pdf_bytes([[f"{n} opening"], ["Cloud lab results"]]), f"{n}.pdf")
        for n in ("public", "draft", "private")
    )
    public = PresentationPageFactory(parent=event, slides=public_doc)
    PresentationPageFactory(parent=event, slides=draft_doc, live=False)
    private = PresentationPageFactory(parent=event, slides=private_doc)
    PageViewRestrictionFactory(page=private)

    preview_url = reverse("document_preview", args=[public_doc.pk])
    html = client.get(public.url).content.decode()
    assert f'<img class="preview" src="{preview_url}"' in html
    assert "<li>public opening</li><li>Cloud lab results</li>" in html

    response = client.get(preview_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG\r\n\x1a\n")
    for hidden in (draft_doc, private_doc):
        hidden.refresh_from_db()
        assert hidden.preview  # rendered, just not shown to visitors
        assert client.get(reverse("document_preview", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("document_preview", args=[999_999])).status_code == 404

    client.force_login(UserFactory(superuser=True))
    assert client.get(reverse("document_preview", args=[draft_doc.pk])).status_code == 200
