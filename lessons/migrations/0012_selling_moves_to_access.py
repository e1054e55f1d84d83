"""Selling leaves lessons: the call to action, the price, whether readers can pay on the site,
the contacts, the paywall and PIN messages and the language of the selling texts are a
series' offer now, a model of access. access's 0012 copies them there first (it says so with
run_before: lessons never names access), and copies them back when this is undone."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('lessons', '0011_series_payments_enabled'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='series',
            name='cta_html',
        ),
        migrations.RemoveField(
            model_name='series',
            name='cta_message',
        ),
        migrations.RemoveField(
            model_name='series',
            name='currency',
        ),
        migrations.RemoveField(
            model_name='series',
            name='instagram_handle',
        ),
        migrations.RemoveField(
            model_name='series',
            name='paywall_html',
        ),
        migrations.RemoveField(
            model_name='series',
            name='paywall_message',
        ),
        migrations.RemoveField(
            model_name='series',
            name='payments_enabled',
        ),
        migrations.RemoveField(
            model_name='series',
            name='pin_message',
        ),
        migrations.RemoveField(
            model_name='series',
            name='price',
        ),
        migrations.RemoveField(
            model_name='series',
            name='price_amount',
        ),
        migrations.RemoveField(
            model_name='series',
            name='sales_language',
        ),
        migrations.RemoveField(
            model_name='series',
            name='whatsapp_number',
        ),
    ]
