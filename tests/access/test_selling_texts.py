"""Selling texts that follow the series: the call to action, the paywall message, the price
line and the hand-off message say {price}, {first_premium}, {last_premium}, {premium_count}
and {series}, filled in from the lessons readers can see when a page is put together; the
price is a number, written as each language writes money."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from access import handoff, offer
from access.offer.models import Offer
from access.offer.placeholders import split_price_text
from lessons import pages
from lessons.models import Lesson, Series
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
DEMO = Path(__file__).resolve().parents[2] / "content" / "became-ai-engineer"


def text_of(html: str) -> str:
    """What a reader reads: the words, without tags or the spaces of the source."""
    import re
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def demo(db):
    call_command("import_series", str(DEMO), stdout=StringIO())
    return Series.objects.get()


def indonesian() -> Client:
    return Client(headers={"accept-language": "id"})


def add_lesson_eight(series, **fields) -> Lesson:
    return make_lesson(
        series,
        number=8,
        slug="eight",
        title="Eight",
        access="premium",
        body="Public part.\n\n<!-- more -->\n\nThe rest.",
        **fields,
    )


class TestTheDemoSeries:
    def test_says_lessons_2_to_7_then_2_to_8_when_an_eighth_is_added(self, demo):
        one = Lesson.objects.get(number=1).get_absolute_url()
        two = Lesson.objects.get(number=2).get_absolute_url()
        reader = indonesian()
        before = text_of(reader.get(one).text)
        assert "Pelajaran 2–7 adalah konten premium" in before
        assert "Rp149.000 · sekali bayar untuk pelajaran 2–7" in before
        assert "membuka 6 pelajaran premium" in before
        assert "Pelajaran 2–7 adalah konten premium (Rp149.000" in text_of(reader.get(two).text)

        add_lesson_eight(demo)

        for url in (one, two, demo.get_absolute_url(), "/"):
            page = text_of(reader.get(url).text)
            assert "2–8" in page and "2–7" not in page, url
        assert "membuka 7 pelajaran premium" in text_of(reader.get(one).text)
        assert "sekali bayar untuk pelajaran 2–8" in text_of(reader.get("/").text)

    def test_a_logged_in_readers_kept_pages_follow_too(self, demo):
        reader = indonesian()
        reader.force_login(make_user())
        two = Lesson.objects.get(number=2).get_absolute_url()
        assert "Pelajaran 2–7" in text_of(reader.get(two).text)
        assert "Pelajaran 2–7" in text_of(reader.get(two).text)  # kept
        add_lesson_eight(demo)
        assert "Pelajaran 2–8" in text_of(reader.get(two).text)

    def test_the_stored_html_keeps_the_placeholders(self, demo):
        assert "{first_premium}–{last_premium}" in demo.offer.cta_html
        assert "{price}" in demo.offer.paywall_html

    def test_the_hand_off_message_names_the_series(self, demo):
        message = handoff.message(series=demo, pin="ABCD-EFGH-JKMN", link="https://x/r/")
        assert "“Became an AI Engineer”" in message and "ABCD-EFGH-JKMN" in message


class TestAScheduledLessonComingOut:
    """No write happens when a scheduled lesson comes out: what pages keep names the moment."""

    @pytest.fixture
    def later(self, demo, settings, monkeypatch):
        settings.PAGE_CACHE_SECONDS = 3600
        add_lesson_eight(demo, published_at=timezone.now() + timedelta(minutes=5))

        def six_minutes_on():
            moved = timezone.now() + timedelta(minutes=6)
            monkeypatch.setattr(timezone, "now", lambda: moved)

        return six_minutes_on

    def test_the_kept_lesson_page_of_a_logged_in_reader(self, demo, later):
        reader = indonesian()
        reader.force_login(make_user())
        one = Lesson.objects.get(number=1).get_absolute_url()
        assert "Pelajaran 2–7" in text_of(reader.get(one).text)
        assert "Pelajaran 2–7" in text_of(reader.get(one).text)  # kept for the hour
        later()
        assert "Pelajaran 2–8" in text_of(reader.get(one).text)

    def test_the_kept_paywall_and_series_and_home_pages(self, demo, later):
        reader = indonesian()
        reader.force_login(make_user())
        urls = [Lesson.objects.get(number=2).get_absolute_url(), demo.get_absolute_url(), "/"]
        for url in urls:
            assert "2–7" in text_of(reader.get(url).text), url
        later()
        for url in urls:
            assert "2–8" in text_of(reader.get(url).text), url

    def test_the_memo_names_when_it_stops_holding(self, demo, later):
        page = pages.lesson_page(demo.slug, Lesson.objects.get(number=2).slug, staff=False)
        due = page.lesson.series.premium_range.next_due
        assert due == Lesson.objects.get(number=8).published_at


class TestTheNumbers:
    @pytest.fixture
    def series(self, db):
        series = make_series(
            title="Seri",
            sales_language="id",
            price_amount=149000,
            cta_message="{series}: pelajaran {first_premium}–{last_premium}, "
            "{premium_count} pelajaran, {price}.",
        )
        make_lesson(series, number=1, access="free")
        for number in (3, 4, 6):
            make_lesson(series, number=number, access="premium")
        make_lesson(series, number=9, access="premium", status="draft")
        make_lesson(
            series,
            number=10,
            access="premium",
            published_at=timezone.now() + timedelta(days=1),
        )
        return series

    def test_from_the_premium_lessons_readers_can_see(self, series):
        rendered = str(offer.fill_html(series.offer.cta_html, Series.objects.get(pk=series.pk)))
        assert "Seri: pelajaran 3–6, 3 pelajaran, Rp149.000." in text_of(rendered)

    def test_one_query_without_the_pages_annotations(self, series, django_assert_num_queries):
        fresh = Series.objects.with_attached().get(pk=series.pk)  # with its offer
        with django_assert_num_queries(1):
            assert (fresh.premium_range.first, fresh.premium_range.count) == (3, 3)
            offer.values(fresh)

    @pytest.mark.parametrize(
        ("language", "written"),
        [("id", "Rp149.000"), ("en", "Rp 149,000")],
    )
    def test_the_price_as_each_language_writes_it(self, language, written):
        assert offer.format_price(149000, "IDR", language) == written
        assert offer.format_price(1500000, "IDR", language).endswith(
            "1.500.000" if language == "id" else "1,500,000"
        )

    def test_the_selling_language_decides_how_the_price_is_written(self, series):
        series.offer.sales_language = "en"
        assert offer.price_line(series) == "Rp 149,000"
        series.offer.sales_language = "id"
        assert offer.price_line(series) == "Rp149.000"

    def test_values_are_escaped_and_never_put_inside_a_tag(self, db):
        series = make_series(
            title='<img src=x onerror="alert(1)"> & co',
            cta_message="[{series}]({series}) and {series}",
        )
        html = str(offer.fill_html(series.offer.cta_html, series))
        assert "<img" not in html and "&lt;img src=x" in html
        assert 'href="{series}"' in html  # a link's address keeps its placeholder

    def test_no_price_no_price_line(self, db):
        series = make_series(price_line="")
        assert offer.price_line(series) == ""
        series.offer.price_amount = 99000
        assert offer.price_line(series) == "Rp 99,000"


class TestRefused:
    @pytest.mark.parametrize(
        ("field", "text"),
        [
            ("cta_message", "Pelajaran {first}–{last}."),
            ("paywall_message", "Hanya {prize}!"),
            ("price_line", "{price} untuk {count} pelajaran"),
            ("pin_message", "PIN: {pin} di {url}"),
        ],
    )
    def test_unknown_placeholders_with_a_message(self, db, field, text):
        selling = make_series(price_amount=1000).offer
        setattr(selling, field, text)
        with translation.override("en"):
            with pytest.raises(ValidationError) as refused:
                selling.full_clean()
            message = " ".join(refused.value.message_dict[field])
        assert "cannot be filled in" in message and "{first_premium}" in message

    def test_price_without_a_price(self, db):
        selling = make_series(cta_message="Hanya {price}.").offer
        with translation.override("en"):
            with pytest.raises(ValidationError) as refused:
                selling.full_clean()
            message = " ".join(refused.value.message_dict["cta_message"])
        assert "Set the price to use {price}" in message

    def test_in_the_admin(self, db):
        author = make_user(is_staff=True)
        author.groups.add(Group.objects.get(name="Authors"))
        client = Client()
        client.force_login(author)
        series = make_series()
        url = reverse("admin:lessons_series_change", args=[series.pk])
        form = client.get(url).context["adminform"].form
        data = {
            name: value
            for name, value in form.initial.items()
            if value is not None and not isinstance(value, list | tuple)
        }
        data.update(
            {
                "offer-TOTAL_FORMS": "1",
                "offer-INITIAL_FORMS": "1",
                "offer-0-id": str(series.offer.pk),
                "offer-0-series": str(series.pk),
                "offer-0-currency": "IDR",
                "offer-0-cta_message": "Pelajaran {from}–{to}",
                "lessons-TOTAL_FORMS": "0",
                "lessons-INITIAL_FORMS": "0",
            }
        )
        response = client.post(url, data)
        assert response.status_code == 200
        assert "{from}, {to} cannot be filled in" in response.text
        assert Offer.objects.get(series=series).cta_message == ""

    def test_by_import_series(self, tmp_path):
        (tmp_path / "series.yaml").write_text(
            "title: T\nslug: t\nprice: 99000\ncall_to_action: 'Pelajaran {frist_premium}'\n"
        )
        with pytest.raises(Exception, match=r"\{frist_premium\} cannot be filled in"):
            call_command("import_series", str(tmp_path), stdout=StringIO())


class TestPricesWrittenAsText:
    @pytest.mark.parametrize(
        ("text", "amount", "line"),
        [
            ("Rp 149.000 · sekali bayar", 149000, "{price} · sekali bayar"),
            ("Rp149.000", 149000, ""),
            ("IDR 149,000 one payment", 149000, "{price} one payment"),
            ("Rp 99000,- saja", 99000, "{price} saja"),
            ("Rp 1.5 juta", None, "Rp 1.5 juta"),
            ("Rp 150rb", None, "Rp 150rb"),
            ("Only Rp 149.000", None, "Only Rp 149.000"),
        ],
    )  # fmt: skip
    def test_are_read_into_the_number(self, text, amount, line):
        assert split_price_text(text) == (amount, line)

    def test_import_series_reads_them_too(self, tmp_path):
        (tmp_path / "series.yaml").write_text("title: T\nslug: t\nprice: Rp 149.000 · sekali\n")
        call_command("import_series", str(tmp_path), stdout=StringIO())
        series = Series.objects.get()
        assert (series.offer.price_amount, series.offer.price_line, series.offer.currency) == (
            149000,
            "{price} · sekali",
            "IDR",
        )

    @pytest.mark.django_db(transaction=True)
    def test_by_the_migration(self):
        before, after = (
            ("lessons", "0009_series_published_index"),
            ("lessons", "0010_series_price_amount"),
        )
        executor = MigrationExecutor(connection)
        executor.migrate([before])
        try:
            old = executor.loader.project_state([before]).apps.get_model("lessons", "Series")
            old.objects.create(
                title="A", slug="a", price="Rp 149.000 · sekali bayar untuk L2 sampai L7"
            )
            old.objects.create(title="B", slug="b", price="Harga spesial")
            executor = MigrationExecutor(connection)
            executor.migrate([after])
            new = executor.loader.project_state([after]).apps.get_model("lessons", "Series")
            assert {(s.slug, s.price_amount, s.price) for s in new.objects.all()} == {
                ("a", 149000, "{price} · sekali bayar untuk L2 sampai L7"),
                ("b", None, "Harga spesial"),
            }
        finally:
            call_command("migrate", verbosity=0)
