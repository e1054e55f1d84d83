"""TIME_ZONE: read from the environment, documented with the Indonesian example, and the zone
of the times staff read and type in the admin, named beside them."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.config.test_envfile import ROOT, environment_table
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db


def test_it_is_read_from_the_environment():
    script = (
        "import django; django.setup(); from django.conf import settings; print(settings.TIME_ZONE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ENV_FILE": "/nonexistent",
            "DEBUG": "1",
            "TIME_ZONE": "Asia/Jakarta",
            "PATH": "/usr/bin:/bin",
        },
        check=True,
    )
    assert result.stdout.strip() == "Asia/Jakarta"


def test_the_tables_name_asia_jakarta():
    assert "`Asia/Jakarta`" in environment_table()["TIME_ZONE"]
    assert "`TIME_ZONE` (`UTC`; `Asia/Jakarta`" in (ROOT / "README.md").read_text()


@pytest.fixture
def jakarta(settings):
    settings.TIME_ZONE = "Asia/Jakarta"
    timezone.deactivate()
    yield
    timezone.deactivate()


@pytest.fixture
def scheduled(db):
    """A lesson due on 3 December 2030 at 02:00 UTC, which is 09:00 in Jakarta."""
    series = make_series(title="S", slug="s")
    due = datetime(2030, 12, 3, 2, 0, tzinfo=UTC)
    return make_lesson(series, number=1, published_at=due)


@pytest.fixture
def owner():
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_scheduled_times_read_in_the_zone_with_its_name(jakarta, scheduled, owner):
    lessons = owner.get(reverse("admin:lessons_lesson_changelist")).text
    assert "Scheduled for Dec. 3, 2030, 9 a.m. WIB" in lessons
    series = owner.get(reverse("admin:lessons_series_change", args=[scheduled.series_id])).text
    assert "Scheduled: 3 Dec 2030, 09:00 WIB" in series
    assert "Published at (WIB)" in series
    assert "Times are in WIB (Asia/Jakarta)." in series
    form = owner.get(reverse("admin:lessons_lesson_change", args=[scheduled.pk])).text
    assert "Times are in WIB (Asia/Jakarta)." in form
    assert 'value="09:00:00"' in form  # the time typed is the time in Jakarta


def test_a_time_typed_in_the_admin_is_a_time_in_the_zone(jakarta, scheduled, owner):
    url = reverse("admin:lessons_series_change", args=[scheduled.series_id])
    form = owner.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "offer-TOTAL_FORMS": "0",  # the series' offer is not changed here
            "offer-INITIAL_FORMS": "0",
            "lessons-TOTAL_FORMS": "1",
            "lessons-INITIAL_FORMS": "1",
            "lessons-0-id": scheduled.pk,
            "lessons-0-series": scheduled.series_id,
            "lessons-0-number": "1",
            "lessons-0-title": scheduled.title,
            "lessons-0-access": "free",
            "lessons-0-status": "published",
            "lessons-0-published_at": "2030-12-04T09:00",
        }
    )
    assert owner.post(url, data).status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.published_at == datetime(2030, 12, 4, 2, 0, tzinfo=UTC)


def test_pin_expiry_fields_name_the_zone(jakarta, owner):
    from access import services

    pin = services.issue_pins(series=make_series(), expires_at=timezone.now() + timedelta(days=3))[
        0
    ].record
    page = owner.get(reverse("admin:access_accesspin_change", args=[pin.pk])).text
    assert "Times are in WIB (Asia/Jakarta)." in page


def test_a_superuser_is_told_while_the_zone_is_utc(settings, owner):
    settings.TIME_ZONE = "UTC"
    assert "TIME_ZONE=Asia/Jakarta" in owner.get(reverse("admin:index")).text


def test_and_not_once_it_is_set(jakarta, owner):
    assert "TIME_ZONE=Asia/Jakarta" not in owner.get(reverse("admin:index")).text
