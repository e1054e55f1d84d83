"""The author's writing loop in the admin: the live preview, the teaser's end and warnings,
scheduled lessons, renumbering in one save, and compact rows."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lessons.models import Lesson
from lessons.rendering.pipeline import render
from lessons.rendering.preview import preview
from lessons.rendering.teaser import teaser
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
LIVE = "/admin/lessons/lesson/live-preview/"


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def author(*permissions: str) -> Client:
    user = make_user(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf(client: Client) -> str:
    client.get(reverse("admin:index"))
    return client.cookies["csrftoken"].value


class TestLivePreview:
    def test_renders_the_body_with_the_real_pipeline_and_marks_the_teaser_end(self, series):
        client = author("change_lesson")
        body = (
            "Opening words.\n\n<!-- more -->\n\nAfter the cut.\n\n"
            "```mermaid\nflowchart LR\n  A --> B\n```"
        )
        response = client.post(
            LIVE,
            {"body": body, "access": "premium", "series": series.pk},
            headers={"x-csrftoken": csrf(client)},
        )
        page = response.text
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert page.index("Opening words.") < page.index("The teaser ends here")
        assert page.index("The teaser ends here") < page.index("After the cut.")
        assert "<svg" in page  # the diagram, drawn on the server
        assert "Teaser: 2 words, up to the &lt;!-- more --&gt; line" in page
        assert "1 min read" in page
        assert f'lang="{series.language}"' in page

    def test_a_free_lesson_has_no_teaser_end(self):
        client = author("add_lesson")
        response = client.post(
            LIVE, {"body": "All of it.", "access": "free"}, headers={"x-csrftoken": csrf(client)}
        )
        assert "Free lesson: everyone reads all of it" in response.text
        assert "The teaser ends here" not in response.text

    def test_warns_when_a_premium_teaser_cut_by_the_budget_is_very_short(self):
        client = author("change_lesson")
        body = "Tiny opening.\n\n" + "word " * 400
        response = client.post(
            LIVE, {"body": body, "access": "premium"}, headers={"x-csrftoken": csrf(client)}
        )
        assert "automatic teaser is very short (2 words)" in response.text

    @pytest.mark.parametrize(
        ("who", "status"),
        [("anonymous", 302), ("reader", 302), ("staff without permission", 403)],
    )
    def test_is_for_staff_who_may_write_lessons(self, who, status):
        client = Client()
        if who == "reader":
            client.force_login(make_user())
        elif who != "anonymous":
            client.force_login(make_user(is_staff=True))
        response = client.post(LIVE, {"body": "SECRET draft", "access": "premium"})
        assert response.status_code == status
        assert "SECRET" not in response.text

    def test_refuses_a_post_without_the_csrf_token(self):
        response = author("change_lesson").post(LIVE, {"body": "x", "access": "premium"})
        assert response.status_code == 403

    def test_answers_only_posts(self):
        assert author("change_lesson").get(LIVE).status_code == 405

    def test_refuses_a_body_over_the_limit_with_the_limit(self, admin_client):
        response = admin_client.post(LIVE, {"body": "x" * (501 * 1024), "access": "free"})
        assert response.status_code == 400
        assert "the most a lesson can hold is 500 KB" in response.text

    def test_the_lesson_form_holds_the_preview_panel_and_its_script(self, admin_client, series):
        page = admin_client.get(reverse("admin:lessons_lesson_add")).text
        assert f'data-live-preview="{LIVE}"' in page
        assert "js/lesson-preview.js" in page
        assert "<script>" not in page.split("</head>")[1]  # nothing inline


@pytest.mark.parametrize("premium", [True, False])
def test_the_preview_renders_the_text_once_so_a_worker_waits_one_time_limit_at_most(premium):
    calls = []

    def counted(text):
        calls.append(text)
        return render(text)

    shown = preview(
        "## One\n\nFirst part.\n\n<!-- more -->\n\nThe rest.",
        premium=premium,
        word_budget=150,
        words_per_minute=200,
        cut_html='<hr class="cut">',
        render=counted,
    )
    assert len(calls) == 1
    assert ('<hr class="cut">' in shown.html) is premium
    assert "teaser-cut-" not in shown.html and "The rest." in shown.html


def test_teaser_end_in_the_preview_matches_the_stored_teaser():
    source = "# Title\n\nFirst paragraph.\n\n- a\n- b\n\nSecond.\n\n" + "word " * 300
    cut = teaser(source, 150)
    before = "\n".join(source.split("\n")[: cut.end_line])
    assert "Second." in before
    assert render(cut.source) == render(before)


def test_the_help_text_shows_the_marker_literally(admin_client):
    page = admin_client.get(reverse("admin:lessons_lesson_add")).text
    assert "a line <code>&lt;!-- more --&gt;</code> ends the public teaser" in page


@pytest.mark.parametrize(
    ("body", "warned"),
    [
        ("Short.\n\n" + "word " * 300, "very short"),
        ("word " * 260 + "\n\nThe rest.", "very long"),
        ("One block only, nothing to cut.", "no teaser can be cut"),
        ("Opening.\n\n<!-- more -->\n\n" + "word " * 300, None),
        (("Para " * 60 + "\n\n") * 6, None),
    ],
    ids=["short", "long", "empty", "marker", "reasonable"],
)
def test_premium_lessons_without_a_marker_are_warned_about_odd_teasers(body, warned):
    lesson = make_lesson(access="premium", body=body)
    assert (warned in lesson.teaser_warning) if warned else lesson.teaser_warning == ""


def test_saving_a_premium_lesson_with_an_odd_teaser_warns_the_author(admin_client, series):
    response = admin_client.post(
        reverse("admin:lessons_lesson_add"),
        {
            "series": series.pk,
            "number": 3,
            "title": "T",
            "slug": "t",
            "access": "premium",
            "status": "draft",
            "body": "Short.\n\n" + "word " * 300,
        },
        follow=True,
    )
    assert "automatic teaser is very short" in response.text


class TestScheduled:
    def test_the_lesson_list_says_scheduled_and_when(self, admin_client, series):
        when = timezone.now() + timedelta(days=3)
        make_lesson(series, title="Later one", published_at=when)
        make_lesson(series, title="Live one")
        page = admin_client.get(reverse("admin:lessons_lesson_changelist")).text
        assert "Scheduled for" in page
        assert (
            admin_client.get(reverse("admin:lessons_lesson_changelist"), {"live": "scheduled"})
            .context["cl"]
            .result_count
            == 1
        )

    def test_the_label(self):
        later = make_lesson(published_at=timezone.now() + timedelta(days=2))
        assert later.go_live_label.startswith("Scheduled for ")
        assert make_lesson(status="draft").go_live_label == "Draft"
        assert make_lesson().go_live_label == "Published"


def lesson_form_data(lesson, **changes):
    data = {
        "series": lesson.series_id,
        "number": lesson.number,
        "part": lesson.part,
        "title": lesson.title,
        "slug": lesson.slug,
        "summary": lesson.summary,
        "body": lesson.body,
        "access": lesson.access,
        "status": lesson.status,
        "published_at_0": "2026-01-01",
        "published_at_1": "09:00:00",
    }
    return {**data, **changes}


class TestRenumbering:
    def test_giving_a_lesson_the_next_ones_number_swaps_them(self, admin_client, series):
        three = make_lesson(series, number=3, slug="three", title="Three")
        four = make_lesson(series, number=4, slug="four", title="Four")
        url = reverse("admin:lessons_lesson_change", args=[three.pk])
        response = admin_client.post(url, lesson_form_data(three, number=4), follow=True)
        assert response.status_code == 200
        assert "“Four” took number 3" in response.text
        three.refresh_from_db()
        four.refresh_from_db()
        assert (three.number, four.number) == (4, 3)
        assert four.updated_at > four.created_at

    def test_a_new_lesson_cannot_take_a_used_number(self, admin_client, series):
        make_lesson(series, number=1)
        response = admin_client.post(
            reverse("admin:lessons_lesson_add"),
            {
                "series": series.pk,
                "number": 1,
                "title": "New",
                "slug": "new",
                "access": "free",
                "status": "draft",
            },
        )
        assert response.status_code == 200
        assert "already exists" in response.text

    def test_moving_to_another_series_needs_a_free_number(self, admin_client, series):
        other = make_series()
        make_lesson(other, number=1)
        mine = make_lesson(series, number=1, slug="mine")
        url = reverse("admin:lessons_lesson_change", args=[mine.pk])
        response = admin_client.post(url, lesson_form_data(mine, series=other.pk))
        assert response.status_code == 200
        assert "already exists" in response.text

    def test_the_series_page_swaps_and_rotates_numbers_in_one_save(self, admin_client, series):
        lessons = [make_lesson(series, number=n, slug=f"l{n}") for n in (1, 2, 3)]
        new_numbers = {lessons[0].pk: 2, lessons[1].pk: 3, lessons[2].pk: 1}
        response = admin_client.post(
            reverse("admin:lessons_series_change", args=[series.pk]),
            series_form_data(series, lessons, new_numbers),
        )
        assert response.status_code == 302, response.context["inline_admin_formsets"][
            0
        ].formset.errors
        assert dict(series.lessons.values_list("pk", "number")) == new_numbers

    def test_the_series_page_refuses_two_rows_with_one_number(self, admin_client, series):
        lessons = [make_lesson(series, number=n, slug=f"l{n}") for n in (1, 2)]
        response = admin_client.post(
            reverse("admin:lessons_series_change", args=[series.pk]),
            series_form_data(series, lessons, {lessons[0].pk: 2, lessons[1].pk: 2}),
        )
        assert response.status_code == 200
        assert sorted(series.lessons.values_list("number", flat=True)) == [1, 2]

    def test_unchanged_rows_are_not_saved_again(self, admin_client, series):
        lesson = make_lesson(series, number=1, published_at=timezone.now().replace(second=42))
        before = Lesson.objects.get(pk=lesson.pk).updated_at
        response = admin_client.post(
            reverse("admin:lessons_series_change", args=[series.pk]),
            series_form_data(series, [lesson], {lesson.pk: 1}),
        )
        assert response.status_code == 302
        assert Lesson.objects.get(pk=lesson.pk).updated_at == before


def series_form_data(series, lessons, numbers):
    prefix = "lessons"
    data = {
        "title": series.title,
        "slug": series.slug,
        "language": series.language,
        "is_published": "on",
        "position": series.position,
        "offer-TOTAL_FORMS": 0,  # the series' offer is not changed here
        "offer-INITIAL_FORMS": 0,
        f"{prefix}-TOTAL_FORMS": len(lessons),
        f"{prefix}-INITIAL_FORMS": len(lessons),
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for i, lesson in enumerate(lessons):
        when = timezone.localtime(lesson.published_at).strftime("%Y-%m-%dT%H:%M")
        data |= {
            f"{prefix}-{i}-id": lesson.pk,
            f"{prefix}-{i}-series": series.pk,
            f"{prefix}-{i}-number": numbers[lesson.pk],
            f"{prefix}-{i}-title": lesson.title,
            f"{prefix}-{i}-slug": lesson.slug,
            f"{prefix}-{i}-access": lesson.access,
            f"{prefix}-{i}-status": lesson.status,
            f"{prefix}-{i}-published_at": when,
        }
    return data


def test_series_rows_are_compact(admin_client, free_lesson):
    page = admin_client.get(reverse("admin:lessons_series_change", args=[free_lesson.series_id]))
    text = page.text
    assert 'type="datetime-local"' in text
    assert "lesson-row__number" in text
    assert "css/admin-extra.css" in text


def test_the_preview_page_is_in_the_sites_look(admin_client, premium_lesson):
    page = admin_client.get(reverse("admin:lessons_lesson_preview", args=[premium_lesson.pk]))
    assert "css/site.css" in page.text
    assert "admin/css/base.css" not in page.text
    assert 'class="page-title"' in page.text


def test_the_entitlement_lesson_picker_names_each_lessons_series(admin_client, premium_lesson):
    page = admin_client.get(reverse("admin:access_entitlement_add")).text
    assert f"{premium_lesson.series.title} · 2. Premium two" in page
