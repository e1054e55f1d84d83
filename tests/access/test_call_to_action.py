"""The call to action: where readers decide to buy, and never for readers who have it all."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from access import services
from config.languages import address
from tests.access.helpers import REDEEM
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db

CTA = "Continue this series: DM me."


@pytest.fixture
def shop(db):
    """A series selling lessons 2 and 3, with a call to action and both contact channels."""
    series = make_series(
        title="Became an AI Engineer",
        cta_message=f"### Lanjutkan\n\n{CTA}",
        price_line="Rp 149.000",
        instagram_handle="@became.ai.engineer",
        whatsapp_number="+62 812-3456-7890",
    )
    free = make_lesson(series, number=1, slug="one", access="free")
    two = make_lesson(series, number=2, slug="two", access="premium", title="Second")
    make_lesson(series, number=3, slug="three", access="premium")
    return series, free, two


def reader_with(series=None, lessons=()):
    client, user = Client(), make_user()
    if series:
        services.grant(user=user, series=series, lessons=lessons)
    client.force_login(user)
    return client


def offers(page: str) -> int:
    return page.count('<aside class="offer')


class TestWhereItShows:
    def test_at_the_end_of_a_free_lesson_after_the_text(self, shop):
        _, free, _ = shop
        page = Client().get(free.get_absolute_url()).text
        assert offers(page) == 1
        assert page.index("The body of lesson 1") < page.index(CTA) < page.index('class="pager')

    def test_on_the_series_page_right_above_the_first_locked_lesson(self, shop):
        series, _, _ = shop
        page = Client().get(series.get_absolute_url()).text
        assert offers(page) == 1
        body = page[page.index("<body") :]  # the head's structured data names the lessons too
        assert body.index("Lesson 1") < body.index(CTA) < body.index("Second")

    def test_on_the_home_page_card_of_a_series_with_locked_lessons(self, shop):
        make_series(title="All free series")
        page = Client().get("/").text
        assert offers(page) == 1
        card = page[page.index("Became an AI Engineer") :]
        assert CTA in card[: card.index("</li>")]

    def test_not_in_a_series_without_premium_lessons(self):
        series = make_series(cta_message=CTA)
        lesson = make_lesson(series, access="free")
        for url in ["/", series.get_absolute_url(), lesson.get_absolute_url()]:
            assert CTA not in Client().get(url).text, url

    def test_a_premium_lesson_shows_the_paywall_with_the_same_buttons(self, shop):
        _, _, two = shop
        page = Client().get(two.get_absolute_url()).text
        assert 'class="paywall"' in page
        assert 'href="https://ig.me/m/became.ai.engineer"' in page
        assert "Rp 149.000" in page


class TestAlreadyHaveAPin:
    def pin_link(self, page: str) -> str:
        href = re.search(r'class="offer__pin-link"><a href="([^"]+)"', page)[1]
        return parse_qs(urlparse(href.replace("&amp;", "&")).query)["next"][0]

    def test_after_a_free_lesson_it_leads_on_to_the_next_lesson(self, shop):
        _, free, two = shop
        assert self.pin_link(Client().get(free.get_absolute_url()).text) == two.get_absolute_url()

    def test_on_the_series_page_it_returns_to_the_series(self, shop):
        series, _, _ = shop
        page = Client().get(series.get_absolute_url()).text
        assert self.pin_link(page) == series.get_absolute_url()


class TestWhoSeesIt:
    def test_a_reader_without_access_sees_it(self, shop):
        _, free, _ = shop
        assert offers(reader_with().get(free.get_absolute_url()).text) == 1

    def test_a_reader_with_some_lessons_still_sees_it_above_the_ones_still_locked(self, shop):
        series, _, two = shop
        client = reader_with(series, lessons=[two])
        page = client.get(series.get_absolute_url()).text
        assert offers(page) == 1
        body = page[page.index("<body") :]  # the head's structured data names the lessons too
        assert body.index("Second") < body.index(CTA) < body.index("Lesson 3")

    @pytest.mark.parametrize("where", ["free lesson", "series", "home"])
    def test_a_reader_with_the_whole_series_is_invited_to_continue_instead(self, shop, where):
        series, free, two = shop
        client = reader_with(series)
        url = {"free lesson": free, "series": series}.get(where)
        page = client.get(url.get_absolute_url() if url else "/").text
        assert CTA not in page and "ig.me" not in page
        assert f'href="{two.get_absolute_url()}">Continue with lesson 2' in page


class TestContactLinks:
    def test_the_instagram_button_opens_a_direct_message_and_comes_first(self, shop):
        page = Client().get(shop[1].get_absolute_url()).text
        dm = page.index('href="https://ig.me/m/became.ai.engineer"')
        assert dm < page.index("https://wa.me/")
        assert "Send a DM on Instagram" in page

    @pytest.mark.parametrize(
        ("language", "greeting"),
        [("en", "Hi! I would like to buy access to"), ("id", "Halo! Aku mau beli akses ke")],
    )
    def test_whatsapp_opens_a_chat_with_a_message_naming_the_series(self, shop, language, greeting):
        page = Client().get(address(shop[1].get_absolute_url(), language)).text
        href = re.search(r'href="(https://wa\.me/[^"]+)"', page)[1].replace("&amp;", "&")
        url = urlparse(href)
        assert url.path == "/6281234567890"
        assert parse_qs(url.query)["text"] == [f"{greeting} “Became an AI Engineer”."]

    def test_without_a_contact_the_box_still_explains_and_offers_the_pin_form(self):
        series = make_series(cta_message="", instagram_handle="", whatsapp_number="")
        make_lesson(series, number=1, access="free")
        two = make_lesson(series, number=2, access="premium")
        page = Client().get(two.get_absolute_url()).text
        assert "ig.me" not in page and "wa.me" not in page
        assert f'action="{REDEEM}"' in page


class TestQueryCounts:
    @pytest.mark.parametrize("count", [1, 8])
    def test_home_with_calls_to_action(self, django_assert_num_queries, count):
        for _ in range(count):
            series = make_series(cta_message=CTA)
            make_lesson(series, access="free")
            make_lesson(series, access="premium")
        with django_assert_num_queries(2):  # series with their lessons counted, first premium
            assert offers(Client().get("/").text) == count

    def test_home_for_a_reader_loads_their_entitlements_once(self, shop, django_assert_num_queries):
        client = reader_with(shop[0])
        for _ in range(4):
            series = make_series(cta_message=CTA)
            make_lesson(series, access="premium")
        # session with its user, entitlements, where the reader left off (their progress); the
        # series with their lessons counted, and their first premium lessons (shared once
        # worked out)
        with django_assert_num_queries(5):
            client.get("/")
