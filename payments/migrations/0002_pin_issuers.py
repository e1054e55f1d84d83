"""The PIN issuers (the seller's helpers) see orders and the gateway's notifications, and may
refund an order through the gateway."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_order", "refund_order", "view_notification"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("payments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="PIN issuers")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="payments", codename__in=PERMISSIONS)
    )


def take_back(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="PIN issuers").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="payments", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("access", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, take_back)]
