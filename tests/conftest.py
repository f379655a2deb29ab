import pytest


@pytest.fixture(autouse=True)
def _media_and_index(settings, tmp_path):
    """Each test writes uploads and the search index into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"


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
