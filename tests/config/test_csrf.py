"""The CSRF token of kept pages (config/csrf.py): Django's token, masked from one read of the
random source."""

from collections import Counter

import pytest
from django.middleware import csrf
from django.test import RequestFactory

from config.csrf import get_token, mask

pytestmark = pytest.mark.django_db


def test_a_masked_token_unmasks_to_the_secret_as_djangos_does():
    secret = csrf._get_new_csrf_string()
    tokens = {mask(secret) for _ in range(50)}
    assert len(tokens) == 50  # a new mask every time
    for token in tokens:
        assert len(token) == csrf.CSRF_TOKEN_LENGTH
        assert set(token) <= set(csrf.CSRF_ALLOWED_CHARS)
        assert csrf._unmask_cipher_token(token) == secret


def test_every_character_of_the_mask_is_as_likely():
    secret = "a" * csrf.CSRF_SECRET_LENGTH
    seen = Counter(c for _ in range(2_000) for c in mask(secret)[: csrf.CSRF_SECRET_LENGTH])
    assert set(seen) == set(csrf.CSRF_ALLOWED_CHARS)
    expected = 2_000 * csrf.CSRF_SECRET_LENGTH / len(csrf.CSRF_ALLOWED_CHARS)  # about 1,032
    assert all(0.8 * expected < count < 1.2 * expected for count in seen.values())


def test_it_renews_the_cookie_as_djangos_does():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = csrf._get_new_csrf_string()
    token = get_token(request)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert csrf._unmask_cipher_token(token) == request.META["CSRF_COOKIE"]


def test_without_a_cookie_yet_it_is_djangos_own():
    request = RequestFactory().get("/")
    token = get_token(request)
    assert csrf._unmask_cipher_token(token) == request.META["CSRF_COOKIE"]


def test_a_kept_pages_form_posts_with_its_token(reader, series):
    """A kept lesson page's "mark as done" form, with the token this module made, is
    accepted by Django's CSRF check (the test client checks it when told to)."""
    from django.test import Client

    from access import services
    from tests.factories import make_lesson

    lesson = make_lesson(series, access="premium")
    services.grant(user=reader, series=series)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    client.get(lesson.get_absolute_url())  # the CSRF cookie is set (Django's own token)
    page = client.get(lesson.get_absolute_url()).text  # this module's
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    progress = f"{lesson.get_absolute_url()}progress/"
    posted = client.post(progress, {"state": "done", "csrfmiddlewaretoken": token})
    assert posted.status_code == 303
    refused = client.post(progress, {"state": "done", "csrfmiddlewaretoken": "x" * 64})
    assert refused.status_code == 403
