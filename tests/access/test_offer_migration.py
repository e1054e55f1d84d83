"""Selling moves out of lessons without losing a word: access's migrations 0011 and 0012
create each series' offer and copy into it every selling text and value the series held,
before lessons' 0012 removes them from the series; undone, they go back."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("lessons", "0011_series_payments_enabled"), ("access", "0010_held_pin")]
AFTER = [("lessons", "0012_selling_moves_to_access"), ("access", "0012_offers_from_series")]

# Every selling field of the series before, with a value that is not its default.
SELLING = {
    "cta_message": "### Lanjutkan\n\nPelajaran {first_premium}–{last_premium}: DM aku.",
    "cta_html": "<h3>Lanjutkan</h3>\n<p>Pelajaran {first_premium}–{last_premium}: DM aku.</p>",
    "paywall_message": "Sisanya premium ({price}).",
    "paywall_html": "<p>Sisanya premium ({price}).</p>",
    "price_amount": 149000,
    "currency": "IDR",
    "price": "{price} · sekali bayar untuk pelajaran {first_premium}–{last_premium}",
    "payments_enabled": True,
    "instagram_handle": "became.ai.engineer",
    "whatsapp_number": "6281234567890",
    "sales_language": "id",
    "pin_message": "PIN kamu: {pin}\nBuka {link}",
}
# The offer's field for each, where its name changed.
RENAMED = {"price": "price_line", "payments_enabled": "takes_payments"}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_every_selling_text_and_value_is_kept_in_the_offer_and_goes_back_when_undone():
    apps = migrate(BEFORE)
    try:
        Series = apps.get_model("lessons", "Series")
        selling = Series.objects.create(title="Full", slug="full", language="en", **SELLING)
        bare = Series.objects.create(title="Bare", slug="bare")
        # as access's 0002 made it (a test run before this one may have flushed it away)
        apps.get_model("auth", "Group").objects.get_or_create(name="Authors")

        apps = migrate(AFTER)
        Offer = apps.get_model("access", "Offer")
        offer = Offer.objects.get(series_id=selling.pk)
        assert {RENAMED.get(name, name): value for name, value in SELLING.items()} == {
            RENAMED.get(name, name): getattr(offer, RENAMED.get(name, name)) for name in SELLING
        }
        empty = Offer.objects.get(series_id=bare.pk)
        assert (empty.cta_message, empty.price_amount, empty.currency) == ("", None, "IDR")
        assert empty.takes_payments is False
        series_fields = {f.name for f in apps.get_model("lessons", "Series")._meta.fields}
        assert not series_fields & set(SELLING)

        Permission = apps.get_model("auth", "Permission")
        authors = Permission.objects.filter(group__name="Authors", content_type__model="offer")
        assert set(authors.values_list("codename", flat=True)) >= {"change_offer", "add_offer"}

        apps = migrate(BEFORE)
        back = apps.get_model("lessons", "Series").objects.get(pk=selling.pk)
        assert {name: getattr(back, name) for name in SELLING} == SELLING
    finally:
        call_command("migrate", verbosity=0)
