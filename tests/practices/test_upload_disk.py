"""No upload fills the disk: nothing past the limit is written, nothing from visitors who are not signed
in, and whatever was written is gone when the request ends, refused or not."""

import copy
from pathlib import Path

import pytest

from django.core.files.base import ContentFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.urls import reverse

from practices import permissions
from practices.factories import ClusterPageFactory, UserFactory, make_site
from practices.models import KBDocument

MB = 1024 * 1024


@pytest.fixture
def temp_dir(settings, tmp_path):
    path = tmp_path / "uploads"
    path.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return path


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("tmp*.upload*"))


@pytest.fixture
def written(monkeypatch):
    """The bytes the temporary-file handler wrote, per file."""
    sizes: list[int] = []
    original_new, original_chunk = (
        TemporaryFileUploadHandler.new_file,
        TemporaryFileUploadHandler.receive_data_chunk,
    )

    def new_file(self, *args, **kwargs):
        sizes.append(0)
        return original_new(self, *args, **kwargs)

    def receive(self, raw_data, start):
        sizes[-1] += len(raw_data)
        return original_chunk(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", new_file)
    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", receive)
    return sizes


def pdf_of(size: int) -> bytes:
    head = b"%PDF-1.4\n%"
    return head + b"0" * (size - len(head))


@pytest.mark.django_db
def test_an_anonymous_post_of_a_large_file_to_the_login_page_writes_nothing(client, temp_dir, written):
    response = client.post(
        "/admin/login/",
        {"username": "nobody", "password": "x", "file": ContentFile(pdf_of(55 * MB), name="a.pdf")},
    )
    assert response.status_code == 200  # the login form again, with its error
    assert written == []  # no temporary file was even opened
    assert leftovers(temp_dir) == []


@pytest.mark.django_db
def test_an_anonymous_small_file_is_not_stored_either(client, temp_dir, written):
    response = client.post("/admin/login/", {"username": "x", "file": ContentFile(b"x" * 100, name="a.txt")})
    assert response.status_code == 200
    assert written == [] and not response.wsgi_request.FILES
    assert leftovers(temp_dir) == []


@pytest.fixture(scope="module")
def cluster_editor_data(shared_db):
    permissions.connect_signals()
    site = make_site()
    cluster = ClusterPageFactory(parent=site["clusters"], title="Cluj IT Cluster", slug="cluj")
    cluster.save_revision().publish()
    permissions.setup_roles()
    user = UserFactory(username="editor", groups=[permissions.cluster_group(cluster)])
    return user, permissions.cluster_collection(cluster)


@pytest.fixture
def cluster_editor(cluster_editor_data, db):
    """A cluster's editor and the collection they upload into: built once per module."""
    return copy.deepcopy(cluster_editor_data)


@pytest.mark.django_db
def test_a_cluster_editors_refused_60_mb_upload_leaves_nothing(
    client, temp_dir, written, cluster_editor, settings
):
    user, collection = cluster_editor
    client.force_login(user)
    response = client.post(
        reverse("wagtaildocs:add"),
        {"title": "Big", "file": ContentFile(pdf_of(60 * MB), name="big.pdf"), "collection": collection.pk},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This file is too big (60.0\xa0MB). Maximum filesize 50.0\xa0MB." in body
    assert "is not allowed" not in body  # only what is wrong
    assert written and max(written) <= settings.KB_MAX_UPLOAD_BYTES
    assert leftovers(temp_dir) == []  # removed at once, not when the worker exits
    assert not KBDocument.objects.exists()


@pytest.mark.django_db
def test_a_refused_file_in_a_request_whose_length_rules_it_out_opens_no_temporary_file(
    client, temp_dir, written, cluster_editor, settings
):
    user, collection = cluster_editor
    client.force_login(user)
    settings.KB_MAX_UPLOAD_BYTES = settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = MB
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MB
    response = client.post(
        reverse("wagtaildocs:add"),
        {"title": "Big", "file": ContentFile(pdf_of(8 * MB), name="big.pdf"), "collection": collection.pk},
    )
    assert response.status_code == 200
    assert written == [] and leftovers(temp_dir) == []


@pytest.mark.django_db
def test_an_accepted_upload_leaves_no_temporary_file(client, temp_dir, written, cluster_editor, settings):
    user, collection = cluster_editor
    client.force_login(user)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # so it goes through a temporary file
    data = pdf_of(64 * 1024)
    response = client.post(
        reverse("wagtaildocs:add"),
        {"title": "Fits", "file": ContentFile(data, name="fits.pdf"), "collection": collection.pk},
    )
    assert written == [len(data)]
    assert response.status_code in (200, 302)
    assert leftovers(temp_dir) == []
