"""An import batch's index update survives a crash between its commit and the update."""

import pytest

from django.core.management import call_command

from practices.factories import make_site
from practices.models import PracticePage
from search import service
from search.models import UnindexedChange
from tests.imports import import_records

pytestmark = pytest.mark.django_db


def rec(n):
    return {
        "external_id": f"k-{n}",
        "title": f"Kiln heat recovery {n}",
        "summary": "Waste heat warms the workshop.",
        "cluster": "Cluj IT Cluster",
        "country": "RO",
        "industries": ["C"],
        "tags": ["heat"],
        "year": 2020,
    }


RECORDS = [rec(n) for n in range(1, 6)]


@pytest.fixture
def crashed(django_capture_on_commit_callbacks):
    """An import whose batches committed, but whose process died before any index update ran."""
    make_site()
    service.rebuild(progress=False)
    with django_capture_on_commit_callbacks(execute=False) as lost:
        import_records(RECORDS, publish=True, batch_size=2)
    assert lost  # the index updates that never ran
    live = set(PracticePage.objects.live().values_list("pk", flat=True))
    assert len(live) == 5 and not live & indexed()
    return live


def indexed():
    service.reset_engine()  # as a new process would see it
    return service.get_engine().page_ids()


def test_what_the_index_owes_is_recorded_in_the_batch_transaction(crashed):
    assert set(UnindexedChange.objects.values_list("page_id", flat=True)) == crashed


def test_re_running_the_import_repairs_the_index(crashed, run_on_commit):
    with run_on_commit():
        report = import_records(RECORDS, publish=True, batch_size=2)
    assert report.summary() == "0 created, 0 updated, 5 unchanged, 0 rejected"
    assert crashed <= indexed()
    assert not UnindexedChange.objects.exists()


def test_re_running_repairs_even_what_no_record_remembers(crashed, run_on_commit):
    # A crash before this fix left no record: the import still finds the live pages the index lacks.
    UnindexedChange.objects.all().delete()
    with run_on_commit():
        import_records(RECORDS, publish=True, batch_size=2)
    assert crashed <= indexed()


def test_search_sync_catches_up(crashed, capsys):
    call_command("search_sync")
    assert "Indexed 5 pages whose change had not reached the index." in capsys.readouterr().out
    assert crashed <= indexed()
    assert not UnindexedChange.objects.exists()
    assert set(service.ranked_page_ids("kiln heat recovery")) == crashed


def test_a_normal_import_leaves_nothing_owed(run_on_commit):
    make_site()
    with run_on_commit():
        import_records(RECORDS, publish=True, batch_size=2)
    assert set(PracticePage.objects.values_list("pk", flat=True)) <= indexed()
    assert not UnindexedChange.objects.exists()
