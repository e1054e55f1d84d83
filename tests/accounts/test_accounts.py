"""Readers' accounts: the email address is the login, through django-allauth."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from config.languages import address
from tests.accounts.flows import log_in_by_code, sign_up

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


def test_the_user_looked_up_on_each_request_is_the_same_as_the_orms(django_assert_num_queries):
    """Authentication's `get(pk=…)` is one plain query; it gives the very values the ORM
    gives (aware datetimes, booleans), so saving that user changes nothing."""
    from django.utils import timezone

    user = User.objects.create_user("reader@example.com", "pw-123456789", is_staff=True)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    expected = User.objects.filter(pk=user.pk).first()
    with django_assert_num_queries(1):
        found = User.objects.get(pk=user.pk)
    fields = [field.attname for field in User._meta.concrete_fields]
    assert [getattr(found, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert timezone.is_aware(found.last_login) and found.is_staff is True
    found.save()
    assert User.objects.filter(pk=user.pk).values("last_login", "date_joined").get() == {
        "last_login": expected.last_login,
        "date_joined": expected.date_joined,
    }
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=user.pk + 1000)


def test_sign_up_asks_only_for_an_email_address(client):
    form = client.get("/accounts/signup/").context["form"]
    assert [name for name, field in form.fields.items() if field.required] == ["email"]
    assert "password2" not in form.fields


def test_sign_up_with_an_email_address_and_the_emailed_code_logs_the_reader_in(client):
    response = sign_up(client, "new@example.com")
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert client.get("/").context["user"] == user
    assert not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified


def test_log_in_by_emailed_code(client, reader):
    response = log_in_by_code(client, reader.email)
    assert response.status_code == 302
    assert client.get("/").context["user"] == reader


def test_asking_for_codes_is_rate_limited_per_address(client, reader):
    responses = [Client().post("/accounts/login/code/", {"email": reader.email}) for _ in range(4)]
    assert [r.status_code for r in responses] == [302, 302, 302, 200]
    assert "Too many failed login attempts" in responses[-1].text
    assert len([m for m in mail.outbox if reader.email in m.to]) == 3


def test_the_log_in_page_offers_the_emailed_code_first_and_the_password_second(client):
    page = client.get("/accounts/login/?next=/series/ai/").text
    code_form = page.index('action="/accounts/login/code/')
    assert code_form < page.index('name="email"') < page.index('name="password"')
    assert page.count('name="next" value="/series/ai/"') == 2


def test_sign_up_refuses_a_weak_password_when_one_is_given(client):
    response = client.post("/accounts/signup/", {"email": "x@example.com", "password1": "123"})
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
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.10"]  # the proxy's own address
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


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("en", "[Lessons] Sign-In Code", "Your sign-in code is listed below."),
        ("id", "[Lessons] Kode masuk", "Kode masuk kamu ada di bawah ini."),
    ],
)
def test_account_emails_speak_the_readers_language_and_name_the_site(language, subject, line):
    Client().post(address("/accounts/signup/", language), {"email": "new@example.com"})
    message = mail.outbox[-1]
    assert message.subject == subject
    assert line in message.body
    assert "Lessons" in message.body


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/signup/", lambda email: {"email": email}),
        ("/accounts/login/", lambda email: {"login": email, "password": "not the password"}),
        ("/accounts/password/reset/", lambda email: {"email": email}),
        ("/accounts/login/code/", lambda email: {"email": email}),
    ],
    ids=["sign-up", "log-in", "password reset", "log-in by code"],
)
def test_no_page_tells_whether_an_address_has_an_account(reader, url, data):
    """Known and unknown addresses get the same answer; only the mailbox learns more."""
    answers = []
    for email in (reader.email, "nobody-here@example.com"):
        response = Client().post(url, data(email))
        page = response.content.decode().replace(email, "EMAIL")
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        answers.append((response.status_code, response.get("Location"), page))
    assert answers[0] == answers[1]


def test_log_out_is_a_link_to_a_page_that_asks_first(reader_client):
    """Pages carry no form for logging out, so no CSRF token is worked out for every page."""
    page = reader_client.get("/").text
    assert '<a href="/accounts/logout/">Log out</a>' in page
    assert "csrfmiddlewaretoken" not in page
    confirm = reader_client.get("/accounts/logout/")
    assert confirm.status_code == 200 and "csrfmiddlewaretoken" in confirm.text
    assert reader_client.get("/").context["user"].is_authenticated
    reader_client.post("/accounts/logout/")
    assert not reader_client.get("/").context["user"].is_authenticated


@pytest.mark.parametrize("url", ["/accounts/password/change/", "/accounts/password/set/"])
def test_password_rules_are_a_sentence_not_a_list_inside_a_paragraph(client, url):
    """Django gives the rules as a <ul>, which a form puts inside a <span> inside a <p>:
    invalid HTML. The rules are one sentence here."""
    user = User.objects.create_user("reader@example.com", "pw-123456789")
    if url.endswith("/set/"):
        user.set_unusable_password()
        user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)
    page = client.get(url).text
    assert "A password needs at least 8 characters" in page
    assert "<ul>" not in page.split('id="id_password1_helptext"')[1].split("</span>")[0]
