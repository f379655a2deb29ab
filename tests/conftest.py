import pytest


@pytest.fixture(autouse=True)
def _media_and_index(settings, tmp_path):
    """Each test writes uploads and the search index into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"
