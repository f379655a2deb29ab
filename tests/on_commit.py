"""The one way tests run on-commit work (indexing, text extraction): tests and module-scoped data run inside
a transaction that never commits."""

from django.test import TestCase


def run_on_commit():
    """``with run_on_commit():`` runs the on-commit callbacks registered inside the block when it ends, as
    a commit would (and those they register in turn)."""
    return TestCase.captureOnCommitCallbacks(execute=True)
