"""Saving is a service, not a side effect: lessons.services renders, saves, indexes and says
that what readers see changed, in one transaction, with the share images drawn on commit; a
model's save() saves its row and nothing more; bulk writes go through the services too."""

from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from caching import generation
from lessons import services, share
from lessons.models import Lesson, SearchEntry, Series
from tests.factories import make_lesson, make_series, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    """The content generation as it stands now, to compare with after a write."""
    return generation.token()


class TestSaveStaysPlain:
    def test_a_series_save_renders_nothing_and_changes_nothing_else(self, version):
        series = Series(title="Plain", slug="plain", description="*Not rendered*")
        series.save()
        assert Series.objects.get().description_html == ""
        assert generation.token() == version

    def test_a_lesson_save_renders_indexes_and_invalidates_nothing(self):
        lesson = Lesson(series=make_series(), number=1, title="T", slug="t", body="*Words*")
        version = generation.token()
        lesson.save()
        stored = Lesson.objects.get(pk=lesson.pk)
        assert (stored.body_html, stored.teaser_html, stored.toc_html) == ("", "", "")
        assert not SearchEntry.objects.filter(lesson=lesson).exists()
        assert generation.token() == version

    def test_a_delete_says_nothing_either(self):
        lesson = make_lesson()
        version = generation.token()
        lesson.delete()
        assert generation.token() == version


class TestSavingServices:
    def test_save_lesson_renders_indexes_and_invalidates(self, version):
        lesson = Lesson(series=make_series(), number=1, title="T", slug="t", body="*Words*")
        assert services.save_lesson(lesson) is True
        assert Lesson.objects.get(pk=lesson.pk).body_html == "<p><em>Words</em></p>"
        assert SearchEntry.objects.filter(lesson=lesson, part="public").exists()
        assert generation.token() != version

    def test_a_lesson_whose_index_cannot_be_written_is_not_saved_half(self, monkeypatch):
        lesson = make_lesson(title="Before")
        version = generation.token()

        def broken(lesson):
            raise RuntimeError("the index is away")

        monkeypatch.setattr(SearchEntry.objects, "write", broken)
        lesson.title = "After"
        with pytest.raises(RuntimeError):
            services.save_lesson(lesson)
        assert Lesson.objects.get(pk=lesson.pk).title == "Before"
        assert generation.token() == version

    def test_a_series_whose_entries_cannot_follow_its_language_is_not_saved_half(self, monkeypatch):
        series = make_series(language="en")
        make_lesson(series)

        def broken(series):
            raise RuntimeError("the index is away")

        monkeypatch.setattr(SearchEntry.objects, "reconfigure", broken)
        series.language = "id"
        with pytest.raises(RuntimeError):
            services.save_series(series)
        assert Series.objects.get(pk=series.pk).language == "en"

    def test_share_images_are_drawn_once_the_save_commits(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            lesson = make_lesson(title="Drawn later")
            assert not default_storage.exists(share.lesson_card(lesson).name)
        assert callbacks  # waiting for the commit
        for callback in callbacks:
            callback()
        assert default_storage.exists(share.lesson_card(lesson).name)


class TestBulkWrites:
    def test_update_lessons_invalidates_and_writes_the_index_again(self):
        lesson = make_lesson(access="free", body="Open text.")
        version = generation.token()
        services.update_lessons(Lesson.objects.filter(pk=lesson.pk), access="premium")
        assert generation.token() != version
        assert set(SearchEntry.objects.filter(lesson=lesson).values_list("part", flat=True)) == {
            "public",
            "full",
        }

    def test_a_queryset_update_alone_is_only_a_write(self):
        lesson = make_lesson(access="free")
        version = generation.token()
        Lesson.objects.filter(pk=lesson.pk).update(access="premium")
        assert generation.token() == version
        assert list(SearchEntry.objects.filter(lesson=lesson).values_list("part", flat=True)) == [
            "public"
        ]

    def test_renumbering_swaps_numbers_and_invalidates(self):
        series = make_series()
        one, two = make_lesson(series, number=1), make_lesson(series, number=2)
        version = generation.token()
        services.renumber_lessons({one.pk: 2, two.pk: 1})
        assert dict(series.lessons.values_list("pk", "number")) == {one.pk: 2, two.pk: 1}
        assert generation.token() != version


class TestTheAdminWritesThroughTheServices:
    @pytest.fixture
    def admin(self):
        client = Client()
        client.force_login(make_staff(is_superuser=True))
        return client

    def test_the_delete_selected_action_invalidates(self, admin):
        lesson = make_lesson()
        version = generation.token()
        response = admin.post(
            reverse("admin:lessons_lesson_changelist"),
            {"action": "delete_selected", "_selected_action": [lesson.pk], "post": "yes"},
        )
        assert response.status_code == 302
        assert not Lesson.objects.exists()
        assert generation.token() != version

    def test_publishing_a_series_from_the_list_invalidates(self, admin):
        series = make_series(is_published=False)
        version = generation.token()
        response = admin.post(
            reverse("admin:lessons_series_changelist"),
            {
                "form-TOTAL_FORMS": 1,
                "form-INITIAL_FORMS": 1,
                "form-0-id": series.pk,
                "form-0-is_published": "on",
                "form-0-position": 0,
                "_save": "Save",
            },
        )
        assert response.status_code == 302
        assert Series.objects.get().is_published
        assert generation.token() != version

    def test_render_lessons_saves_through_them(self):
        lesson = make_lesson(body="*Again*")
        Lesson.objects.filter(pk=lesson.pk).update(body_html="<p>stale</p>")
        version = generation.token()
        call_command("render_lessons", stdout=StringIO())
        assert Lesson.objects.get(pk=lesson.pk).body_html == "<p><em>Again</em></p>"
        assert generation.token() != version
