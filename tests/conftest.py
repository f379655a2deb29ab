import copy
import shutil

import pytest

from django.core.cache import cache
from django.db import transaction
from django.test import override_settings


@pytest.fixture(scope="module")
def shared_dirs(tmp_path_factory):
    """The upload and search-index folders of data built once for a module; each test gets a copy of
    them (``_media_and_index``), so a test may write its copy."""
    from search import service

    folder = tmp_path_factory.mktemp("shared")
    with override_settings(MEDIA_ROOT=folder / "media", SEARCH_INDEX_DIR=folder / "search-index"):
        service.reset_engine()
        yield folder
    service.reset_engine()


@pytest.fixture(scope="module")
def shared_db(django_db_setup, django_db_blocker, shared_dirs):
    """One transaction around a module, rolled back at its end, as Django's ``setUpTestData``: the data a
    module-scoped fixture builds here once is seen by each test of the module, and each test's own
    writes roll back to it (pytest-django's ``db`` nests a savepoint). Fixtures hand each test a
    ``copy.deepcopy`` of the objects, so changing one in a test leaves the next test's alone.

    Not for transactional tests (``transaction=True``, ``live_server``): they flush the database;
    browser tests share a live site with ``tests.browser.shared_live_site`` instead."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield shared_dirs
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture(scope="class")
def shared_class_db(shared_db, django_db_blocker):
    """As ``shared_db``, one level in: data a class-scoped fixture builds here on top of its module's is
    seen by each test of the class, and rolled back when the class ends."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield shared_db
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture(autouse=True)
def _media_and_index(request, settings, tmp_path):
    """Each test writes uploads and the search index into its own folder: a copy of the module's when
    it uses data built once for the module (``shared_dirs``)."""
    media, index = tmp_path / "media", tmp_path / "search-index"
    if "shared_dirs" in request.fixturenames:
        shared = request.getfixturevalue("shared_dirs")
        for source, target in ((shared / "media", media), (shared / "search-index", index)):
            if source.exists():
                shutil.copytree(source, target)
        # Wagtail caches the site's root paths; a test's changes to its Site roll back, the cache would not.
        cache.clear()
    settings.MEDIA_ROOT = media
    settings.SEARCH_INDEX_DIR = index


@pytest.fixture(scope="module")
def roles_data(shared_db):
    from tests.roles import build_roles

    return build_roles()


@pytest.fixture
def roles(roles_data, db):
    """Two clusters with their groups and collections, the moderators, an editor of each cluster, a
    live and a draft practice in each (``tests.roles``): built once per module."""
    return copy.deepcopy(roles_data)


@pytest.fixture
def run_on_commit():
    """Tests run in a transaction that never commits: ``with run_on_commit():`` runs the on-commit
    work (indexing, text extraction) registered inside it when the block ends, as a commit would
    (``tests.on_commit``, which module-scoped data calls directly)."""
    from tests import on_commit

    return on_commit.run_on_commit


@pytest.fixture(autouse=True)
def _no_buffered_search_counts():
    """Searches a test counted but did not answer through a request never reach another test's database."""
    from search import searchlog

    yield
    with searchlog._lock:
        searchlog._searches.clear()
        searchlog._zero.clear()


@pytest.fixture(autouse=True, scope="session")
def _drop_test_indices():
    """Pointed at a live Elasticsearch, the run leaves none of its (randomly prefixed) indices behind."""
    yield
    from django.conf import settings

    if settings.ELASTICSEARCH_URL:
        from search import service

        service.reset_engine()
        service.get_engine().drop()
