"""Readers meeting the offer, counted without knowing who they are: a paywall coming into view
and taps on the DM and WhatsApp buttons, sent by static/js/offer.js after the page has loaded,
for anonymous readers too (the readers who arrive from Instagram), one row per lesson, day and
event, with no cookie, no personal data, nothing that makes pages differ between readers; and
every beacon limited per address, open when the cache is away."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import OfferCount, PaywallView
from caching import anonymous
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
COUNTED = reverse("access:offer_counted")
SEEN = reverse("access:paywall_seen")
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131 Mobile Safari"


@pytest.fixture
def shop(db):
    series = make_series(title="S", slug="s", instagram_handle="seller", whatsapp_number="628123")
    free = make_lesson(series, number=1, slug="one")
    premium = make_lesson(series, number=2, slug="two", access="premium")
    return series, free, premium


def reader(ip="198.51.100.7", agent=PHONE) -> Client:
    return Client(REMOTE_ADDR=ip, headers={"user-agent": agent})


def count(**key) -> int:
    return sum(OfferCount.objects.filter(**key).values_list("count", flat=True))


class TestCounting:
    def test_a_paywall_view_is_one_row_per_lesson_and_day_incremented(self, shop):
        series, _, premium = shop
        for _ in range(3):
            response = reader().post(
                COUNTED, {"event": "paywall", "series": series.pk, "lesson": premium.pk}
            )
            assert response.status_code == 204
        row = OfferCount.objects.get()
        assert (row.lesson, row.event, row.count, row.day) == (
            premium, "paywall", 3, timezone.localdate(),
        )  # fmt: skip

    def test_taps_on_a_lesson_page_and_on_the_series_page(self, shop):
        series, free, _ = shop
        client = reader()
        client.post(COUNTED, {"event": "dm", "series": series.pk, "lesson": free.pk})
        client.post(COUNTED, {"event": "whatsapp", "series": series.pk, "lesson": free.pk})
        client.post(COUNTED, {"event": "dm", "series": series.pk, "lesson": ""})
        assert count(event="dm", lesson=free) == 1
        assert count(event="whatsapp", lesson=free) == 1
        assert count(event="dm", lesson=None) == 1

    def test_no_cookie_no_session_and_no_personal_data(self, shop, django_assert_num_queries):
        series, _, premium = shop
        data = {"event": "paywall", "series": series.pk, "lesson": premium.pk}
        reader().post(COUNTED, data)
        with django_assert_num_queries(2):  # is the lesson there; add one to today's row
            response = reader().post(COUNTED, data)
        assert not response.cookies
        assert "no-cache" in response["Cache-Control"]
        fields = {field.name for field in OfferCount._meta.get_fields()}
        assert fields == {"id", "series", "lesson", "day", "event", "count"}

    @pytest.mark.parametrize(
        "agent",
        [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "WhatsApp/2.23.20.0",
            "curl/8.5.0",
            "python-requests/2.32",
            "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0 Safari/537.36",
            "",
        ],
    )
    def test_programs_are_not_counted(self, shop, agent):
        series, _, premium = shop
        data = {"event": "paywall", "series": series.pk, "lesson": premium.pk}
        assert reader(agent=agent).post(COUNTED, data).status_code == 204
        assert not OfferCount.objects.exists()

    @pytest.mark.parametrize(
        "case", ["free lesson's paywall", "draft", "other series", "unknown event", "no series",
                 "unpublished series", "not a number"],
    )  # fmt: skip
    def test_what_readers_cannot_see_is_not_counted(self, shop, case):
        series, free, premium = shop
        other = make_series(slug="other")
        draft = make_lesson(series, number=3, access="premium", status="draft")
        hidden = make_series(slug="hidden", is_published=False)
        data = {
            "free lesson's paywall": {"event": "paywall", "series": series.pk, "lesson": free.pk},
            "draft": {"event": "paywall", "series": series.pk, "lesson": draft.pk},
            "other series": {"event": "dm", "series": other.pk, "lesson": premium.pk},
            "unknown event": {"event": "like", "series": series.pk, "lesson": premium.pk},
            "no series": {"event": "dm", "lesson": premium.pk},
            "unpublished series": {"event": "dm", "series": hidden.pk},
            "not a number": {"event": "dm", "series": f"{series.pk}\x00", "lesson": "²"},
        }[case]
        assert reader().post(COUNTED, data).status_code == 204
        assert not OfferCount.objects.exists()

    def test_only_posted(self, shop):
        assert reader().get(COUNTED).status_code == 405


class TestPagesStayTheSameForEveryone:
    def test_the_anonymous_lesson_page_carries_what_to_count_and_is_kept(
        self, shop, django_assert_num_queries
    ):
        series, _, premium = shop
        first = reader(ip="198.51.100.1").get(premium.get_absolute_url())
        assert f'data-offer="{COUNTED}" data-series="{series.pk}"' in first.text
        assert f'data-lesson="{premium.pk}" data-count-view' in first.text
        assert 'data-offer-event="dm"' in first.text and "js/offer.js" in first.text
        with django_assert_num_queries(0):  # from the page cache, the same bytes
            second = reader(ip="203.0.113.9").get(premium.get_absolute_url())
        assert second.content == first.content
        assert anonymous.pages.entries

    def test_the_call_to_action_of_a_free_lesson_counts_for_that_lesson(self, shop):
        series, free, _ = shop
        page = reader().get(free.get_absolute_url()).text
        assert f'data-series="{series.pk}" data-lesson="{free.pk}"' in page

    def test_the_series_page_counts_for_the_series(self, shop):
        series, _, _ = shop
        page = reader().get(series.get_absolute_url()).text
        offer = page[page.index('<aside class="offer') :].split(">", 1)[0]
        assert f'data-series="{series.pk}"' in offer and "data-lesson" not in offer


class TestBeaconsAreLimited:
    """95 writes a second were accepted from one address; now BEACONS_PER_MINUTE."""

    @pytest.fixture(autouse=True)
    def few(self, settings):
        settings.BEACONS_PER_MINUTE = 3

    def test_offer_counts(self, shop):
        series, _, premium = shop
        data = {"event": "paywall", "series": series.pk, "lesson": premium.pk}
        client = reader()
        statuses = [client.post(COUNTED, data).status_code for _ in range(5)]
        assert statuses == [204, 204, 204, 429, 429]
        assert count() == 3
        assert reader(ip="203.0.113.50").post(COUNTED, data).status_code == 204
        assert count() == 4

    def test_paywall_views_of_logged_in_readers(self, shop):
        _, _, premium = shop
        client = reader()
        client.force_login(make_user())
        statuses = [client.post(SEEN, {"lesson": premium.pk}).status_code for _ in range(4)]
        assert statuses == [204, 204, 204, 429]
        assert PaywallView.objects.count() == 1

    def test_reading_progress(self, shop):
        _, free, _ = shop
        client = reader()
        client.force_login(make_user())
        url = reverse("lessons:progress", args=[free.series.slug, free.slug])
        data = {"state": "opened", "via": "beacon"}
        statuses = [client.post(url, data).status_code for _ in range(4)]
        assert statuses == [204, 204, 204, 429]

    def test_behind_a_proxy_each_reader_is_limited_apart(self, shop, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        series, _, premium = shop
        data = {"event": "paywall", "series": series.pk, "lesson": premium.pk}
        for n in range(4):
            client = Client(
                REMOTE_ADDR="127.0.0.1",
                headers={"user-agent": PHONE, "x-forwarded-for": f"198.51.100.{n}"},
            )
            assert client.post(COUNTED, data).status_code == 204
        assert count() == 4

    def test_open_while_the_cache_is_away(self, shop, cache_outage):
        series, _, premium = shop
        data = {"event": "paywall", "series": series.pk, "lesson": premium.pk}
        cache_outage.start()
        client = reader()
        assert {client.post(COUNTED, data).status_code for _ in range(6)} == {204}
        assert count() == 6

    def test_the_key_holds_no_address(self, shop, local_cache):
        series, _, premium = shop
        reader(ip="198.51.100.77").post(
            COUNTED, {"event": "paywall", "series": series.pk, "lesson": premium.pk}
        )
        keys = list(local_cache._cache)
        assert keys and not any("198.51.100.77" in key for key in keys)


def test_the_dashboard_shows_every_readers_views_and_taps_per_lesson(shop):
    series, free, premium = shop
    client = reader()
    for _ in range(5):
        client.post(COUNTED, {"event": "paywall", "series": series.pk, "lesson": premium.pk})
    client.post(COUNTED, {"event": "dm", "series": series.pk, "lesson": premium.pk})
    client.post(COUNTED, {"event": "whatsapp", "series": series.pk, "lesson": free.pk})
    client.post(COUNTED, {"event": "dm", "series": series.pk})
    seller = make_user(is_staff=True)
    seller.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    desk = Client()
    desk.force_login(seller)
    lessons = desk.get("/admin/access/accesspin/dashboard/").context["figures"].lessons
    rows = {(f.title, f.views, f.dm_taps, f.whatsapp_taps) for f in lessons}
    assert rows == {
        (free.title, 0, 0, 1),
        (premium.title, 5, 1, 0),
        ("Series page and home page", 0, 1, 0),
    }
