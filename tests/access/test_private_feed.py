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
        assert response["Cache-Control"] == "private, no-store, no-transform"
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
        whole = Entitlement.objects.get(user=user)
        services.grant(user=user, series=site, lessons=[site.lessons.get(slug="two")])
        services.revoke_entitlements(Entitlement.objects.filter(pk=whole.pk), reason="narrowed")
        response = Client().get(feed_path(token))
        assert SECRET in response.text
        assert OTHER not in response.text

    def test_a_staff_members_address_works_without_entitlements(self, site, staff):
        token = services.renew_feed_token(user=staff).token
        assert SECRET in Client().get(feed_path(token)).text

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
        # the address and its reader, their entitlements since it was made, the active ones
        with django_assert_num_queries(3):
            again = Client().get(feed_path(token), headers={"if-none-match": first["ETag"]})
        assert again.status_code == 304


def ago(**delta):
    return timezone.now() - timedelta(**delta)


class TestAnEndedAddress:
    """An address lives while its reader holds access without a break from the time it was
    made. Once ended it stays ended: a later grant gives the reader a new address to make,
    never the old one back (its text may already be in someone else's feed reader)."""

    @pytest.fixture
    def address(self, holder):
        """Made two days ago, by a reader who holds the series since three days ago."""
        user, client = holder
        Entitlement.objects.filter(user=user).update(granted_at=ago(days=3))
        token = services.renew_feed_token(user=user)
        FeedToken.objects.filter(pk=token.pk).update(issued_at=ago(days=2))
        assert SECRET in Client().get(feed_path(token.token)).text
        return user, client, token.token

    ENDINGS = {
        "expired": lambda held: held.update(expires_at=ago(days=1)),
        "revoked": lambda held: services.revoke_entitlements(held, reason="refund"),
        "deleted": lambda held: held.delete(),
    }

    @pytest.mark.parametrize("asked", [True, False], ids=["asked while ended", "not asked"])
    @pytest.mark.parametrize("how", ENDINGS)
    def test_it_stays_ended_after_a_new_grant(self, address, site, how, asked):
        user, client, token = address
        self.ENDINGS[how](Entitlement.objects.filter(user=user))
        if asked:
            assert Client().get(feed_path(token)).status_code == 404
        services.grant(user=user, series=site)
        for atom in (False, True):
            response = Client().get(feed_path(token, atom))
            assert response.status_code == 404
            assert SECRET not in response.text
        page = client.get("/access/mine/").text
        assert token not in page
        assert "Get my feed address" in page  # a new one, for the new access
        client.post("/access/mine/feed/", {"action": "renew"})
        new = FeedToken.objects.get(user=user).token
        assert new != token
        assert SECRET in Client().get(feed_path(new)).text
        assert Client().get(feed_path(token)).status_code == 404

    def test_access_renewed_before_it_ended_keeps_the_address(self, address, site):
        user, client, token = address
        first = Entitlement.objects.get(user=user)
        renewed = services.grant(user=user, series=site, note="renewed")
        Entitlement.objects.filter(pk=renewed.pk).update(granted_at=ago(hours=2))
        Entitlement.objects.filter(pk=first.pk).update(expires_at=ago(hours=1))
        assert SECRET in Client().get(feed_path(token)).text
        assert token in client.get("/access/mine/").text

    def test_a_reader_made_inactive_and_active_again_gets_a_new_address(self, address):
        user, _, token = address
        user.is_active = False
        user.save()
        assert Client().get(feed_path(token)).status_code == 404
        user.is_active = True
        user.save()
        assert Client().get(feed_path(token)).status_code == 404
