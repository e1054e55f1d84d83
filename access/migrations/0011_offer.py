"""A series' offer (its call to action, price, whether readers can pay on the site, contacts,
paywall and PIN messages) becomes a model of access, one per series; 0012 copies each series' texts and values into it, and
lessons' 0012 then removes them from the series."""

import access.offer.contacts
import access.offer.placeholders
import django.db.models.deletion
import lessons.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0010_held_pin'),
        ('lessons', '0011_series_payments_enabled'),
    ]

    operations = [
        migrations.CreateModel(
            name='Offer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cta_message', models.TextField(blank=True, help_text='Markdown shown at the end of free lessons, on the series page above the locked lessons and on the home page, to readers who do not have the whole series: what the premium lessons give and how to get them. {price}, {first_premium}, {last_premium}, {premium_count} and {series} are filled in from the published lessons, so “lessons {first_premium}–{last_premium}” stays true when you add one.', validators=[lessons.validators.validate_markdown, access.offer.placeholders.validate_selling_text], verbose_name='call to action')),
                ('cta_html', models.TextField(blank=True, editable=False)),
                ('paywall_message', models.TextField(blank=True, help_text='Markdown shown under the teaser of a premium lesson to readers without access, with the same placeholders as the call to action. Empty: the call to action is shown there too.', validators=[lessons.validators.validate_markdown, access.offer.placeholders.validate_selling_text], verbose_name='paywall message')),
                ('paywall_html', models.TextField(blank=True, editable=False)),
                ('price_amount', models.PositiveIntegerField(blank=True, help_text='What access to the premium lessons costs, as a whole number such as 149000: readers see Rp149.000 (Rp 149,000 in English), {price} in the texts is it, and the sales dashboard counts revenue with it. Leave it empty to show no price.', null=True, verbose_name='price')),
                ('currency', models.CharField(choices=[('IDR', 'Indonesian rupiah (Rp)')], default='IDR', max_length=3, verbose_name='currency')),
                ('price_line', models.CharField(blank=True, help_text='Shown beside the buttons, such as “{price} · once, for lessons {first_premium}–{last_premium}”, with the call to action’s placeholders. Leave it empty to show the price alone.', max_length=120, validators=[access.offer.placeholders.validate_selling_text], verbose_name='price line')),
                ('takes_payments', models.BooleanField(default=False, help_text='Readers can also pay on the site (QRIS, e-wallets, bank transfer) beside the DM button, and get their PIN at once. Needs a price.', verbose_name='payments on')),
                ('instagram_handle', models.CharField(blank=True, help_text='Without @. The main button opens a direct message to this account.', max_length=31, validators=[access.offer.contacts.validate_instagram_handle], verbose_name='Instagram username')),
                ('whatsapp_number', models.CharField(blank=True, help_text='Optional second channel, in international form without +, such as 6281234567890.', max_length=32, validators=[access.offer.contacts.validate_whatsapp_number], verbose_name='WhatsApp number')),
                ('sales_language', models.CharField(blank=True, choices=[('en', 'English'), ('id', 'Indonesian')], help_text='The language of the call to action, paywall message and PIN message, when it differs from the lessons’.', max_length=16, verbose_name='language of the selling texts')),
                ('pin_message', models.TextField(blank=True, help_text='The message prepared for a buyer when a PIN is issued for them, to paste into the DM. {pin} is replaced by the PIN, {link} by the page where it is redeemed, and the call to action’s placeholders ({series}, {price}…) as there. Empty: a standard message in the language of the selling texts.', validators=[access.offer.placeholders.validate_pin_message], verbose_name='PIN message')),
                ('series', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='offer', to='lessons.series', verbose_name='series')),
            ],
            options={
                'verbose_name': 'offer',
                'verbose_name_plural': 'offers',
            },
        ),
    ]
