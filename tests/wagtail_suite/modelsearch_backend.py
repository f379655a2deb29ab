"""modelsearch's ``BackendTests`` against our search backend (``make test-modelsearch``, settings
``tests.wagtail_suite.modelsearch_settings``). Not named test_*.py: the main suite does not collect it.

modelsearch's test models are not pages, so our backend hands their searches to its fallback,
modelsearch's database backend (here SQLite's FTS5 backend). What that backend cannot do, modelsearch's
own TestSQLiteSearchBackend skips; here those tests are expected to fail, so one that starts passing
is noticed.
"""

import unittest

from modelsearch.test.testapp import models
from modelsearch.tests.test_backends import BackendTests

from django.test import TestCase
from django.test.utils import override_settings

# A test the SQLite FTS5 fallback fails: modelsearch skips it for that backend.
sqlite_fallback_cannot = unittest.expectedFailure


@override_settings(MODELSEARCH_BACKENDS={"default": {"BACKEND": "search.backend"}})
class TestKBSearchBackend(BackendTests, TestCase):
    backend_path = "search.backend"

    @sqlite_fallback_cannot  # no Boost() query class
    def test_boost(self):
        super().test_boost()

    @sqlite_fallback_cannot  # no search restricted to given fields
    def test_autocomplete_with_fields_arg(self):
        super().test_autocomplete_with_fields_arg()

    @sqlite_fallback_cannot  # no MatchAll/MatchNone inside another query
    def test_search_not_match_none(self):
        super().test_search_not_match_none()

    @sqlite_fallback_cannot  # no MatchAll/MatchNone inside another query
    def test_search_or_match_all(self):
        super().test_search_or_match_all()

    @sqlite_fallback_cannot  # no MatchAll/MatchNone inside another query
    def test_search_or_match_none(self):
        super().test_search_or_match_none()

    @sqlite_fallback_cannot  # no MatchAll/MatchNone inside another query
    def test_search_and_match_all(self):
        super().test_search_and_match_all()

    def test_reset_indexes(self):
        """The fallback keeps the index of other models: resetting ours empties it, as resetting the
        fallback's own does."""
        self.assertEqual(self.backend.search("JavaScript", models.Book).count(), 2)
        self.backend.reset_indexes()
        self.assertEqual(self.backend.search("JavaScript", models.Book).count(), 0)
