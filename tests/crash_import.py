"""Run an import whose index update after the first batch's commit never comes (it sleeps), so that
the test can kill -9 this process between the commit and the index update. Test harness only."""

import sys
import time

import django

django.setup()

from search import service  # noqa: E402

service.settle = lambda *args, **kwargs: time.sleep(120)

from tests.imports import import_file  # noqa: E402

import_file(sys.argv[1], publish=True, batch_size=2)
