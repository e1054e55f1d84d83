"""Authoring in the admin: lists, search, and the staff preview."""

import pytest
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_lesson_list_filters_and_searches(admin_client, premium_lesson, free_lesson):
    url = reverse("admin:lessons_lesson_changelist")
    assert admin_client.get(url, {"access": "premium"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"status": "draft"}).context["cl"].result_count == 0
    assert admin_client.get(url, {"q": "Premium two"}).context["cl"].result_count == 1


def test_series_page_edits_its_lessons_inline(admin_client, premium_lesson):
    url = reverse("admin:lessons_series_change", args=[premium_lesson.series.pk])
    assert "Premium two" in admin_client.get(url).text


def test_saving_in_the_admin_renders_the_markdown(admin_client, series):
    response = admin_client.post(
        reverse("admin:lessons_lesson_add"),
        {
            "series": series.pk,
            "number": 5,
            "title": "Written in admin",
            "slug": "written-in-admin",
            "body": "Hello *world*",
            "access": "premium",
            "status": "draft",
        },
    )
    assert response.status_code == 302
    assert series.lessons.get(slug="written-in-admin").body_html == "<p>Hello <em>world</em></p>"


def test_an_oversized_body_is_refused_in_the_admin_and_nothing_is_lost(admin_client, free_lesson):
    url = reverse("admin:lessons_lesson_change", args=[free_lesson.pk])
    data = {
        "series": free_lesson.series.pk,
        "number": 1,
        "title": "Edited title",
        "slug": free_lesson.slug,
        "body": "x" * (501 * 1024),
        "access": "free",
        "status": "published",
        "published_at_0": "2026-01-01",
        "published_at_1": "09:00:00",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "the most a lesson can hold is 500 KB" in response.text
    free_lesson.refresh_from_db()
    assert free_lesson.title == "Free one"


def test_preview_shows_the_full_text_and_what_a_reader_without_access_gets(
    admin_client, premium_lesson
):
    response = admin_client.get(reverse("admin:lessons_lesson_preview", args=[premium_lesson.pk]))
    page = response.text
    assert response.status_code == 200
    assert "SECRET-PREMIUM-SENTENCE" in page
    assert "What a reader without access gets" in page
    assert "Ask for a PIN." in page
    assert "no-store" in response["Cache-Control"]
    assert premium_lesson.get_absolute_url() in page


def test_preview_is_for_staff_only(client, reader_client, premium_lesson):
    url = reverse("admin:lessons_lesson_preview", args=[premium_lesson.pk])
    assert client.get(url).status_code == 302
    assert reader_client.get(url).status_code == 302
    assert "SECRET-PREMIUM-SENTENCE" not in reader_client.get(url, follow=True).text


def test_lessons_have_view_on_site(admin_client, premium_lesson):
    page = admin_client.get(reverse("admin:lessons_lesson_change", args=[premium_lesson.pk])).text
    assert "View on site" in page
