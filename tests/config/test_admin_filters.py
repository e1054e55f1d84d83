"""NUL and other control characters in an admin list's filters and search answer 400 (or an
empty list), never 500: PostgreSQL refuses NUL in a query. Walked for every change list in the
admin, every filter parameter it offers and its search, on SQLite and on PostgreSQL."""

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.test import Client
from django.urls import reverse

from access import services
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db

HOSTILE = ["\x00", "a\x00b", "\x01", "\x1f", "\x7f", "\n", "2026\x00"]


@pytest.fixture
def boss(db) -> Client:
    series = make_series()
    make_lesson(series, access="premium")
    buyer = make_user()
    services.issue_pins(series=series, buyer="@buyer", batch="spring")
    services.grant(user=buyer, series=series)
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def changelists():
    for model in admin.site._registry:
        meta = model._meta
        yield reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")


def parameters(boss: Client, url: str) -> set[str]:
    """Every query parameter the list reads: its filters', its dates', search, order, page."""
    response = boss.get(url)
    assert response.status_code == 200, url
    cl = response.context["cl"]
    names = {SEARCH_VAR, ORDER_VAR, PAGE_VAR}
    for spec in cl.filter_specs:
        names.update(spec.expected_parameters())
    if cl.date_hierarchy:
        names.update(f"{cl.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return names


def test_every_filter_and_search_of_every_list_refuses_control_characters(boss):
    walked = 0
    for url in changelists():
        for name in parameters(boss, url):
            for value in HOSTILE:
                response = boss.get(url, {name: value})
                walked += 1
                assert response.status_code == 400, (url, name, repr(value))
                assert "no filter or search can contain" in response.text
        response = boss.get(url, {"\x00": "1"})  # in a parameter's name too
        assert response.status_code == 400, url
    assert walked > 300  # every list, not a few of them


@pytest.mark.parametrize(
    "address",
    [
        "/admin/access/accesspin/?batch=%00",
        "/admin/access/accesspin/?buyer=%00",
        "/admin/lessons/lesson/?status=%00",
        "/admin/accounts/user/?email=%00",
        "/admin/access/redemptionattempt/?reader=%00",
        "/admin/access/accesspin/?q=%00",
    ],
)
def test_the_reported_addresses(boss, address):
    assert boss.get(address).status_code == 400


def test_ordinary_filters_and_searches_still_work(boss):
    response = boss.get("/admin/access/accesspin/", {"batch": "spring", "q": "@buyer"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert boss.get("/admin/access/accesspin/", {"q": "café\tnoir"}).status_code == 400
    assert boss.get("/admin/access/accesspin/", {"q": "café noir"}).status_code == 200
