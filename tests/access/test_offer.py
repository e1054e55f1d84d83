"""A series' offer: the call to action, the price, the contacts, the paywall and PIN
messages, in a model of access's own, edited with its series and shown on lessons' pages
through access's template tags."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from access import offer
from access.offer.models import Offer
from access.offer.services import save_offer
from caching import generation
from lessons.models import Series
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db


def author_client() -> Client:
    author = make_user(is_staff=True)
    author.groups.add(Group.objects.get(name="Authors"))
    client = Client()
    client.force_login(author)
    return client


def series_form(series, **offer_fields) -> dict:
    """The series' admin form as its page shows it, with the offer's fields changed."""
    selling = offer.of(series)
    fields = {
        "cta_message": selling.cta_message,
        "paywall_message": selling.paywall_message,
        "price_amount": selling.price_amount or "",
        "price_line": selling.price_line,
        "currency": selling.currency,
        "instagram_handle": selling.instagram_handle,
        "whatsapp_number": selling.whatsapp_number,
        "sales_language": selling.sales_language,
        "pin_message": selling.pin_message,
        "takes_payments": "on" if selling.takes_payments else "",
        **offer_fields,
    }
    if not fields["takes_payments"]:
        del fields["takes_payments"]  # an unticked box is not sent
    return {
        "title": series.title,
        "slug": series.slug,
        "language": series.language,
        "is_published": "on",
        "position": series.position,
        "offer-TOTAL_FORMS": 1,
        "offer-INITIAL_FORMS": 1 if selling.pk else 0,
        "offer-0-id": selling.pk or "",
        "offer-0-series": series.pk,
        **{f"offer-0-{name}": value for name, value in fields.items()},
        "lessons-TOTAL_FORMS": 0,
        "lessons-INITIAL_FORMS": 0,
    }


class TestEditedWithItsSeries:
    def test_the_series_page_shows_the_offer_where_its_selling_fields_were(self):
        series = make_series(cta_message="Buy it.")
        page = author_client().get(reverse("admin:lessons_series_change", args=[series.pk]))
        text = page.text
        assert text.index('name="title"') < text.index("Selling") < text.index('id="lessons-group"')
        assert 'name="offer-0-cta_message"' in text and "Buy it." in text
        assert "What readers without access see" in text

    def test_saving_it_renders_the_texts_and_refreshes_the_pages(self):
        series = make_series()
        make_lesson(series, number=1, access="free")
        make_lesson(series, number=2, access="premium")
        assert "DM the author" not in Client().get(series.get_absolute_url()).text
        url = reverse("admin:lessons_series_change", args=[series.pk])
        response = author_client().post(url, series_form(series, cta_message="**DM the author**"))
        assert response.status_code == 302
        assert Offer.objects.get(series=series).cta_html == "<p><strong>DM the author</strong></p>"
        assert "<strong>DM the author</strong>" in Client().get(series.get_absolute_url()).text

    def test_a_series_without_one_gets_one_when_a_field_is_filled_in(self):
        series = Series.objects.create(title="Bare", slug="bare", is_published=True)
        client = author_client()
        url = reverse("admin:lessons_series_change", args=[series.pk])
        assert client.post(url, series_form(series)).status_code == 302
        assert not Offer.objects.exists()  # nothing typed, nothing made
        assert (
            client.post(url, series_form(series, whatsapp_number="+62 812 3456 7890")).status_code
            == 302
        )
        assert Offer.objects.get(series=series).whatsapp_number == "6281234567890"

    def test_payments_on_the_site_are_switched_on_with_the_price(self):
        series = make_series(price_amount=149000)
        client = author_client()
        url = reverse("admin:lessons_series_change", args=[series.pk])
        assert 'name="offer-0-takes_payments"' in client.get(url).text
        assert client.post(url, series_form(series, takes_payments="on")).status_code == 302
        assert Offer.objects.get(series=series).takes_payments is True
        assert client.post(url, series_form(series)).status_code == 302  # unticked
        assert Offer.objects.get(series=series).takes_payments is False

    def test_payments_on_the_site_need_a_price(self):
        series = make_series()
        url = reverse("admin:lessons_series_change", args=[series.pk])
        response = author_client().post(url, series_form(series, takes_payments="on"))
        assert response.status_code == 200
        assert "Set the price to take payments on the site." in response.text
        assert Offer.objects.get(series=series).takes_payments is False

    def test_a_text_the_pipeline_refuses_is_said_on_the_form_and_nothing_is_saved(self):
        series = make_series()
        url = reverse("admin:lessons_series_change", args=[series.pk])
        response = author_client().post(url, series_form(series, paywall_message=">" * 500))
        assert response.status_code == 200
        assert "nested 500 levels deep" in response.text
        assert Offer.objects.get(series=series).paywall_message == "Ask for a PIN."


class TestTheOffer:
    def test_its_texts_are_bounded_like_every_authors_text(self):
        selling = Offer(series=make_series(), paywall_message=">" * 500)
        with pytest.raises(ValidationError) as refused:
            selling.full_clean()
        assert "nested 500 levels deep" in refused.value.message_dict["paywall_message"][0]

    def test_saving_it_renders_and_invalidates(self):
        series = make_series()
        version = generation.token()
        series.offer.cta_message = "*Now*"
        save_offer(series.offer)
        assert Offer.objects.get(pk=series.offer.pk).cta_html == "<p><em>Now</em></p>"
        assert generation.token() != version

    def test_a_series_without_one_reads_as_an_empty_one_and_is_not_changed(self):
        series = Series.objects.create(title="Bare", slug="bare", is_published=True)
        empty = offer.of(series)
        assert (empty.pk, empty.price_amount, empty.cta_html, empty.has_contact) == (
            None,
            None,
            "",
            False,
        )
        assert offer.price_line(series) == ""
        with pytest.raises(Offer.DoesNotExist):
            series.offer  # noqa: B018 (the series itself holds no made-up offer)

    def test_its_price_is_a_number_in_a_currency(self):
        series = make_series(price_amount=149000)
        assert (offer.of(series).price_amount, offer.of(series).currency) == (149000, "IDR")

    def test_deleting_the_series_deletes_it(self):
        series = make_series()
        series.delete()
        assert not Offer.objects.exists()


class TestOnLessonsPages:
    def test_a_series_without_an_offer_shows_the_standard_call_to_action(self):
        series = Series.objects.create(title="Bare", slug="bare", is_published=True)
        make_lesson(series, number=1, access="free")
        make_lesson(series, number=2, access="premium")
        page = Client().get(series.get_absolute_url()).text
        assert "are unlocked with an access PIN" in page
        assert "offer__dm" not in page

    def test_the_home_page_loads_the_offers_with_their_series(self, django_assert_num_queries):
        for n in range(3):
            series = make_series(title=f"S{n}", slug=f"s{n}", cta_message=f"Offer {n}.")
            make_lesson(series, number=1, access="free")
            make_lesson(series, number=2, access="premium")
        # a page of series (with their offers and lessons counted), their first premium
        with django_assert_num_queries(2):
            page = Client().get("/").text
        assert all(f"Offer {n}." in page for n in range(3))
