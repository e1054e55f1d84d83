"""/search/?q=: titles, summaries, free lessons and teasers for everyone; the whole text of a
premium lesson only for readers who may read it, with no signal of it for anyone else. Runs on
SQLite (FTS5) and, in CI, on PostgreSQL (full-text search); PostgreSQL-only facts at the end."""

import re
from datetime import timedelta
from io import StringIO
from urllib.parse import quote, quote_plus

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access import services
from access.models import Entitlement
from caching import kept
from lessons import search
from lessons.models import INDEXED_CHARS, Lesson, SearchEntry, indexable, search_index
from lessons.services import delete_lesson, save_lesson, save_series, update_lessons
from tests.factories import make_lesson, make_series, make_staff, make_user
from tests.postgres import require_postgres

pytestmark = pytest.mark.django_db
SECRET = "zanzibarquokka"  # a word only after the cut of lesson 2
PUBLIC_BODY = "Retrieval finds passages. " * 3


@pytest.fixture
def site(series):
    make_lesson(
        series,
        number=1,
        slug="intro",
        title="Introduction",
        access="free",
        summary="Where the journey starts.",
        body="A free lesson about embeddings and vectors.",
    )
    make_lesson(
        series,
        number=2,
        slug="retrieval",
        title="Retrieval",
        access="premium",
        summary="Find the right passages for a question.",
        body=f"{PUBLIC_BODY}\n\n<!-- more -->\n\nThe {SECRET} trick: chunk by heading.",
    )
    make_lesson(
        series,
        number=3,
        slug="agents",
        title="Agents",
        access="premium",
        body=f"Agents call tools.\n\n<!-- more -->\n\nAlso {SECRET}, but in lesson three.",
    )
    make_lesson(series, number=4, slug="draft", title="Drafted embeddings", status="draft")
    return series


def page(client, q, **params):
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200
    return response


def without_query(text: str, q: str) -> str:
    """The page with the query's echoes (in the form, the title, the language switch's
    return address) and the per-visitor CSRF token taken out."""
    for echo in (quote_plus(q), quote(q), q):
        text = text.replace(echo, "Q")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def titles(response) -> list[str]:
    found = re.findall(r'class="search-result__title"[^>]*>(.*?)</a>', response.text, re.DOTALL)
    return [re.sub(r"</?mark>", "", title) for title in found]


def reader_with(series=None, **grant):
    client = Client()
    user = make_user()
    if series is not None:
        services.grant(user=user, series=series, **grant)
    client.force_login(user)
    return client, user


class TestWhatIsFound:
    def test_titles_summaries_free_lessons_and_teasers(self, client, site):
        assert titles(page(client, "introduction")) == ["Introduction"]
        assert titles(page(client, "journey")) == ["Introduction"]  # summary
        assert titles(page(client, "embeddings")) == ["Introduction"]  # free body; no draft
        assert titles(page(client, "passages")) == ["Retrieval"]  # summary and teaser

    def test_a_title_match_ranks_above_a_match_in_the_text(self, client, series):
        make_lesson(series, number=1, title="Notes", body="We mention vectors once here.")
        make_lesson(series, number=2, title="Vectors", body="All about them.")
        assert titles(page(client, "vectors")) == ["Vectors", "Notes"]

    def test_matches_are_highlighted_in_titles_and_snippets(self, client, site):
        response = page(client, "passages")
        assert "<mark>passages</mark>" in response.text.lower()
        assert 'class="search-result__snippet"' in response.text

    def test_a_phrase_in_quotes_and_a_word_left_out(self, client, site):
        assert titles(page(client, '"free lesson"')) == ["Introduction"]
        assert titles(page(client, '"lesson free"')) == []
        assert titles(page(client, "retrieval -passages")) == []

    def test_stored_text_follows_saves(self, client, site):
        lesson = site.lessons.get(slug="intro")
        lesson.body = "Now about transformers."
        save_lesson(lesson)
        assert titles(page(client, "transformers")) == ["Introduction"]
        assert titles(page(client, "embeddings")) == []
        delete_lesson(lesson)
        assert titles(page(client, "transformers")) == []

    def test_a_lesson_made_free_is_found_in_full(self, client, site):
        lesson = site.lessons.get(slug="retrieval")
        lesson.access = "free"
        save_lesson(lesson)
        assert titles(page(client, SECRET)) == ["Retrieval"]

    def test_highlighting_cannot_inject_markup(self, client, series):
        make_lesson(series, title="<b>Bold</b> claims", body="&lt;script&gt; tags")
        response = page(client, "bold")
        assert "<b>Bold</b>" not in response.text
        assert "&lt;b&gt;" in response.text

    def test_many_results_come_in_pages(self, client, series):
        for number in range(1, search.PER_PAGE + 6):
            make_lesson(series, number=number, title=f"Kubernetes {number}")
        first = page(client, "kubernetes")
        assert len(titles(first)) == search.PER_PAGE
        assert f"{search.PER_PAGE + 5} lessons found" in first.text
        assert 'rel="next"' in first.text
        second = page(client, "kubernetes", page="2")
        assert len(titles(second)) == 5 and 'rel="prev"' in second.text
        assert len(titles(page(client, "kubernetes", page="999"))) == 5


class TestGating:
    def test_text_after_the_cut_gives_no_result_count_or_snippet(self, client, site):
        response = page(client, SECRET)
        assert titles(response) == []
        assert "Nothing found" in response.text
        assert SECRET not in without_query(response.text, SECRET)

    @pytest.mark.parametrize("who", ["anonymous", "no access", "another series", "staff only"])
    def test_the_page_is_the_same_as_for_a_word_that_is_nowhere(self, site, who):
        """No signal at all: apart from the query itself, the page for a word that exists only
        after the cut is byte for byte the page for a word that exists nowhere."""
        client = Client()
        if who == "no access":
            client.force_login(make_user())
        elif who == "another series":
            client, _ = reader_with(make_series())
        elif who == "staff only":
            client, _ = reader_with(site, lessons=[site.lessons.get(slug="agents")])
            # holds lesson 3 only: lesson 2's secret stays hidden
        secret, nowhere = f"chunk {SECRET}", "chunk qxvjkwzzyquokka"
        secret_page = without_query(page(client, secret).text, secret)
        assert secret_page == without_query(page(client, nowhere).text, nowhere)

    def test_a_reader_with_access_finds_it_with_its_snippet(self, site):
        client, _ = reader_with(site)
        response = page(client, SECRET)
        assert sorted(titles(response)) == ["Agents", "Retrieval"]
        assert f"<mark>{SECRET}</mark>" in response.text
        assert "badge--unlocked" in response.text
        assert "no-store" in response["Cache-Control"]

    def test_a_reader_of_some_lessons_finds_only_those(self, site):
        client, _ = reader_with(site, lessons=[site.lessons.get(slug="agents")])
        assert titles(page(client, SECRET)) == ["Agents"]
        # Lesson 2 is still found by its public part, ranked and shown from it alone.
        response = page(client, "passages")
        assert titles(response) == ["Retrieval"] and SECRET not in response.text

    def test_lessons_a_reader_cannot_read_take_no_place_among_the_matches_looked_at(
        self, site, monkeypatch
    ):
        """Only the best MAX_MATCHES matches are looked at; the text after the cut of a lesson
        the reader does not hold must not push others out of them (which would show up as a
        smaller count). Lesson 6 matches "chunk" best, but only after its cut."""
        monkeypatch.setattr(search, "MAX_MATCHES", 1)
        make_lesson(site, number=5, slug="chunks", access="free", body="On chunk sizes.")
        hidden = "Public part.\n\n<!-- more -->\n\n" + "Chunk, chunk and chunk. " * 20
        make_lesson(site, number=6, title="Splitting", access="premium", body=hidden)
        client, _ = reader_with(site, lessons=[site.lessons.get(slug="agents")])
        assert titles(page(client, "chunk")) == [site.lessons.get(slug="chunks").title]

    def test_staff_find_everything(self, site):
        client = Client()
        client.force_login(make_staff())
        assert sorted(titles(page(client, SECRET))) == ["Agents", "Retrieval"]

    def test_an_ended_or_revoked_entitlement_stops_it_at_once(self, site):
        client, user = reader_with(site)
        assert titles(page(client, SECRET))
        Entitlement.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(1))
        assert titles(page(client, SECRET)) == []
        Entitlement.objects.filter(user=user).update(expires_at=None)
        services.revoke_entitlements(Entitlement.objects.filter(user=user), reason="refund")
        assert titles(page(client, SECRET)) == []

    def test_the_count_counts_only_what_the_reader_may_search(self, client, site):
        # "chunk" is after the cut of lesson 2, "agents" public in lesson 3: one result.
        response = page(client, "chunk OR agents")
        assert titles(response) == ["Agents"]
        assert "1 lesson found" in response.text

    def test_anonymous_results_are_the_same_for_everyone_and_carry_noindex(self, site):
        one, other = Client().get("/search/?q=passages"), Client().get("/search/?q=passages")
        assert one.content == other.content
        assert "csrfmiddlewaretoken" not in one.text
        assert one["X-Robots-Tag"] == "noindex"


ODD_QUERIES = [
    "",
    " ",
    '"',
    '"unclosed phrase',
    '""',
    "AND OR NOT",
    "OR",
    "-",
    "--",
    "-word",
    "*",
    "a*",
    "NEAR(retrieval passages)",
    "title:retrieval",
    "^retrieval",
    "!!!",
    "(((",
    "'; DROP TABLE lessons_lesson; --",
    "x\x00y",
    "\x00",
    "\u202eretrieval",
    "🙂 retrieval",
    "retrieval " * 1000,
    "a" * 10_000,
    "!" * 10_000,
]


class TestOddQueries:
    @pytest.mark.parametrize("q", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
    def test_answer_with_a_helpful_page(self, client, site, q):
        response = page(client, q)
        assert "Search the lessons" in response.text
        assert any(
            hint in response.text
            for hint in ["Type a word", "no words to search", "Nothing found", "found"]
        )
        assert SECRET not in without_query(response.text, q)

    def test_a_long_query_is_cut_and_the_reader_told(self, client, site):
        response = page(client, "retrieval " * 1000)
        assert "only its first 200 characters were searched" in response.text
        assert 'maxlength="200"' in response.text

    @pytest.mark.parametrize("q", ["", "!!!", "\x00"])
    def test_nothing_to_search_asks_the_database_nothing(
        self, client, site, q, django_assert_num_queries
    ):
        with django_assert_num_queries(0):
            page(client, q)

    def test_a_bad_page_number_is_the_first_page(self, client, site):
        assert titles(page(client, "introduction", page="x")) == ["Introduction"]
        assert titles(page(client, "introduction", page="-3")) == ["Introduction"]

    def test_fts5_syntax_typed_is_never_fts5_syntax(self):
        assert search.parse('title:x NEAR(a b) "c d" -e OR f*').fts5() == (
            '("title x" "NEAR a" "b" "c d" NOT "e") OR ("f")'
        )
        assert search.parse("AND").fts5() == '("AND")'
        assert search.parse("-only").fts5() == ""


class TestQueryCounts:
    @pytest.mark.parametrize("count", [2, 12])
    def test_anonymous(self, client, series, django_assert_num_queries, count):
        for number in range(1, count + 1):
            make_lesson(series, number=number, title=f"Vectors {number}", access="premium")
        with django_assert_num_queries(2):  # matches, then the page's results with highlights
            page(client, "vectors")

    @pytest.mark.parametrize("held", [1, 8])
    def test_a_reader(self, series, django_assert_num_queries, held):
        for number in range(1, 6):
            make_lesson(series, number=number, title=f"Vectors {number}", access="premium")
        client, user = reader_with(series)
        for _ in range(held - 1):
            services.grant(user=user, series=make_series())
        # session with its user, entitlements, matches, results with highlights
        with django_assert_num_queries(4):
            page(client, "vectors")
        # then the page is kept for what they may read: session with its user, entitlements
        with django_assert_num_queries(2):
            page(client, "vectors")

    @pytest.mark.parametrize("access", ["whole series", "none"])
    def test_a_reader_after_another_who_may_read_the_same(
        self, series, django_assert_num_queries, access
    ):
        for number in range(1, 6):
            make_lesson(series, number=number, title=f"Vectors {number}", access="premium")
        first, _ = reader_with(series if access == "whole series" else None)
        second, _ = reader_with(series if access == "whole series" else None)
        page(first, "vectors")
        # session with its user, entitlements: the results and the page are the first reader's
        with django_assert_num_queries(2):
            assert len(titles(page(second, "vectors"))) == 5


class TestKeptResults:
    """A logged-in reader's results page is kept per query, page and what the reader may read
    (access.policy.PremiumScope), never per reader: readers who may read the same lessons share
    it, and no one ever gets a page kept for readers who may read more."""

    @staticmethod
    def kept_pages() -> list:
        return [
            entry[2]
            for key, entry in kept.whole_pages.entries.items()
            if key[1] == "page:lessons/search.html"
        ]

    @pytest.mark.parametrize("order", ["with access first", "without access first"])
    def test_premium_snippets_never_reach_a_reader_without_access(self, site, order):
        buyer, _ = reader_with(site)
        one_lesson, _ = reader_with(site, lessons=[site.lessons.get(slug="agents")])
        visits = [buyer, reader_with()[0], one_lesson, Client(), buyer, reader_with()[0]]
        if order == "without access first":
            visits.reverse()
        for client in visits:
            response = page(client, SECRET)
            text = without_query(response.text, SECRET)
            if client is buyer:
                assert sorted(titles(response)) == ["Agents", "Retrieval"]
                assert "2 lessons found" in text and f"<mark>{SECRET}</mark>" in response.text
            elif client is one_lesson:
                assert titles(response) == ["Agents"] and "1 lesson found" in text
                assert "Retrieval" not in text
            else:
                assert titles(response) == [] and "Nothing found" in text
                assert SECRET not in text
        # the buyer's, the one lesson's, and one for every reader who may read none of them
        assert len(self.kept_pages()) == 3

    def test_the_kept_page_holds_nothing_of_its_reader(self, site):
        client = Client()
        client.force_login(make_user(email="someone.particular@example.com"))
        html = page(client, "passages").text
        assert "Log out" in html
        ((texts, holes),) = self.kept_pages()
        skeleton = "".join(texts)
        # the results are kept, and a logged-in reader's header (it shows no one in particular)
        assert "Retrieval" in skeleton and "Log out" in skeleton and holes  # the messages
        assert "someone.particular" not in skeleton

    def test_a_saved_lesson_is_found_as_saved_at_once(self, site):
        client, _ = reader_with(site)
        assert titles(page(client, "passages")) == ["Retrieval"]
        lesson = site.lessons.get(slug="agents")
        lesson.body = f"Agents find passages too.\n\n<!-- more -->\n\n{SECRET}."
        save_lesson(lesson)
        assert sorted(titles(page(client, "passages"))) == ["Agents", "Retrieval"]

    def test_a_reader_who_may_read_premium_text_gets_a_page_not_stored(self, site):
        buyer, _ = reader_with(site)
        assert "no-store" in page(buyer, "passages")["Cache-Control"]
        response = page(reader_with()[0], "passages")
        assert "private" in response["Cache-Control"]
        assert "no-store" not in response["Cache-Control"]


class TestPostgreSQL:
    def test_vectors_are_stored_in_the_series_language_with_a_gin_index(self, series):
        require_postgres()
        make_lesson(series, number=1, body="Tokens and windows.")
        indonesian = make_series(language="id")
        make_lesson(indonesian, number=1, body="Makanan dan minuman.")
        configs = dict(SearchEntry.objects.values_list("lesson__series__language", "config"))
        assert configs == {"en": "english", "id": "simple"}
        assert not SearchEntry.objects.filter(vector__isnull=True).exists()
        with connection.cursor() as cursor:
            indexes = connection.introspection.get_constraints(cursor, "lessons_searchentry")
        assert any(
            index.get("type") == "gin" and index["columns"] == ["vector"]
            for index in indexes.values()
        )

    def test_english_is_stemmed_indonesian_matched_as_written(self, client, series):
        require_postgres()
        make_lesson(series, number=1, title="Running models", body="Text.")
        indonesian = make_series(language="id", slug="id-series")
        make_lesson(indonesian, number=1, title="Makanan sehat", body="Teks.")
        assert titles(page(client, "run")) == ["Running models"]
        assert titles(page(client, "makanan")) == ["Makanan sehat"]
        assert titles(page(client, "makan")) == []  # no Indonesian stemmer: "simple"

    def test_changing_a_series_language_redoes_its_vectors(self, series):
        require_postgres()
        make_lesson(series, number=1, title="Running")
        series.language = "id"
        save_series(series)
        assert set(SearchEntry.objects.values_list("config", flat=True)) == {"simple"}
        assert not Client().get("/search/", {"q": "run"}).text.count("search-result__title")


class TestIndexingNeverFailsASave:
    """PostgreSQL's to_tsvector takes time quadratic in the length of underscore-joined words:
    a lesson of them hit the statement timeout and could not be saved (503)."""

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param("_a" * 20_000, id="40 KB of _a"),
            pytest.param("x = " + "_".join(["zebra_count"] * 4_000), id="48 KB snake_case line"),
        ],
    )
    def test_underscore_joined_text_is_saved_and_searchable(self, client, series, body):
        require_postgres()
        staff = Client()
        staff.force_login(make_staff(is_superuser=True))
        response = staff.post(
            reverse("admin:lessons_lesson_add"),
            {"series": series.pk, "number": 1, "title": "Long lines", "slug": "long",
             "summary": "_b" * 5_000, "body": body, "access": "free", "status": "published",
             "published_at_0": "2020-01-01", "published_at_1": "00:00"},
        )  # fmt: skip
        assert response.status_code == 302, response.text[-2000:]
        assert Lesson.objects.filter(slug="long").exists()
        assert not SearchEntry.objects.filter(vector__isnull=True).exists()
        if "zebra" in body:
            assert titles(page(client, "zebra")) == ["Long lines"]

    def test_render_lessons_names_a_lesson_it_could_not_index_in_time(self, series, monkeypatch):
        require_postgres()
        make_lesson(series, number=3, title="Huge", body="zanzibar words and more. " * 10_000)
        monkeypatch.setattr(search_index, "INDEX_SECONDS", 0.001)
        err = StringIO()
        call_command("render_lessons", stdout=StringIO(), stderr=err)
        assert f"{series.title} 3. Huge: The lesson was saved, but its text" in err.getvalue()

    def test_ordinary_identifiers_stay_whole_in_snippets(self, client, series):
        make_lesson(series, number=1, title="Code", body="Call compute_embedding_vector(x).")
        assert "compute_<mark>embedding</mark>_vector" in page(client, "embedding").text

    def test_text_is_indexed_up_to_a_capped_prefix_split_at_long_runs(self):
        long_run = "_".join(["zebra"] * 20)
        assert indexable(f"keep_this_name and {long_run}") == (
            f"keep_this_name and {long_run.replace('_', ' ')}"
        )
        capped = indexable("word " * 100_000)
        assert len(capped) <= INDEXED_CHARS and capped.endswith("word")

    def test_a_text_that_cannot_be_indexed_in_time_is_saved_with_a_warning(
        self, client, series, monkeypatch
    ):
        require_postgres()
        monkeypatch.setattr(search_index, "INDEX_SECONDS", 0.001)
        staff = Client()
        staff.force_login(make_staff(is_superuser=True))
        response = staff.post(
            reverse("admin:lessons_lesson_add"),
            {"series": series.pk, "number": 1, "title": "Quokka notes", "slug": "big",
             "body": "zanzibar words and more words. " * 10_000, "access": "free",
             "status": "published", "published_at_0": "2020-01-01", "published_at_1": "00:00"},
            follow=True,
        )  # fmt: skip
        assert response.status_code == 200
        assert "its text could not be added to search in time" in response.text
        assert Lesson.objects.get(slug="big").body_html  # saved, and readable
        assert titles(page(client, "quokka")) == ["Quokka notes"]  # found by its title
        assert titles(page(client, "zanzibar")) == []
        with connection.cursor() as cursor:  # the connection's own timeout is back
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] != "1ms"


def test_a_free_lesson_made_premium_in_bulk_is_no_longer_searchable_in_full(client, site):
    from lessons.models import Lesson

    assert titles(page(client, "embeddings")) == ["Introduction"]
    lessons = Lesson.objects.filter(slug="intro")
    update_lessons(lessons, access="premium", teaser_html="<p>Intro.</p>")
    assert titles(page(client, "embeddings")) == []
