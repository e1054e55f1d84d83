"""Reading a lesson: its table of contents, copy buttons on code, and the end of a series."""

import io

import pytest
from django.core.management import call_command

from lessons.models import Lesson
from lessons.rendering.pipeline import render
from lessons.rendering.toc import table_of_contents
from tests.factories import make_lesson

pytestmark = pytest.mark.django_db

THREE_HEADINGS = "Intro.\n\n## Install\n\nText.\n\n### On a *phone*\n\nText.\n\n## Run it\n\nText."


class TestTableOfContents:
    def test_three_headings_make_a_nested_list_of_links_to_their_anchors(self):
        toc = table_of_contents(render(THREE_HEADINGS))
        assert toc == (
            '<ol><li><a href="#install">Install</a>'
            '<ol><li><a href="#on-a-phone">On a phone</a></li></ol></li>'
            '<li><a href="#run-it">Run it</a></li></ol>'
        )

    @pytest.mark.parametrize(
        "source", ["", "No headings at all.", "## One\n\n## Two", "# Title\n\n## Two"]
    )
    def test_fewer_than_three_headings_make_none(self, source):
        assert table_of_contents(render(source)) == ""

    def test_heading_text_is_escaped_and_the_permalink_left_out(self):
        html = render("## A &lt;b&gt; & c\n\n## B\n\n## C")
        toc = table_of_contents(html)
        assert "A &lt;b&gt; &amp; c</a>" in toc
        assert "#</a>" not in toc

    def test_a_deeper_heading_first_does_not_break_the_nesting(self):
        toc = table_of_contents(render("#### Deep\n\n## Top\n\n### Mid"))
        assert toc.count("<ol>") == toc.count("</ol>") == 2
        assert toc.count("<li>") == toc.count("</li>") == 3

    def test_rendered_at_save_and_shown_above_the_body(self, client, series):
        lesson = make_lesson(series, body=THREE_HEADINGS)
        assert 'href="#run-it"' in lesson.toc_html
        page = client.get(lesson.get_absolute_url()).text
        assert page.index('class="toc"') < page.index("lesson__body")
        assert "In this lesson" in page

    def test_a_short_lesson_has_none(self, client, free_lesson):
        assert free_lesson.toc_html == ""
        assert 'class="toc"' not in client.get(free_lesson.get_absolute_url()).text

    def test_a_teaser_reader_gets_no_contents_of_the_premium_part(self, client, series):
        body = "Public intro.\n\n<!-- more -->\n\n## TOC-SECRET-ONE\n\n## Two\n\n## Three"
        lesson = make_lesson(series, access="premium", body=body)
        assert "TOC-SECRET-ONE" in lesson.toc_html
        page = client.get(lesson.get_absolute_url()).text
        assert "TOC-SECRET-ONE" not in page
        assert 'class="toc"' not in page

    def test_render_lessons_fills_it_for_lessons_saved_before_it_existed(self, series):
        lesson = make_lesson(series, body=THREE_HEADINGS)
        Lesson.objects.filter(pk=lesson.pk).update(toc_html="")
        call_command("render_lessons", stdout=io.StringIO())
        lesson.refresh_from_db()
        assert 'href="#install"' in lesson.toc_html


class TestCodeCopyButtons:
    def test_code_blocks_are_marked_for_copy_buttons_loaded_from_a_static_script(
        self, client, series
    ):
        lesson = make_lesson(series, body="```python\nprint('hi')\n```")
        page = client.get(lesson.get_absolute_url()).text
        assert 'data-copy-code="Copy"' in page
        assert 'data-copied="Copied"' in page
        assert '<script src="/static/js/copy.js" defer></script>' in page
        # No inline script (the CSP forbids it); without JS the code is plain selectable text.
        assert "<script>" not in page
        assert '<pre tabindex="0">' in page and "print" in page

    def test_a_page_loads_the_script_only_when_the_text_it_shows_has_code(
        self, client, reader_client, reader, series
    ):
        """A premium lesson whose code comes after the cut: its teaser has none, its whole
        text has some (each tier's page is kept on its own)."""
        from access import services

        lesson = make_lesson(
            series,
            access=Lesson.Access.PREMIUM,
            body="The words before the cut.\n\n<!-- more -->\n\n```python\nprint('hi')\n```",
        )
        script = '<script src="/static/js/copy.js" defer></script>'
        assert script not in client.get(lesson.get_absolute_url()).text
        assert script not in reader_client.get(lesson.get_absolute_url()).text
        services.grant(user=reader, series=series)
        page = reader_client.get(lesson.get_absolute_url()).text
        assert script in page and "print" in page

    def test_the_labels_follow_the_interface_language(self, client, series):
        lesson = make_lesson(series, body="```\ncode\n```")
        page = client.get("/id" + lesson.get_absolute_url()).text
        assert 'data-copy-code="Salin"' in page


class TestEndOfTheSeries:
    def test_the_last_lesson_says_the_series_is_complete_and_what_next(self, client, series):
        make_lesson(series, number=1)
        last = make_lesson(series, number=2)
        page = client.get(last.get_absolute_url()).text
        assert "Series complete" in page
        assert f'href="{series.get_absolute_url()}"' in page

    def test_other_lessons_do_not(self, client, series):
        first = make_lesson(series, number=1)
        make_lesson(series, number=2)
        assert "Series complete" not in client.get(first.get_absolute_url()).text

    def test_a_reader_stopped_by_the_paywall_has_not_finished(self, client, series):
        last = make_lesson(series, number=1, access="premium")
        assert "Series complete" not in client.get(last.get_absolute_url()).text

    def test_a_later_draft_does_not_count_as_a_next_lesson(self, client, series):
        last = make_lesson(series, number=1)
        make_lesson(series, number=2, status="draft")
        assert "Series complete" in client.get(last.get_absolute_url()).text
