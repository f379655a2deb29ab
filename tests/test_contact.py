"""Contact the publisher: a message relayed by e-mail, the address never shown, kept for editors."""

from __future__ import annotations

import pytest

from django.core import mail

from kb import ratelimit
from practices.models import ContactMessage
from tests.roles import draft, published
from tests.test_permissions import login

CONTACT = "lab@cluj.example.org"


@pytest.fixture
def pages(roles):
    ratelimit.reset()
    roles.a_live.contact_name = "Ana Pop"
    roles.a_live.contact_email = CONTACT
    roles.a_live.save_revision().publish()
    roles.b_contact = published(
        roles.b, title="Vojvodina contact practice", contact_email="info@voj.example.org"
    )
    yield roles
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
