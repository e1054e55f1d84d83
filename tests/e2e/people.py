"""Who uses the site in the browser tests: sessions put straight into a browser context, and
staff with exactly the permissions of the groups the migrations create (a transactional test
database is emptied after each test, and the groups with it)."""

from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import make_user

# As access/migrations/0002_groups.py and 0005_desk_permissions.py give the "PIN issuers".
PIN_ISSUER = [
    "access.add_accesspin", "access.change_accesspin", "access.view_accesspin",
    "access.add_entitlement", "access.change_entitlement", "access.view_entitlement",
    "access.view_redemptionattempt", "access.view_dashboard",
    "lessons.view_series", "lessons.view_lesson", "accounts.view_user",
]  # fmt: skip
# Staff who may look at the PINs and the sales and change nothing.
VIEW_ONLY = [
    "access.view_accesspin", "access.view_entitlement", "access.view_redemptionattempt",
    "lessons.view_series", "lessons.view_lesson",
]  # fmt: skip
AUTHOR = [
    f"lessons.{action}_{model}"
    for model in ("series", "lesson")
    for action in ("add", "change", "delete", "view")
]


def staff(email: str, permissions: list[str]):
    user = make_user(email=email, is_staff=True)
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def log_in(context, base: str, user) -> None:
    """The browser context holds `user`'s session, as after logging in."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
