"""Issue 14, "Leaks", media: /media/ serves images a visible page shows (and admin thumbnails to those
who may choose them), never documents, in every configuration (kb.views.media)."""

from __future__ import annotations

import copy

import pytest

from django.core.files.base import ContentFile

from practices.factories import (
    ClusterPageFactory,
    ImageFactory,
    KBDocumentFactory,
    PracticeDocumentFactory,
    PracticePageFactory,
    make_site,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def media_kb_data(shared_db):
    tree = make_site()
    logo = ImageFactory(title="Cluj logo")
    loose = ImageFactory(title="Unused")
    cluj = ClusterPageFactory(parent=tree["clusters"], title="Cluj IT Cluster", slug="cluj", logo=logo)
    cluj.save_revision().publish()
    draft = PracticePageFactory(parent=cluj, title="Draft", slug="draft", live=False)
    doc = KBDocumentFactory(title="Draft report", file=ContentFile(b"%PDF-1.4 secret", name="draft.pdf"))
    PracticeDocumentFactory(page=draft, document=doc)
    return {"logo": logo, "loose": loose, "doc": doc}


@pytest.fixture
def media_kb(media_kb_data, db):
    data = copy.deepcopy(media_kb_data)
    return data


def test_a_visible_clusters_logo_and_its_renditions_are_served_with_public_caching(client, media_kb):
    for url in (media_kb["logo"].file.url, media_kb["logo"].get_rendition("fill-80x80").url):
        assert url.startswith("/media/")
        response = client.get(url)
        assert response.status_code == 200, url
        assert "public" in response["Cache-Control"]
        assert response["Content-Type"].startswith("image/")


def test_documents_and_unshown_images_are_not_served_from_media(client, admin_client, media_kb):
    assert client.get(media_kb["doc"].file.url).status_code == 404
    assert admin_client.get(media_kb["doc"].file.url).status_code == 404
    assert client.get(media_kb["loose"].file.url).status_code == 404
    assert client.get("/media/../kb/settings/base.py").status_code in (400, 404)


def test_admin_thumbnails_are_served_privately_to_those_who_may_choose_them(admin_client, media_kb):
    response = admin_client.get(media_kb["loose"].get_rendition("max-165x165").url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("debug", [True, False])
def test_the_same_rules_whatever_debug_says(client, media_kb, settings, debug):
    settings.DEBUG = debug
    assert client.get(media_kb["doc"].file.url).status_code == 404
    assert client.get(media_kb["logo"].file.url).status_code == 200
