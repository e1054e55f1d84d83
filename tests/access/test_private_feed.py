"""A reader's private feed: a long random address shown on "My access", whose premium items
carry the full text that reader may read; it stops at once when the address is renewed or
turned off, or the reader's access ends."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from access import services
from access.models import Entitlement, FeedToken
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
SECRET = "PRIVATE-FEED-SECRET"
OTHER = "OTHER-LESSON-SECRET"


@pytest.fixture
def site(series, local_cache):
    make_lesson(series, number=1, slug="free", access="free", body="Free text.")
    make_lesson(
        series, number=2, slug="two", access="premium", body=f"Teaser.\n\n<!-- more -->\n\n{SECRET}"
    )
    make_lesson(
        series,
        number=3,
        slug="three",
        access="premium",
        body=f"Teaser.\n\n<!-- more -->\n\n{OTHER}",
    )
    elsewhere = make_series(title="Elsewhere")
    make_lesson(elsewhere, title="Not theirs", body="Elsewhere text.")
    return series


def feed_path(token: str, atom: bool = False) -> str:
    return f"/access/feed/{token}/{'atom/' if atom else ''}"


@pytest.fixture
def holder(site):
    user = make_user()
    services.grant(user=user, series=site)
    client = Client()
    client.force_login(user)
    return user, client


class TestTheAddress:
    def test_a_reader_with_access_asks_for_one_on_my_access(self, holder):
        user, client = holder
        page = client.get("/access/mine/").text
        assert "Your private feed" in page and "Get my feed address" in page
        response = client.post("/access/mine/feed/", {"action": "renew"})
        assert response.status_code == 302
        token = FeedToken.objects.get(user=user).token
        assert len(token) >= 43  # 256 random bits
        page = client.get("/access/mine/").text
        assert f"http://testserver/access/feed/{token}/" in page
        assert 'data-copy="#site-feed-rss"' in page
        assert '<script src="/static/js/copy.js" defer></script>' in page

    def test_a_reader_without_access_is_not_offered_one_and_cannot_make_one(self, site):
        client = Client()
        user = make_user()
        client.force_login(user)
        assert "Your private feed" not in client.get("/access/mine/").text
        client.post("/access/mine/feed/", {"action": "renew"})
        assert not FeedToken.objects.filter(user=user).exists()

    def test_making_it_needs_a_post_with_a_csrf_token(self, holder):
        user, _ = holder
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        assert client.get("/access/mine/feed/").status_code == 405
        assert client.post("/access/mine/feed/", {"action": "renew"}).status_code == 403
        assert not FeedToken.objects.exists()


class TestTheFeed:
    @pytest.mark.parametrize("atom", [False, True], ids=["rss", "atom"])
    def test_premium_items_carry_the_full_text_for_their_reader(self, holder, atom):
        user, _ = holder
        token = services.renew_feed_token(user=user).token
        response = Client().get(feed_path(token, atom))
        assert response.status_code == 200
        assert SECRET in response.text and OTHER in response.text
        assert "Free text." in response.text
        assert "Not theirs" not in response.text  # only the series they hold
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Robots-Tag"] == "noindex"

    def test_a_reader_of_some_lessons_gets_only_those_in_full(self, site):
        user = make_user()
        services.grant(user=user, series=site, lessons=[site.lessons.get(slug="two")])
        token = services.renew_feed_token(user=user).token
        text = Client().get(feed_path(token)).text
        assert SECRET in text and OTHER not in text
        assert "read the rest" in text

    def test_a_renewed_address_stops_the_old_one_at_once(self, holder):
        user, client = holder
        old = services.renew_feed_token(user=user).token
        assert Client().get(feed_path(old)).status_code == 200
        client.post("/access/mine/feed/", {"action": "renew"})
        new = FeedToken.objects.get(user=user).token
        assert new != old
        assert Client().get(feed_path(old)).status_code == 404
        assert SECRET in Client().get(feed_path(new)).text

    def test_turning_it_off_stops_it_at_once(self, holder):
        user, client = holder
        token = services.renew_feed_token(user=user).token
        Client().get(feed_path(token))  # cached now
        client.post("/access/mine/feed/", {"action": "delete"})
        assert not FeedToken.objects.exists()
        assert Client().get(feed_path(token)).status_code == 404

    @pytest.mark.parametrize("how", ["revoked", "ended"])
    def test_the_end_of_access_stops_it_at_once(self, holder, how):
        user, _ = holder
        token = services.renew_feed_token(user=user).token
        assert SECRET in Client().get(feed_path(token)).text  # and now cached
        entitlements = Entitlement.objects.filter(user=user)
        if how == "revoked":
            services.revoke_entitlements(entitlements, reason="refund")
        else:
            entitlements.update(expires_at=timezone.now() - timedelta(seconds=1))
        response = Client().get(feed_path(token))
        assert response.status_code == 404
        assert SECRET not in response.text

    def test_a_narrower_access_is_a_different_feed_not_the_cached_one(self, holder, site):
        user, _ = holder
        token = services.renew_feed_token(user=user).token
        assert OTHER in Client().get(feed_path(token)).text
        Entitlement.objects.filter(user=user).delete()
        services.grant(user=user, series=site, lessons=[site.lessons.get(slug="two")])
        assert OTHER not in Client().get(feed_path(token)).text

    def test_unknown_addresses_and_inactive_readers_get_nothing(self, holder):
        user, _ = holder
        token = services.renew_feed_token(user=user).token
        assert Client().get(feed_path("x" * 43)).status_code == 404
        user.is_active = False
        user.save()
        assert Client().get(feed_path(token)).status_code == 404

    def test_served_from_the_cache_and_answering_304(self, holder, django_assert_num_queries):
        user, _ = holder
        token = services.renew_feed_token(user=user).token
        first = Client().get(feed_path(token))
        with django_assert_num_queries(2):  # the address and its reader, their entitlements
            again = Client().get(feed_path(token), headers={"if-none-match": first["ETag"]})
        assert again.status_code == 304
