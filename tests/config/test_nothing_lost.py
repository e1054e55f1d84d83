"""Nothing is lost: migrations reverse cleanly, and a failed write leaves the database as it was."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from access import services
from access.models import AccessPin
from tests.factories import make_lesson


@pytest.mark.django_db(transaction=True)
def test_the_apps_migrations_reverse_and_apply_again():
    call_command("migrate", "lessons", "zero", verbosity=0)
    assert not Group.objects.filter(name__in=["Authors", "PIN issuers"]).exists()
    call_command("migrate", verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) >= {"Authors", "PIN issuers"}
    assert make_lesson().pk


@pytest.mark.django_db
def test_a_failed_issue_leaves_no_pin_behind(series, monkeypatch):
    lesson = make_lesson(series, number=2, access="premium")
    through = AccessPin.lessons.through

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(through.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        services.issue_pins(series=series, lessons=[lesson], count=50)
    assert not AccessPin.objects.exists()
