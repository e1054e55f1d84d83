"""A series' price as a number (whole rupiah) beside the price line shown to readers; prices
written as text ("Rp 149.000 · for lessons 2–7") are read into the number, and the line
then says {price} where the amount was, so it follows the number from then on.

The selling fields' own validators moved with them to access (access.offer, its migration
0010); validators do not change the schema, so they are left out here."""

import re

import lessons.validators
from django.db import migrations, models

# As split_price_text (now access.offer.placeholders) reads a price written as text, frozen here.
PRICE_TEXT = re.compile(
    r"^\s*(?:Rp\.?|IDR)\s*(?P<amount>\d{1,3}(?:[.,]\d{3})+|\d+)(?:,-|,00|\.00)?"
    r"(?![.,]?\d|\s*(?:rb|ribu|k|jt|juta)\b)",
    re.IGNORECASE,
)


def read_prices(apps, schema_editor):
    Series = apps.get_model("lessons", "Series")
    for series in Series.objects.exclude(price=""):
        match = PRICE_TEXT.match(series.price)
        if match is None:
            continue  # kept as it was written, shown as before; no amount to count
        rest = series.price[match.end():]
        series.price_amount = int(re.sub(r"[.,]", "", match["amount"]))
        series.price = "{price}" + rest if rest.strip() else ""
        series.save(update_fields=["price", "price_amount"])


def write_prices(apps, schema_editor):
    """Back to a price as text, written as it is shown in Indonesian."""
    Series = apps.get_model("lessons", "Series")
    for series in Series.objects.filter(price_amount__isnull=False):
        amount = f"Rp {series.price_amount:,}".replace(",", ".")
        series.price = (series.price or "{price}").replace("{price}", amount)[:120]
        series.save(update_fields=["price"])


class Migration(migrations.Migration):

    dependencies = [
        ('lessons', '0009_series_published_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='series',
            name='currency',
            field=models.CharField(choices=[('IDR', 'Indonesian rupiah (Rp)')], default='IDR', max_length=3, verbose_name='currency'),
        ),
        migrations.AddField(
            model_name='series',
            name='price_amount',
            field=models.PositiveIntegerField(blank=True, help_text='What access to the premium lessons costs, as a whole number such as 149000: readers see Rp149.000 (Rp 149,000 in English), {price} in the texts is it, and the sales dashboard counts revenue with it. Leave it empty to show no price.', null=True, verbose_name='price'),
        ),
        migrations.AlterField(
            model_name='series',
            name='cta_message',
            field=models.TextField(blank=True, help_text='Markdown shown at the end of free lessons, on the series page above the locked lessons and on the home page, to readers who do not have the whole series: what the premium lessons give and how to get them. {price}, {first_premium}, {last_premium}, {premium_count} and {series} are filled in from the published lessons, so “lessons {first_premium}–{last_premium}” stays true when you add one.', validators=[lessons.validators.validate_markdown], verbose_name='call to action'),
        ),
        migrations.AlterField(
            model_name='series',
            name='paywall_message',
            field=models.TextField(blank=True, help_text='Markdown shown under the teaser of a premium lesson to readers without access, with the same placeholders as the call to action. Empty: the call to action is shown there too.', validators=[lessons.validators.validate_markdown], verbose_name='paywall message'),
        ),
        migrations.AlterField(
            model_name='series',
            name='pin_message',
            field=models.TextField(blank=True, help_text='The message prepared for a buyer when a PIN is issued for them, to paste into the DM. {pin} is replaced by the PIN, {link} by the page where it is redeemed, and the call to action’s placeholders ({series}, {price}…) as there. Empty: a standard message in the language of the selling texts.', verbose_name='PIN message'),
        ),
        migrations.AlterField(
            model_name='series',
            name='price',
            field=models.CharField(blank=True, help_text='Shown beside the buttons, such as “{price} · once, for lessons {first_premium}–{last_premium}”, with the call to action’s placeholders. Leave it empty to show the price alone.', max_length=120, verbose_name='price line'),
        ),
        migrations.RunPython(read_prices, write_prices),
    ]
