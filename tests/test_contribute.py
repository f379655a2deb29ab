"""The public way in: the Contribute page, linked from every page's footer; the editors' guide; sign-in by e-mail."""

from django.urls import reverse

from practices.factories import UserFactory
from practices.models import ContributeSettings


def test_contribute_page_linked_from_the_footer_names_the_contact_and_the_login(roles, client, settings):
    settings.KB_BASE_URL = "http://kb.example.test:8100"
    home = client.get("/")
    assert home.status_code == 200 and f'href="{reverse("contribute")}"' in home.content.decode()
    html = client.get(reverse("contribute")).content.decode()
    assert "(The contact address has not been set yet.)" in html
    assert 'href="http://kb.example.test:8100/admin/login/"' in html
    assert "your e-mail address" in html and reverse("editors_guide") in html

    contact = ContributeSettings.load()
    contact.contact_email = "kb-editors@example.org"
    contact.save()
    html = client.get(reverse("contribute")).content.decode()
    assert 'href="mailto:kb-editors@example.org"' in html and "not been set" not in html


def test_knowledge_base_editors_set_the_contact_in_the_admin_cluster_editors_cannot(roles, client):
    url = reverse(
        "wagtailsettings:edit", args=["practices", "contributesettings", ContributeSettings.load().pk]
    )
    client.force_login(roles.editor_a)
    client.post(url, {"contact_name": "Hijack", "contact_email": "x@evil.example", "extra": ""})
    assert ContributeSettings.load().contact_email == ""
    client.force_login(roles.moderator)
    response = client.post(url, {"contact_name": "KB team", "contact_email": "kb@example.org", "extra": ""})
    assert response.status_code == 302 and ContributeSettings.load().contact_email == "kb@example.org"


def test_editors_guide_is_served_and_in_the_admin_help_menu(roles, client):
    guide = client.get(reverse("editors_guide"))
    assert guide.status_code == 200 and "Editors' guide" in guide.content.decode()
    assert client.get("/contribute/guide/img/..%2Fsettings.py").status_code == 404
    assert client.get(reverse("editors_guide_image", args=["no-such.png"])).status_code == 404
    client.force_login(roles.editor_a)
    assert reverse("editors_guide") in client.get(reverse("wagtailadmin_home")).content.decode()


def test_sign_in_with_the_e_mail_address_whatever_its_capitals(roles, client):
    user = UserFactory(
        username="ana@cluster.example.org", email="ana@cluster.example.org", password="pw-Long-123"
    )
    page = client.get(reverse("wagtailadmin_login")).content.decode()
    assert "E-mail address" in page and "Sign in with your e-mail address" in page
    response = client.post(
        reverse("wagtailadmin_login"), {"username": "Ana@Cluster.Example.org", "password": "pw-Long-123"}
    )
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == user.pk
