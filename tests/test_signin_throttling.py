"""Sign-in is throttled per account and per address: the admin login and the set-password links."""

import logging

import pytest

from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from practices.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def editor():
    return UserFactory(username="editor", password="right-password-123")


def attempt(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def client_from(address):
    return Client(REMOTE_ADDR=address)


def test_an_account_is_locked_after_five_failures_with_a_clear_message(editor, settings, caplog):
    caplog.set_level(logging.WARNING, logger="axes")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        # From different addresses: the account's count, not one address's, locks it.
        assert attempt(client_from(f"10.0.0.{n + 1}"), "editor", "wrong").status_code == 200
    response = attempt(client_from("10.0.0.99"), "editor", "wrong")
    assert response.status_code == 429
    assert "Too many sign-in attempts failed for <strong>editor</strong>" in response.content.decode()
    assert "try again in 15 minutes" in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60
    # Even the right password is refused while the lock holds.
    assert attempt(client_from("10.0.0.100"), "editor", "right-password-123").status_code == 429
    assert any(
        "Locking out" in r.getMessage() and '"editor"' in r.getMessage() and "10.0.0.99" in r.getMessage()
        for r in caplog.records
    )


def test_an_address_is_locked_after_five_failures_whatever_the_account(editor, settings):
    client = client_from("10.0.1.1")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, f"guess{n}", "wrong").status_code == 200
    assert attempt(client, "guess-last", "wrong").status_code == 429
    assert attempt(client, "editor", "right-password-123").status_code == 429
    # Another address still signs in.
    assert attempt(client_from("10.0.1.2"), "editor", "right-password-123").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(editor, settings):
    client = client_from("10.0.2.1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "editor", "wrong")
    assert attempt(client, "editor", "right-password-123").status_code == 302
    client.logout()
    assert attempt(client, "editor", "wrong").status_code == 200


def test_wrong_set_password_links_are_throttled_too(editor, settings):
    uid = urlsafe_base64_encode(force_bytes(editor.pk))
    client = client_from("10.0.3.1")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.get(f"/admin/password_reset/confirm/{uid}/bad-{n}-token/")
        assert response.status_code == 200  # Wagtail's "invalid link" page
    response = client.get(f"/admin/password_reset/confirm/{uid}/another-guess/")
    assert response.status_code == 429
    assert "Too many sign-in attempts failed for <strong>editor</strong>" in response.content.decode()
    # The real link too, from that address, until the pause ends.
    token = default_token_generator.make_token(editor)
    assert client.get(f"/admin/password_reset/confirm/{uid}/{token}/").status_code == 429


def test_a_real_set_password_link_still_works(editor):
    uid = urlsafe_base64_encode(force_bytes(editor.pk))
    token = default_token_generator.make_token(editor)
    url = reverse("wagtailadmin_password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].endswith("/set-password/")
