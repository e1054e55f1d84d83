"""A logged-in reader's lesson page is kept per tier (caching.kept.render_page) with its
paywall, call to action and follow box in it: each is keyed by the values it shows (has the
lesson, has the whole series, follows the series, finished the lesson), never by the reader,
so no reader ever gets the box of another, whoever asked first."""

import pytest
from django.test import Client

from access import follows, services
from caching import kept
from lessons.models import Progress
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SECRET = "SECRET-PREMIUM-SENTENCE"


def _client(email):
    user = make_user(email=email)
    client = Client()
    client.force_login(user)
    return user, client


def _page(client, lesson):
    return client.get(lesson.get_absolute_url()).content.decode()


def test_a_reader_without_access_after_a_reader_with_access_gets_the_paywall(
    series, premium_lesson
):
    buyer, buyer_client = _client("buyer@example.com")
    services.grant(user=buyer, series=series)
    _, first = _client("first@example.com")
    _, second = _client("second@example.com")
    assert SECRET in _page(buyer_client, premium_lesson)
    for client in (first, second, buyer_client, first):
        page = _page(client, premium_lesson)
        if client is buyer_client:
            assert SECRET in page and 'class="paywall"' not in page
        else:
            assert SECRET not in page and 'class="paywall"' in page
            assert "data-paywall-seen" in page  # the logged-in paywall, not the anonymous one
            assert 'name="csrfmiddlewaretoken"' in page and kept.CSRF_MARKER not in page


def test_the_free_lessons_call_to_action_is_per_whole_series(series, free_lesson, premium_lesson):
    buyer, buyer_client = _client("buyer@example.com")
    services.grant(user=buyer, series=series)
    _, reader_client = _client("reader@example.com")
    for client in (buyer_client, reader_client, buyer_client):
        page = _page(client, free_lesson)
        whole = "You can read the whole series." in page
        offer = 'class="offer' in page
        assert (whole, offer) == ((True, False) if client is buyer_client else (False, True))


def test_one_readers_follow_state_is_never_shown_to_another(series, free_lesson):
    follower, follower_client = _client("follows@example.com")
    follows.follow(user=follower, series=series)
    others = [_client(f"other{n}@example.com")[1] for n in range(2)]
    for client in (follower_client, *others, follower_client, others[0]):
        page = _page(client, free_lesson)
        if client is follower_client:
            assert "You follow" in page and 'value="stop"' in page
        else:
            assert "You follow" not in page and 'value="stop"' not in page
            assert 'value="follow"' in page
    anonymous = _page(Client(), free_lesson)
    assert 'name="email"' in anonymous and "You follow" not in anonymous


def test_the_lesson_end_shows_only_the_readers_own_finish(series, free_lesson):
    finisher, finisher_client = _client("done@example.com")
    Progress.objects.record(user=finisher, lesson=free_lesson, finished=True)
    _, other_client = _client("other@example.com")
    for client in (finisher_client, other_client, finisher_client, other_client):
        page = _page(client, free_lesson)
        assert ("data-progress-done" in page) is (client is finisher_client)
