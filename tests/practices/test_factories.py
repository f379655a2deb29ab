"""The factories' defaults that carry a rule: where a collection goes, how a restriction is typed, how a
document's text units are numbered."""

import pytest

from wagtail.models import Collection, CollectionViewRestriction

from practices.factories import (
    CollectionFactory,
    CollectionViewRestrictionFactory,
    DocumentTextUnitFactory,
    KBDocumentFactory,
)
from practices.models import KBDocument

pytestmark = pytest.mark.django_db


def test_a_collection_goes_under_the_root_one():
    collection = CollectionFactory(name="Board papers")
    assert collection.get_parent() == Collection.get_first_root_node()
    assert CollectionFactory(parent=collection).get_parent() == collection


def test_a_collection_restriction_asks_for_a_sign_in_unless_given_a_password():
    restriction = CollectionViewRestrictionFactory()
    assert restriction.restriction_type == CollectionViewRestriction.LOGIN
    assert restriction.collection.get_parent() == Collection.get_first_root_node()
    with_password = CollectionViewRestrictionFactory(password="secret")
    assert with_password.restriction_type == CollectionViewRestriction.PASSWORD
    assert with_password.collection != restriction.collection


def test_text_units_are_numbered_from_one_within_their_document():
    doc = KBDocumentFactory()
    units = [DocumentTextUnitFactory(document=doc) for _ in range(3)]
    assert [u.number for u in units] == [1, 2, 3]
    assert units[1].text == "Text of page 2."
    slide = DocumentTextUnitFactory(unit="slide")
    assert slide.number == 1 and slide.document != doc
    assert slide.document.text_status == KBDocument.STATUS_EXTRACTED
