"""What search reads of a lesson: its entries, written from its stored HTML when it is saved,
and PostgreSQL's tsvector (lessons.search reads them)."""

import contextlib
import logging
import re

from django.db import DatabaseError, connection, models, transaction

from lessons.models.content import Lesson
from lessons.rendering.text import one_line, plain_text

logger = logging.getLogger(__name__)

# PostgreSQL text search configuration per content language: English is stemmed; Indonesian
# has no stemmer in PostgreSQL, so its words are matched as written ("simple").
SEARCH_CONFIGS = {"en": "english", "id": "simple"}


class TextSearchVector(models.Field):
    """PostgreSQL's tsvector; `vector=query` matches it (`@@`). On SQLite a column nobody
    reads. Not django.contrib.postgres's SearchVectorField: importing that loads psycopg, 20 MB
    in every worker, even on SQLite."""

    description = "text search vector"

    def db_type(self, connection):
        return "tsvector"


@TextSearchVector.register_lookup
class _MatchesQuery(models.Lookup):
    lookup_name = "exact"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ {rhs}", (*lhs_params, *rhs_params)


# What search indexes of a text, so that indexing is never why a save fails. PostgreSQL's
# to_tsvector takes time quadratic in the length of underscore_joined_words (16 KB of "_a" take
# four seconds), and splits them at the underscores anyway: in any run of characters without a
# space longer than LONG_RUN_CHARS, "_" is indexed as a space (identifiers of ordinary length
# stay whole in snippets). Text is indexed up to INDEXED_CHARS (a 500 KB lesson's first 30,000
# words or so). A text that still takes longer than INDEX_SECONDS is left out of the index, and
# the lesson is found by its title, with a warning to its author.
INDEXED_CHARS = 200_000
LONG_RUN_CHARS = 64
INDEX_SECONDS = 2
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN_CHARS + 1},}}")


def indexable(text: str) -> str:
    """Plain text as search indexes it (see above)."""
    if len(text) > INDEXED_CHARS:
        text = text[:INDEXED_CHARS].rsplit(" ", 1)[0]
    return _LONG_RUN.sub(lambda run: run[0].replace("_", " "), text)


@contextlib.contextmanager
def _statement_timeout(seconds: float):
    """PostgreSQL's statement timeout for the statements of this block, in the transaction
    (or savepoint) around it, which a cancelled statement rolls back with the setting."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, "
            "true)",
            [f"{seconds * 1000:.0f}"],
        )
        previous = cursor.fetchone()[0]
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])


def _cancelled(error: DatabaseError) -> bool:
    """Whether PostgreSQL cancelled the statement (its statement timeout)."""
    return getattr(error.__cause__, "sqlstate", None) == "57014"


class SearchEntryQuerySet(models.QuerySet):
    def write(self, lesson) -> bool:
        """Replace the lesson's entries with ones made from its stored HTML (`lesson.series`
        loaded): the public part always, the whole text too for a premium lesson. False when
        its text could not be indexed in time (it is found by its title only)."""
        common = {
            "lesson": lesson,
            "config": SEARCH_CONFIGS.get(lesson.series.language, "simple"),
            "title": one_line(lesson.title),
            "summary": indexable(one_line(lesson.summary)),
        }
        public = lesson.body_html if lesson.is_free else lesson.teaser_html
        entries = [SearchEntry(part="public", text=indexable(plain_text(public)), **common)]
        if not lesson.is_free:
            text = indexable(plain_text(lesson.body_html))
            entries.append(SearchEntry(part="full", text=text, **common))
        self.filter(lesson=lesson).delete()
        self.bulk_create(entries)
        return self.filter(lesson=lesson)._write_vectors()

    def reconfigure(self, series) -> None:
        """After a series' language changed: its entries' configuration and vectors."""
        config = SEARCH_CONFIGS.get(series.language, "simple")
        stale = list(
            self.filter(lesson__series=series).exclude(config=config).values_list("pk", flat=True)
        )
        if stale:
            self.filter(pk__in=stale).update(config=config)
            self.filter(pk__in=stale)._write_vectors()

    def _write_vectors(self) -> bool:
        """On PostgreSQL, the stored tsvector: title weighted A, summary B, text C, in each
        entry's configuration, within INDEX_SECONDS; past that, the title alone, and False.
        (SQLite's FTS5 table follows the rows by itself.)"""
        if connection.vendor != "postgresql":
            return True
        from django.contrib.postgres.search import SearchVector  # loads psycopg

        config = models.F("config")
        title = SearchVector("title", weight="A", config=config)
        try:
            with transaction.atomic(), _statement_timeout(INDEX_SECONDS):
                self.update(
                    vector=title
                    + SearchVector("summary", weight="B", config=config)
                    + SearchVector("text", weight="C", config=config)
                )
            return True
        except DatabaseError as error:
            if not _cancelled(error):
                raise
        logger.warning("Search vectors of %s took over %s s: titles only", self, INDEX_SECONDS)
        self.update(vector=title)
        return False


class SearchEntry(models.Model):
    """What search reads of a lesson, written by `SearchEntry.objects.write()` when it is saved.

    A free lesson has one "public" entry with its whole text. A premium lesson has a "public"
    entry (title, summary and teaser) and a "full" one (title, summary and body), which
    `lessons.search` reads only for readers the access decision lets read the lesson in full.
    On PostgreSQL `vector` holds the weighted tsvector (GIN-indexed) in the series' text search
    configuration; on SQLite an FTS5 table mirrors these rows (see the migration).
    """

    class Part(models.TextChoices):
        PUBLIC = "public"  # everyone may read it
        FULL = "full"  # only readers who may read the lesson in full

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    part = models.CharField(max_length=6, choices=Part)
    config = models.CharField(max_length=32, help_text="PostgreSQL text search configuration.")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    text = models.TextField(blank=True)
    vector = TextSearchVector(null=True, editable=False)

    objects = SearchEntryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lesson", "part"], name="one_search_entry_per_part")
        ]

    def __str__(self):
        return f"{self.lesson_id} ({self.part})"
