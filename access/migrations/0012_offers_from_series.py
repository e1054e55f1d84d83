"""Every series' selling texts and values move into its offer, as they are: the Markdown and
its rendered HTML, the price (amount, currency, price line), whether readers can pay on the
site (Series.payments_enabled, the offer's takes_payments), the contacts, the language of
the selling texts and the PIN message. Runs before lessons' 0012, which removes them from the
series (and, undone, after it has put the fields back, to copy them home).

The groups that edit or read series get the same on offers: "Authors" add, change, delete
and view them (on the series' page), "PIN issuers" view them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Offer field: the Series field it was.
FIELDS = {
    "cta_message": "cta_message",
    "cta_html": "cta_html",
    "paywall_message": "paywall_message",
    "paywall_html": "paywall_html",
    "price_amount": "price_amount",
    "currency": "currency",
    "price_line": "price",
    "takes_payments": "payments_enabled",
    "instagram_handle": "instagram_handle",
    "whatsapp_number": "whatsapp_number",
    "sales_language": "sales_language",
    "pin_message": "pin_message",
}
GRANTS = {
    "Authors": ["add_offer", "change_offer", "delete_offer", "view_offer"],
    "PIN issuers": ["view_offer"],
}


def offers_from_series(apps, schema_editor):
    Series = apps.get_model("lessons", "Series")
    Offer = apps.get_model("access", "Offer")
    Offer.objects.bulk_create(
        [
            Offer(series=series, **{mine: getattr(series, theirs) for mine, theirs in FIELDS.items()})
            for series in Series.objects.exclude(offer__isnull=False).order_by("pk")
        ]
    )


def series_from_offers(apps, schema_editor):
    Series = apps.get_model("lessons", "Series")
    Offer = apps.get_model("access", "Offer")
    for offer in Offer.objects.order_by("pk"):
        Series.objects.filter(pk=offer.series_id).update(
            **{theirs: getattr(offer, mine) for mine, theirs in FIELDS.items()}
        )


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="access", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0011_offer"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    run_before = [("lessons", "0012_selling_moves_to_access")]

    operations = [
        migrations.RunPython(offers_from_series, series_from_offers),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
