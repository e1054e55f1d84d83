"""series.yaml's selling keys (call_to_action, paywall_message, price, price_line, currency,
payments, instagram, whatsapp, sales_language, pin_message), as authors have always written
them: read into the series' offer by `import_series`, checked with the rest of the folder in
one pass, and saved in the same transaction."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from access.offer.models import Offer
from lessons.models import Lesson, Series
from tests.lessons.test_import import DEMO, lesson_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "series.yaml").write_text(
        "title: Test Series\nslug: test-series\nlanguage: id\n"
        "paywall_message: Kirim DM.\ninstagram: '@someone'\n"
    )
    (tmp_path / "01-one.md").write_text(lesson_file(1, "one", access="free"))
    return tmp_path


def run(folder, *args):
    out = StringIO()
    call_command("import_series", str(folder), *args, stdout=out)
    return out.getvalue()


def test_the_demo_series_offer(db):
    run(DEMO)
    offer = Series.objects.get().offer
    assert "premium" in offer.paywall_html
    assert "Lanjutkan seri ini" in offer.cta_html
    assert offer.instagram_url == "https://ig.me/m/became.ai.engineer"
    assert (offer.series.language, offer.sales_language) == ("en", "id")
    assert "{pin}" in offer.pin_message and offer.price_line
    assert (offer.price_amount, offer.currency) == (149000, "IDR")
    assert offer.takes_payments  # payments: true


def test_payments_on_the_site_are_off_unless_series_yaml_turns_them_on(folder):
    (folder / "series.yaml").write_text((folder / "series.yaml").read_text() + "price: 149000\n")
    run(folder)
    assert Offer.objects.get().takes_payments is False
    (folder / "series.yaml").write_text((folder / "series.yaml").read_text() + "payments: true\n")
    run(folder)
    assert Offer.objects.get().takes_payments is True
    yaml = (folder / "series.yaml").read_text()
    (folder / "series.yaml").write_text(yaml.replace("payments: true\n", ""))
    assert "Nothing changed" in run(folder)  # left out: as the admin last set it
    (folder / "series.yaml").write_text(yaml.replace("payments: true", "payments: false"))
    run(folder)
    assert Offer.objects.get().takes_payments is False


def test_a_folder_without_selling_keys_gives_an_empty_offer(tmp_path):
    (tmp_path / "series.yaml").write_text("title: T\nslug: t\n")
    run(tmp_path)
    offer = Offer.objects.get()
    assert (offer.cta_message, offer.price_amount, offer.instagram_handle) == ("", None, "")


def test_a_change_to_the_offer_alone_updates_the_series(folder):
    run(folder)
    (folder / "series.yaml").write_text(
        (folder / "series.yaml").read_text().replace("Kirim DM.", "Kirim DM sekarang.")
    )
    output = run(folder)
    assert "Series 'Test Series': updated" in output
    assert "sekarang" in Series.objects.get().offer.paywall_html
    assert "Nothing changed" in run(folder)


def test_a_bad_offer_saves_nothing_and_is_listed_with_the_lessons_problems(folder):
    (folder / "series.yaml").write_text(
        "title: Test Series\nslug: test-series\nwhatsapp: 0812 3456 7890\n"
    )
    (folder / "02-two.md").write_text(lesson_file(2, "two").replace("number: 2", "number: 0"))
    with pytest.raises(CommandError) as failed:
        run(folder)
    report = str(failed.value)
    assert "series.yaml: line 3: whatsapp: Write the number in international form" in report
    assert "02-two.md: line 4: 'number' must be a whole number from 1" in report
    assert not Series.objects.exists() and not Offer.objects.exists()
    assert not Lesson.objects.exists()


def test_the_selling_fields_are_imported_and_checked(folder):
    (folder / "series.yaml").write_text(
        "title: Test Series\nslug: test-series\ninstagram: '@Some.Seller'\n"
        "whatsapp: +62 812-3456-7890\nprice: Rp 99.000\nsales_language: id\n"
        "call_to_action: '### Lanjutkan\n\nDM aku.'\npin_message: 'PIN kamu: {pin} di {link}'\n"
    )
    run(folder)
    series = Series.objects.get()
    assert (series.offer.instagram_handle, series.offer.whatsapp_number) == (
        "Some.Seller",
        "6281234567890",
    )
    assert (series.offer.price_amount, series.offer.price_line) == (99000, "")  # the price alone
    assert "<h3" in series.offer.cta_html and "DM aku." in series.offer.cta_html
    assert "Nothing changed" in run(folder)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("instagram: not a handle!", "An Instagram username has up to 30 letters"),
        ("whatsapp: 0812 3456 7890", "international form"),
        ("pin_message: No placeholder here.", "Put {pin} where the PIN goes"),
        ("sales_language: fr", "is not a valid choice"),
        ("payments: sometimes", "line 3: 'payments' must be true or false"),
        ("payments: true", "line 3: payments: Set the price to take payments on the site."),
    ],
)
def test_bad_selling_fields_are_reported(folder, line, problem):
    (folder / "series.yaml").write_text(f"title: Test Series\nslug: test-series\n{line}\n")
    with pytest.raises(CommandError, match=problem):
        run(folder)
    assert not Series.objects.exists()
