"""Followers of a series, and deliveries addressed to an e-mail address (a follower may have
no account): existing deliveries take their reader's address. Deliveries also record when a
sender claimed them and when a failed one may be tried again."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def address_from_reader(apps, schema_editor):
    Delivery = apps.get_model("access", "Delivery")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    emails = dict(User.objects.filter(pk__in=Delivery.objects.values("user")).values_list("pk", "email"))
    for delivery in Delivery.objects.filter(email="").only("pk", "user_id").iterator():
        Delivery.objects.filter(pk=delivery.pk).update(email=emails.get(delivery.user_id, ""))


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0007_feed_token'),
        ('lessons', '0009_series_published_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Follow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(help_text='Kept in lower case.', max_length=254, verbose_name='e-mail address')),
                ('language', models.CharField(blank=True, choices=[('en', 'English'), ('id', 'Bahasa Indonesia')], max_length=10, verbose_name='language')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='since')),
            ],
            options={
                'verbose_name': 'follower',
                'verbose_name_plural': 'followers',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='delivery',
            name='one_delivery_per_reader',
        ),
        migrations.AddField(
            model_name='delivery',
            name='claimed_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='delivery',
            name='email',
            field=models.EmailField(default='', max_length=254, verbose_name='e-mail address'),
            preserve_default=False,
        ),
        migrations.RunPython(address_from_reader, migrations.RunPython.noop),
        migrations.AddField(
            model_name='delivery',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, help_text='Not tried before this time (after a failed try).', null=True),
        ),
        migrations.AlterField(
            model_name='delivery',
            name='status',
            field=models.CharField(choices=[('queued', 'Queued'), ('sending', 'Sending'), ('sent', 'Sent'), ('skipped', 'Skipped (no longer wanted or no access)'), ('failed', 'Failed')], default='queued', max_length=10),
        ),
        migrations.AlterField(
            model_name='delivery',
            name='user',
            field=models.ForeignKey(blank=True, help_text='The reader with this address, if it belongs to an account.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(fields=('announcement', 'email'), name='one_delivery_per_address'),
        ),
        migrations.AddField(
            model_name='follow',
            name='series',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lessons.series', verbose_name='series'),
        ),
        migrations.AddField(
            model_name='follow',
            name='user',
            field=models.ForeignKey(blank=True, help_text='Set when a logged-in reader followed: the e-mails go to their address.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='reader'),
        ),
        migrations.AddConstraint(
            model_name='follow',
            constraint=models.UniqueConstraint(fields=('series', 'email'), name='one_follow_per_address'),
        ),
        migrations.AddConstraint(
            model_name='follow',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('user', 'series'), name='one_follow_per_reader'),
        ),
    ]
