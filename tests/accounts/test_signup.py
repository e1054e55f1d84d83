"""The buyer's sign-up path: the same page whatever the address typed, a code that logs a
returning reader in (no dead end), and sign-ups at the same moment answered like one."""

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.db import connection
from django.test import Client

from tests.accounts.flows import CODE, emailed_code
from tests.factories import make_user
from tests.postgres import require_postgres

pytestmark = pytest.mark.django_db
User = get_user_model()
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def test_a_returning_reader_who_signs_up_gets_a_log_in_code_and_is_in(client, reader):
    response = client.post("/accounts/signup/?next=/series/ai/", {"email": "Reader@Example.com"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [reader.email]
    assert "already" not in message.body  # not allauth's "your account already exists"
    done = client.post(response["Location"], {"code": emailed_code(reader.email)})
    assert done["Location"] == "/series/ai/"
    assert client.get("/").context["user"] == reader
    assert User.objects.count() == 1


def test_the_code_page_says_so_the_same_way_whatever_the_address(reader):
    answers = []
    for email in (reader.email, "new@example.com"):
        browser = Client()
        response = browser.post("/accounts/signup/", {"email": email})
        page = browser.get(response["Location"]).text.replace(email, "EMAIL")
        answers.append((response.status_code, response["Location"], CSRF.sub("", page)))
    assert answers[0] == answers[1]
    assert "If this address already has an account, the code logs you in to it" in answers[0][2]


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting how often a password is hashed."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)


def test_a_password_typed_at_sign_up_is_hashed_whether_or_not_the_address_has_an_account(
    settings, reader
):
    """So the answer takes as long for a taken address as for a new one; the taken address's
    password stays as it was."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher", *settings.PASSWORD_HASHERS]
    calls = {}
    for email in (reader.email, "new@example.com"):
        CountingHasher.calls = 0
        Client().post("/accounts/signup/", {"email": email, "password1": "a long passphrase 9"})
        calls[email] = CountingHasher.calls
    assert calls == {reader.email: 1, "new@example.com": 1}
    reader.refresh_from_db()
    assert reader.check_password("correct horse battery")
    assert User.objects.get(email="new@example.com").check_password("a long passphrase 9")


def test_an_address_someone_added_without_verifying_it_logs_nobody_in(reader):
    """A code for such an address must not log its finder in to another reader's account."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=reader, email="not-theirs@example.com", verified=False)
    browser = Client()
    response = browser.post("/accounts/signup/", {"email": "not-theirs@example.com"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.subject == "[Lessons] Account Already Exists"
    assert not CODE.search(message.body)
    browser.post(response["Location"], {"code": "000000"})
    assert not browser.get("/").context["user"].is_authenticated


def test_a_second_tap_on_sign_up_goes_to_the_same_code_page(client):
    first = client.post("/accounts/signup/", {"email": "new@example.com"})
    second = client.post("/accounts/signup/", {"email": "new@example.com"})
    assert (second.status_code, second["Location"]) == (302, first["Location"])
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("address", ["reader@example.com", "new@example.com"])
def test_signing_up_twice_within_seconds_answers_a_styled_page_in_the_readers_language(
    reader, address
):
    """From another browser (the same one goes back to its code page), whatever the address."""
    assert Client().post("/accounts/signup/", {"email": address}).status_code == 302
    again = Client().post("/id/accounts/signup/", {"email": address})
    assert again.status_code == 429
    page = again.text
    assert '<html lang="id">' in page and 'class="skip-link"' in page
    assert "Tunggu sebentar" in page
    assert 'href="/id/accounts/login/code/confirm/"' in page


@pytest.mark.parametrize(
    "url", ["/accounts/signup/", "/accounts/login/"], ids=["sign-up code", "e-mail check code"]
)
def test_the_code_field_brings_up_the_number_pad_and_the_code_from_the_mail(client, url):
    if url == "/accounts/signup/":
        response = client.post(url, {"email": "new@example.com"})
    else:  # an account whose address was never confirmed is asked to confirm it
        make_user(email="unconfirmed@example.com", verified=False)
        response = client.post(
            url, {"login": "unconfirmed@example.com", "password": "correct horse battery"}
        )
    field = re.search(r'<input[^>]*name="code"[^>]*>', client.get(response["Location"]).text)[0]
    assert 'inputmode="numeric"' in field
    assert 'autocomplete="one-time-code"' in field


def test_a_password_changed_by_reset_is_told_to_the_account(client, reader):
    client.post("/accounts/password/reset/", {"email": reader.email})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    form = client.get(link[1], follow=True)
    new = "a brand new passphrase 7"
    done = client.post(form.request["PATH_INFO"], {"password1": new, "password2": new})
    assert done.status_code == 302
    notice = mail.outbox[-1]
    assert notice.to == [reader.email]
    assert "Your password has been reset." in notice.body
    reader.refresh_from_db()
    assert reader.check_password(new)


def race(count, attempt):
    """`attempt()` in `count` threads at once; return what each answered, and any errors."""
    barrier = threading.Barrier(count)
    answers, errors = [], []

    def run():
        try:
            barrier.wait()
            answers.append(attempt())
        except Exception as error:  # reported by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, errors


def sign_up_at_once(count=6):
    return race(
        count, lambda: Client().post("/accounts/signup/", {"email": "race@example.com"}).status_code
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("taken", [False, True], ids=["new address", "taken address"])
def test_sign_ups_at_the_same_moment_answer_like_one_whatever_the_address(taken):
    """Six at once: one goes on to the code page, five are asked to wait (429), and nothing
    tells a new address from a taken one (an error for the losers of a race on a new
    address would)."""
    require_postgres()
    if taken:
        make_user(email="race@example.com")
    answers, errors = sign_up_at_once()
    assert errors == []
    assert sorted(answers) == [302, 429, 429, 429, 429, 429]
    assert User.objects.filter(email__iexact="race@example.com").count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_sign_ups_make_one_account_even_while_the_rate_limits_are_away(settings):
    """With the shared cache away, as caching/backend.py serves it then (every read misses, every
    write is lost), the rate limits are open and every racer gets through: the one that makes
    the account and the ones that find it made all go on to the code page."""
    require_postgres()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    answers, errors = sign_up_at_once()
    assert errors == []
    assert answers == [302] * 6
    assert User.objects.filter(email__iexact="race@example.com").count() == 1
