"""Two groups ready to hand out: "Authors" edit series and lessons; "PIN issuers" issue and
revoke PINs, grant and revoke entitlements, and read the redemption log."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Authors": {
        "lessons": {"series": "add change delete view", "lesson": "add change delete view"},
    },
    "PIN issuers": {
        "access": {
            "accesspin": "add change view",
            "entitlement": "add change view",
            "redemptionattempt": "view",
        },
        "lessons": {"series": "view", "lesson": "view"},
        "accounts": {"user": "view"},
    },
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, apps_perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, models in apps_perms.items():
            for model, actions in models.items():
                codenames = [f"{action}_{model}" for action in actions.split()]
                group.permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label=app_label, codename__in=codenames
                    )
                )


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_initial"),
        ("lessons", "0001_initial"),
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
