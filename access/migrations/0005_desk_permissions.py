"""The groups get what the seller's and author's desk needs: "PIN issuers" see the sales
dashboard; "Authors" upload lesson images and announce new lessons."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "PIN issuers": {("access", "view_dashboard")},
    "Authors": {
        ("lessons", "add_lessonimage"),
        ("lessons", "change_lessonimage"),
        ("lessons", "view_lessonimage"),
        ("access", "add_announcement"),
        ("access", "view_announcement"),
    },
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


def take_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GRANTS.items():
        for group in Group.objects.filter(name=name):
            for app_label, codename in perms:
                group.permissions.remove(
                    *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0004_desk"),
        ("lessons", "0003_images_and_help"),
    ]

    operations = [migrations.RunPython(grant, take_back)]
