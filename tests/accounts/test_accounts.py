"""Readers' accounts: the email address is the login, through django-allauth."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_user_has_no_username_and_logs_in_by_email():
    user = User.objects.create_user("Reader@Example.COM", "pw-123456789")
    assert User.USERNAME_FIELD == "email"
    assert not hasattr(user, "username") or user.username is None
    assert user.email == "Reader@example.com"
    assert str(user) == "Reader@example.com"


def test_create_superuser_is_staff():
    admin = User.objects.create_superuser("owner@example.com", "pw-123456789")
    assert admin.is_staff and admin.is_superuser


def test_sign_up_logs_the_reader_in_and_sends_a_verification_email(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new@example.com").exists()
    assert client.get("/").context["user"].is_authenticated
    assert any("new@example.com" in m.to for m in mail.outbox)


def test_sign_up_refuses_a_weak_password(client):
    response = client.post(
        "/accounts/signup/", {"email": "x@example.com", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="x@example.com").exists()


def test_log_in_and_out_by_email(client, reader):
    response = client.post(
        "/accounts/login/", {"login": "reader@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"] == reader
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated


def test_wrong_password_is_refused_with_a_message(client, reader):
    response = client.post("/accounts/login/", {"login": "reader@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.text


def test_password_reset_sends_an_email(client, reader):
    response = client.post("/accounts/password/reset/", {"email": "reader@example.com"})
    assert response.status_code == 302
    assert mail.outbox and mail.outbox[-1].to == ["reader@example.com"]


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"],
)
def test_account_pages_use_the_site_layout(client, url):
    page = client.get(url).text
    assert 'class="skip-link"' in page
    assert "site.css" in page
    assert page.count("<h1") == 1


def test_email_management_page_uses_the_site_layout(reader_client):
    page = reader_client.get("/accounts/email/").text
    assert 'class="tabs"' in page
    assert "reader@example.com" in page


def test_login_limits_count_the_client_behind_the_proxy_not_the_proxy(client, settings, reader):
    """Behind a reverse proxy every request comes from the proxy's address: one reader's
    failures must not lock everyone else out."""
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(12):
        client.post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.com", "password": "wrong"},
            REMOTE_ADDR="10.0.0.10",
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    response = client.post(
        "/accounts/login/",
        {"login": reader.email, "password": "correct horse battery"},
        REMOTE_ADDR="10.0.0.10",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert response.status_code == 302


def test_the_admin_log_in_goes_through_the_rate_limited_site_log_in(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
