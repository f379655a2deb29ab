"""Contact the publisher: a message relayed by e-mail, the address never shown, kept for editors."""

from __future__ import annotations

import copy

import pytest

from django.core import mail

from kb import ratelimit
from practices.models import ContactMessage, ContributeSettings
from tests.roles import draft, published
from tests.test_permissions import login

CONTACT = "lab@cluj.example.org"


@pytest.fixture(scope="module")
def contact_pages_data(roles_data):
    roles = roles_data
    roles.a_live.contact_name = "Ana Pop"
    roles.a_live.contact_email = CONTACT
    roles.a_live.save_revision().publish()
    roles.b_contact = published(
        roles.b, title="Vojvodina contact practice", contact_email="info@voj.example.org"
    )
    return roles


@pytest.fixture
def pages(contact_pages_data, db):
    """The roles, with a practice of each cluster that has its own contact: built once per module."""
    ratelimit.reset()
    yield copy.deepcopy(contact_pages_data)
    ratelimit.reset()


def post(client, page, ip="10.0.0.1", **data):
    form = {
        "name": "Marko Marković",
        "email": "marko@example.net",
        "message": "Could we visit your lab in May?",
    }
    form.update(data)
    return client.post(f"/practices/{page.pk}/contact/", form, REMOTE_ADDR=ip)


def test_the_page_offers_the_form_and_never_shows_the_address(pages, client):
    html = client.get(pages.a_live.url).content.decode()
    assert "Contact the publisher" in html and f'action="/practices/{pages.a_live.pk}/contact/"' in html
    assert CONTACT not in html and "sign in to see" not in html
    assert 'name="website"' in html  # the honeypot


def test_a_message_is_relayed_by_email_kept_and_confirmed(pages, client):
    response = post(client, pages.a_live)
    assert response.status_code == 302 and response["Location"].endswith("?contact=sent#contact")
    (email,) = mail.outbox
    assert email.to == [CONTACT] and email.reply_to == ["marko@example.net"]
    assert "Could we visit your lab in May?" in email.body and pages.a_live.title in email.subject
    message = ContactMessage.objects.get()
    assert message.page_id == pages.a_live.pk and message.sent and message.name == "Marko Marković"
    html = client.get(response["Location"]).content.decode()
    assert "your message has been sent to Ana Pop" in html
    assert CONTACT not in html


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "   "}, "name"),
        ({"email": "not an address"}, "email"),
        ({"message": "Hi"}, "message"),
        ({"message": "x" * 3001}, "message"),
        ({"name": "n" * 101}, "name"),
    ],
)
def test_bad_input_shows_the_form_again_with_messages(pages, client, data, field):
    response = post(client, pages.a_live, **data)
    assert response.status_code == 400
    assert field in response.context["contact_form"].errors
    html = response.content.decode()
    assert "Please correct the fields marked below." in html and 'class="errorlist"' in html
    # What the member typed is kept.
    assert "marko@example.net" in html or "Could we visit your lab in May?" in html
    assert not mail.outbox and not ContactMessage.objects.exists()


def test_the_honeypot_sends_and_keeps_nothing_but_looks_the_same(pages, client):
    response = post(client, pages.a_live, website="http://spam.example")
    assert response.status_code == 302 and response["Location"].endswith("?contact=sent#contact")
    assert not mail.outbox and not ContactMessage.objects.exists()


def test_a_second_burst_from_one_address_is_refused(pages, client, settings):
    settings.KB_CONTACT_MESSAGES_PER_HOUR = 3
    for _ in range(3):
        assert post(client, pages.a_live).status_code == 302
    refused = post(client, pages.a_live, message="A fourth message, too many.")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    html = refused.content.decode()
    assert "You have sent 3 messages in the last hour" in html
    assert "A fourth message, too many." in html  # kept for the member to send later
    assert len(mail.outbox) == 3 and ContactMessage.objects.count() == 3
    # Another address is not held back by it.
    assert post(client, pages.a_live, ip="10.0.0.2").status_code == 302


def test_no_form_for_pages_without_a_contact_drafts_or_by_get(pages, client):
    no_contact = published(pages.a, title="No contact here")
    assert "Contact the publisher" not in client.get(no_contact.url).content.decode()
    assert post(client, no_contact).status_code == 404
    hidden = draft(pages.a, title="Draft with contact", contact_email="x@example.org")
    assert post(client, hidden).status_code == 404
    assert client.get(f"/practices/{pages.a_live.pk}/contact/").status_code == 405
    assert post(client, pages.a_live, ip="10.0.0.9").status_code == 302


def test_editors_read_messages_of_their_own_clusters_only(pages, client):
    post(client, pages.a_live)
    post(client, pages.b_contact, ip="10.0.0.3", message="A question for Vojvodina.")
    mine = ContactMessage.objects.get(page=pages.a_live)
    theirs = ContactMessage.objects.get(page=pages.b_contact)
    index = "/admin/contact_messages/"

    html = login(client, pages.moderator).get(index).content.decode()
    assert pages.a_live.title in html and pages.b_contact.title in html

    html = login(client, pages.editor_a).get(index).content.decode()
    assert pages.a_live.title in html and pages.b_contact.title not in html
    assert client.get(f"{index}inspect/{mine.pk}/").status_code == 200
    assert client.get(f"{index}inspect/{theirs.pk}/").status_code == 404
    # A record: nobody adds, edits or deletes messages in the admin, not even a superuser.
    login(client, pages.admin)
    assert client.get(index).status_code == 200
    for url in (f"{index}new/", f"{index}edit/{mine.pk}/", f"{index}delete/{mine.pk}/"):
        assert client.get(url).status_code in (302, 403, 404)
    assert ContactMessage.objects.count() == 2


CLUSTER_CONTACT = "hello@cluj.example.org"
EDITORS = "kb-editors@example.org"


@pytest.fixture
def no_contact(pages):
    """A live practice of Cluj without a contact e-mail of its own."""
    pages.plain = published(pages.a, title="Cluj practice without a contact")
    return pages


def set_cluster_contact(cluster, address):
    cluster.contact_email = address
    cluster.save_revision().publish()


def set_editors_contact(address):
    editors = ContributeSettings.load()
    editors.contact_email = address
    editors.save()


def test_without_its_own_contact_a_practice_relays_to_its_clusters_contact(no_contact, client):
    set_cluster_contact(no_contact.a, CLUSTER_CONTACT)
    set_editors_contact(EDITORS)  # the cluster's own address comes first
    html = client.get(no_contact.plain.url).content.decode()
    assert "Contact the publisher" in html and f"Write to {no_contact.a.title}, the publisher" in html
    assert CLUSTER_CONTACT not in html and EDITORS not in html
    response = post(client, no_contact.plain)
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.to == [CLUSTER_CONTACT] and email.reply_to == ["marko@example.net"]
    assert "your cluster's practice" in email.body and no_contact.plain.title in email.subject
    message = ContactMessage.objects.get()
    assert message.page_id == no_contact.plain.pk and message.relayed_to == ContactMessage.TO_CLUSTER
    assert message.sent
    html = client.get(response["Location"]).content.decode()
    assert f"your message has been sent to {no_contact.a.title}" in html and CLUSTER_CONTACT not in html


def test_without_any_publisher_contact_the_editors_pass_the_message_on(no_contact, client):
    set_editors_contact(EDITORS)
    html = client.get(no_contact.plain.url).content.decode()
    assert "The knowledge-base editors will pass your message to the publisher" in html
    assert EDITORS not in html and 'name="website"' in html
    response = post(client, no_contact.plain, ip="10.0.0.4")
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.to == [EDITORS] and email.reply_to == ["marko@example.net"]
    assert "pass it to the publisher" in email.body and no_contact.a.title in email.body
    assert ContactMessage.objects.get().relayed_to == ContactMessage.TO_EDITORS
    html = client.get(response["Location"]).content.decode()
    assert "sent to the knowledge-base editors, who will pass it to the publisher" in html
    # The practice's own contact, where it has one, still receives its messages itself.
    mail.outbox.clear()
    assert post(client, no_contact.a_live, ip="10.0.0.5").status_code == 302
    assert mail.outbox[0].to == [CONTACT]
    assert ContactMessage.objects.get(page=no_contact.a_live).relayed_to == ContactMessage.TO_PRACTICE


def test_relayed_messages_keep_the_limits_and_the_honeypot(no_contact, client, settings):
    set_editors_contact(EDITORS)
    assert post(client, no_contact.plain, website="http://spam.example").status_code == 302
    assert post(client, no_contact.plain, message="Hi").status_code == 400
    assert not mail.outbox and not ContactMessage.objects.exists()
    settings.KB_CONTACT_MESSAGES_PER_HOUR = 1
    assert post(client, no_contact.plain).status_code == 302
    assert post(client, no_contact.plain).status_code == 429
    assert len(mail.outbox) == 1


def test_no_address_anywhere_means_no_form(no_contact, client):
    set_cluster_contact(no_contact.b, "info@voj.example.org")  # another cluster's address is not used
    html = client.get(no_contact.plain.url).content.decode()
    assert "Contact the publisher" not in html
    assert post(client, no_contact.plain).status_code == 404
    assert not mail.outbox and not ContactMessage.objects.exists()


def test_a_clusters_editors_set_its_contact_in_its_profile_and_it_is_never_shown(no_contact, client):
    login(client, no_contact.editor_a)
    form = client.get(f"/admin/pages/{no_contact.a.pk}/edit/").context["form"]
    assert "contact_email" in form.fields
    set_cluster_contact(no_contact.a, CLUSTER_CONTACT)
    client.logout()
    for url in (no_contact.a.url, "/clusters/", f"/api/v2/pages/{no_contact.a.pk}/"):
        assert CLUSTER_CONTACT not in client.get(url).content.decode(), url
