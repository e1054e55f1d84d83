"""Every admin action and every custom admin view declares the permission it needs, and
enforces it: walked for each built-in role (the Authors and PIN issuers groups the migrations
create, a superuser) and a staff user who may only view.

The tables below are the specification: a new action or view fails here until it is added,
with the roles that may use it."""

from datetime import timedelta

import pytest
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.admin.options import ActionLocation
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access import services
from access.models import AccessPin, Announcement, Entitlement, RedemptionAttempt
from lessons.models import LessonImage
from payments.models import Notification, Order
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db

ROLES = ("Authors", "PIN issuers", "superuser", "view-only")
EVERYONE = frozenset(ROLES)

# Custom views (a ModelAdmin's get_urls() beyond the admin's own pages): who may open them.
VIEWS = {
    "lessons_lesson_preview": EVERYONE,
    "lessons_lesson_live_preview": {"Authors", "superuser"},
    "access_dashboard": {"PIN issuers", "superuser"},
    "access_accesspin_batches": {"PIN issuers", "superuser", "view-only"},
    "access_accesspin_batch_csv": {"PIN issuers", "superuser", "view-only"},
    "access_accesspin_batch_revoke": {"PIN issuers", "superuser"},
    "access_accesspin_issue": {"PIN issuers", "superuser"},
    "access_accesspin_for_buyer": {"PIN issuers", "superuser"},
    "access_accesspin_replace": {"PIN issuers", "superuser"},
    "access_entitlement_buyers_csv": {"PIN issuers", "superuser", "view-only"},
    "access_announcement_announce": {"Authors", "superuser"},
    "auth_user_password_change": {"superuser"},  # Django's own, checked by UserAdmin
}

# Actions, by model and name: who may run them.
ACTIONS = {
    ("accesspin", "revoke"): {"PIN issuers", "superuser"},
    ("accesspin", "revoke_with_access"): {"PIN issuers", "superuser"},
    ("entitlement", "revoke"): {"PIN issuers", "superuser"},
    ("emailaddress", "make_verified"): {"superuser"},
    ("emailaddress", "delete_selected"): {"superuser"},
    ("group", "delete_selected"): {"superuser"},
    ("user", "delete_selected"): {"superuser"},
    ("series", "delete_selected"): {"Authors", "superuser"},
    ("lesson", "delete_selected"): {"Authors", "superuser"},
    ("lessonimage", "delete_selected"): {"superuser"},
    ("announcement", "delete_selected"): {"superuser"},
    # asking the gateway again applies only what it says (as reconcile_orders does)
    ("order", "ask_gateway"): {"PIN issuers", "superuser", "view-only"},
    ("order", "refund"): {"PIN issuers", "superuser"},
}

STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")


def client_for(role: str) -> Client:
    if role == "superuser":
        user = make_user(is_staff=True, is_superuser=True)
    else:
        user = make_user(is_staff=True)
        if role == "view-only":
            models = [model._meta.model_name for model in admin.site._registry]
            user.user_permissions.set(
                Permission.objects.filter(codename__in=[f"view_{name}" for name in models])
            )
        else:
            user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def objects(db):
    """One object of every model in the admin, to address and to select."""
    series = make_series(title="S", slug="s")
    lesson = make_lesson(series, number=1)
    buyer = make_user(email="buyer@example.com")
    unverified = make_user(email="new@example.com", verified=False)
    pin = services.issue_pins(series=series, buyer="@buyer", batch="spring")[0].record
    entitlement = services.grant(user=buyer, series=series)
    image = LessonImage.objects.create(
        file="lessons/images/x-1x1.png", width=1, height=1, size=1, sha256="0" * 64
    )
    announcement = Announcement.objects.create(lesson=lesson, site_url="http://testserver/")
    attempt = RedemptionAttempt.objects.create(user=buyer, outcome="unknown")
    entry = LogEntry.objects.log_actions(
        user_id=buyer.pk, queryset=[series], action_flag=ADDITION, change_message="x"
    )[0]
    order = Order.objects.create(
        order_id="sim-permissions",
        email="buyer@example.com",
        series=series,
        amount=149_000,
        currency="IDR",
        gateway="midtrans",
        language="id",
        site_url="http://testserver/",
        expires_at=timezone.now() + timedelta(hours=1),
        status="paid",
    )
    notification = Notification.objects.create(order=order, outcome="unchanged")
    return {
        "series": series,
        "lesson": lesson,
        "order": order,
        "notification": notification,
        "user": buyer,
        "emailaddress": unverified.emailaddress_set.get(),
        "group": Group.objects.get(name="Authors"),
        "accesspin": pin,
        "entitlement": entitlement,
        "lessonimage": image,
        "announcement": announcement,
        "redemptionattempt": attempt,
        "logentry": entry,
    }


def custom_views():
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        standard = {f"{meta.app_label}_{meta.model_name}_{view}" for view in STANDARD_VIEWS}
        for pattern in model_admin.get_urls():
            if pattern.name and pattern.name not in standard:
                yield model_admin, pattern


def address(pattern, objects, model_admin) -> str:
    own = objects[model_admin.model._meta.model_name]
    values = {"lesson_pk": objects["lesson"].pk}
    kwargs = {name: values.get(name, own.pk) for name in pattern.pattern.converters}
    return reverse(f"admin:{pattern.name}", kwargs=kwargs)


def all_actions():
    """(model, its admin, action) for every action, in the change list and the change form."""
    for model, model_admin in admin.site._registry.items():
        for location in ActionLocation:
            for action in model_admin._get_base_actions(location):
                yield model, model_admin, action


def never_deletes(model_admin) -> bool:
    return model_admin.has_delete_permission.__func__ is not admin.ModelAdmin.has_delete_permission


def test_the_tables_name_every_custom_view_and_action(db):
    assert {pattern.name for _admin, pattern in custom_views()} == set(VIEWS)
    actions = {
        (model._meta.model_name, action.name)
        for model, model_admin, action in all_actions()
        # where the admin never deletes, Django never offers its "delete selected"
        if not (action.name == "delete_selected" and never_deletes(model_admin))
    }
    assert actions == set(ACTIONS)


def test_every_action_declares_its_permission(db):
    for model, _model_admin, action in all_actions():
        assert getattr(action.func, "allowed_permissions", None), f"{model.__name__}: {action}"


def test_every_custom_view_of_ours_declares_its_permission(db):
    for _model_admin, pattern in custom_views():
        if pattern.name in {"auth_user_password_change"}:
            continue  # Django's own
        assert getattr(pattern.callback, "required_permissions", None), pattern.name


@pytest.mark.parametrize("role", ROLES)
def test_custom_views_answer_403_to_roles_without_the_permission(objects, role):
    client = client_for(role)
    for model_admin, pattern in custom_views():
        url = address(pattern, objects, model_admin)
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            if role in VIEWS[pattern.name]:
                assert status != 403, (role, method, url)
            else:
                assert status == 403, (role, method, url, status)


@pytest.mark.parametrize("role", ROLES)
def test_actions_run_only_for_roles_with_the_permission(objects, role):
    for (model_name, action), allowed in ACTIONS.items():
        client = client_for(role)  # a fresh session: no message left from the last action
        obj = objects[model_name]
        meta = obj._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.post(url, {"action": action, "_selected_action": [obj.pk]})
        assert ran(response) is (role in allowed), (role, model_name, action)


def ran(response) -> bool:
    """An action ran: it said it succeeded, or (deleting, refunding) asks to confirm."""
    if response.status_code == 200:
        content = response.content
        return b"delete-selected-confirmation" in content or b'name="confirmed"' in content
    said = get_messages(response.wsgi_request)
    return response.status_code == 302 and any(m.level == messages.SUCCESS for m in said)


def test_a_view_only_user_cannot_revoke_a_pin_or_an_entitlement(objects):
    """The attack that was reported: nothing changes, whatever is posted."""
    client = client_for("view-only")
    pin, entitlement = objects["accesspin"], objects["entitlement"]
    pins = reverse("admin:access_accesspin_changelist")
    for action in ("revoke", "revoke_with_access"):
        client.post(pins, {"action": action, "_selected_action": [pin.pk]})
    client.post(
        reverse("admin:access_entitlement_changelist"),
        {"action": "revoke", "_selected_action": [entitlement.pk]},
    )
    revoke_batch = reverse("admin:access_accesspin_batch_revoke") + "?batch=spring"
    assert client.post(revoke_batch, {"revoke_access": "on"}).status_code == 403
    assert AccessPin.objects.get(pk=pin.pk).revoked_at is None
    assert Entitlement.objects.get(pk=entitlement.pk).revoked_at is None
