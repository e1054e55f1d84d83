"""What each PIN was made for (a sale, a promotion or batch, a replacement), so the sales
dashboard counts sales apart; and the anonymous counts of readers meeting the offer (paywall
views, DM and WhatsApp taps), one row per lesson, day and event.

PINs made before are sorted by what they look like: one use, no batch label and a buyer is a
sale; a PIN made for the same buyer and series within seconds of another being revoked (what
"Replace a lost PIN" does) is a replacement; anything else a promotion or batch."""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def sort_pins(apps, schema_editor):
    AccessPin = apps.get_model("access", "AccessPin")
    AccessPin.objects.filter(max_uses=1, batch="").exclude(buyer="").update(kind="sale")
    revoked = AccessPin.objects.filter(revoked_at__isnull=False).exclude(buyer="")
    for old in revoked.only("series_id", "buyer", "revoked_at").iterator():
        AccessPin.objects.filter(
            series_id=old.series_id,
            buyer=old.buyer,
            created_at__gte=old.revoked_at - timedelta(seconds=5),
            created_at__lte=old.revoked_at + timedelta(seconds=5),
        ).exclude(pk=old.pk).update(kind="replacement")


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0008_follows_and_deliveries_by_address'),
        ('lessons', '0010_series_price_amount'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OfferCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('event', models.CharField(choices=[('paywall', 'Paywall views'), ('dm', 'DM taps'), ('whatsapp', 'WhatsApp taps')], max_length=10, verbose_name='event')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='count')),
            ],
            options={
                'verbose_name': 'offer count',
                'verbose_name_plural': 'offer counts',
            },
        ),
        migrations.AddField(
            model_name='accesspin',
            name='kind',
            field=models.CharField(choices=[('sale', 'Sold to a buyer'), ('promotion', 'Promotion or batch'), ('replacement', 'Replacement of a lost PIN')], default='promotion', editable=False, help_text='Sold: one PIN for one reader, made for a buyer; a promotion or batch: made several at a time, with several uses or a batch label; a replacement: for a lost PIN.', max_length=12, verbose_name='kind'),
        ),
        migrations.AddIndex(
            model_name='accesspin',
            index=models.Index(fields=['kind', 'created_at', 'series'], name='pin_kind_issued_at'),
        ),
        migrations.AddField(
            model_name='offercount',
            name='lesson',
            field=models.ForeignKey(blank=True, help_text='Empty: on the series page or the home page.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lessons.lesson', verbose_name='lesson'),
        ),
        migrations.AddField(
            model_name='offercount',
            name='series',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lessons.series', verbose_name='series'),
        ),
        migrations.AddIndex(
            model_name='offercount',
            index=models.Index(fields=['series', 'lesson', 'day', 'event'], name='offer_count_key'),
        ),
        migrations.AddIndex(
            model_name='offercount',
            index=models.Index(fields=['day', 'series'], name='offer_count_day'),
        ),
        migrations.RunPython(sort_pins, migrations.RunPython.noop),
    ]
