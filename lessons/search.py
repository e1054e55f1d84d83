"""Search over lesson titles, summaries, free lessons and teasers; and over the whole text of
premium lessons for readers who may read them, and nobody else.

Lesson.save() writes a lesson's SearchEntry rows (`SearchEntry.objects.write()`).
`search_in(parse(raw), scope=request.access.premium_scope())` is the one function pages call,
on either database. Its results depend on the query, the page asked and the scope alone (and
the content), so a page may keep them by those (lessons.views.search_page):

1. Match the "public" entries of published lessons, and the "full" entries only of premium
   lessons the reader may read (`access.premium_scope()`: whole series and single lessons,
   None for staff). A reader never has a full entry of a lesson they cannot read looked at,
   so nothing they get (a result, its rank, its snippet, the count, which matches fill the
   MAX_MATCHES looked at, the time it takes) depends on text after a cut they cannot pass.
2. Keep a full entry only when the scope opens its lesson (`scope.opens()`: what
   `access.decide(lesson)` says, the same decision as the lesson page, of the grants the
   scope was made from); otherwise the lesson's public entry stands for it.
3. Rank, count and page what is left, then highlight titles and snippets for one page.

PostgreSQL matches a stored, weighted tsvector (GIN-indexed) with `websearch_to_tsquery` in
the series' configuration ("english" stems English; Indonesian has no stemmer, so "simple");
SQLite matches an FTS5 table (porter stemming) with a query built here from the words and
"quoted phrases" typed, with OR and -word.
"""

import html
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL

from lessons.models import SEARCH_CONFIGS, Lesson, SearchEntry
from lessons.rendering.text import HIGHLIGHT_START as START
from lessons.rendering.text import HIGHLIGHT_STOP as STOP

MAX_CHARS = 200  # longer queries are cut (and the reader told)
MAX_TERMS = 12
MAX_MATCHES = 500
PER_PAGE = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Query:
    text: str  # as searched: control characters gone, spaces collapsed, at most MAX_CHARS
    shortened: bool

    @property
    def has_words(self) -> bool:
        return bool(_WORD.search(self.text))

    def fts5(self) -> str:
        """An FTS5 expression: every word and "phrase" typed, quoted (so nothing typed is
        FTS5 syntax), all required; OR between two terms finds either; -term excludes."""
        groups: list[tuple[list[str], list[str]]] = [([], [])]
        terms = 0
        for piece in _TOKEN.findall(self.text):
            if piece == "OR":
                groups.append(([], []))
                continue
            negative = piece.startswith("-") and len(piece) > 1
            words = _WORD.findall(piece)
            if not words or terms >= MAX_TERMS:
                continue
            terms += 1
            groups[-1][1 if negative else 0].append('"' + " ".join(words) + '"')
        clauses = [
            "(" + " ".join(positive) + "".join(f" NOT {term}" for term in negative) + ")"
            for positive, negative in groups
            if positive
        ]
        return " OR ".join(clauses)


def parse(raw: str) -> Query:
    text = " ".join(_CONTROL.sub(" ", raw or "").split())
    return Query(text[:MAX_CHARS].strip(), shortened=len(text) > MAX_CHARS)


@dataclass
class Result:
    lesson: Lesson
    title_html: str
    snippet_html: str
    full: bool  # matched (and shown) from the whole lesson, for a reader who may read it


@dataclass
class Results:
    query: Query
    results: list[Result] = field(default_factory=list)
    count: int = 0
    page: int = 1
    pages: int = 0
    used_full_text: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class _Match:
    entry_id: int
    lesson_id: int
    series_id: int
    access: str
    part: str
    rank: float

    @property
    def is_free(self) -> bool:
        return self.access == Lesson.Access.FREE


def searchable(query: Query) -> bool:
    """Whether there is anything to ask the database (nothing is asked otherwise)."""
    return query.has_words and (connection.vendor == "postgresql" or bool(query.fts5()))


def search_in(query: Query, *, scope, page: int = 1) -> Results:
    """The results of `query` for a reader who may read `scope` (access.policy.PremiumScope;
    None: every lesson, for staff): the same for every reader of that scope, so a page may
    keep them by the query, the page and the scope."""
    results = Results(query)
    if not searchable(query):
        return results
    matches = _best_readable(_matches(query, scope), scope)
    results.count = len(matches)
    results.pages = max(1, -(-len(matches) // PER_PAGE))
    results.page = min(max(1, page), results.pages)
    shown = matches[(results.page - 1) * PER_PAGE : results.page * PER_PAGE]
    if shown:
        results.results = _details(query, shown)
        results.used_full_text = any(result.full for result in results.results)
    return results


def _candidates(scope):
    """Public entries of published lessons, and full entries of the premium ones in `scope`
    (an access.policy.PremiumScope; every lesson when None)."""
    readable = Q(part=SearchEntry.Part.PUBLIC)
    if scope is None:
        readable |= Q(part=SearchEntry.Part.FULL)
    elif scope.series_ids or scope.lessons:
        by_series: dict[int, set[int]] = {}
        for series_id, lesson_id in scope.lessons:
            by_series.setdefault(series_id, set()).add(lesson_id)
        open_to_reader = Q(lesson__series__in=scope.series_ids)
        for series_id, lesson_ids in by_series.items():
            open_to_reader |= Q(lesson__series=series_id, lesson__in=lesson_ids)
        readable |= Q(part=SearchEntry.Part.FULL) & open_to_reader
    # Published, asked of each entry's own lesson (a lookup by primary key for each match),
    # not as a list of every published lesson made first: on SQLite that list reads every
    # lesson row, bodies and all (0.4 s at 10,000 lessons).
    published = Exists(Lesson.objects.published().filter(pk=OuterRef("lesson_id")))
    return SearchEntry.objects.filter(readable, published)


def _matches(query: Query, scope) -> list[_Match]:
    entries = _candidates(scope)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank  # loads psycopg

        found = Q()
        rank = []
        for config in sorted(set(SEARCH_CONFIGS.values())):
            tsquery = SearchQuery(query.text, config=config, search_type="websearch")
            found |= Q(config=config, vector=tsquery)
            rank.append(When(config=config, then=SearchRank(F("vector"), tsquery)))
        entries = entries.filter(found).annotate(
            rank=Case(*rank, default=Value(0.0), output_field=FloatField())
        )
        rows = entries.order_by("-rank", "lesson__number", "pk").values_list(
            "pk", "lesson_id", "lesson__series_id", "lesson__access", "part", "rank"
        )[:MAX_MATCHES]
        return [_Match(*row) for row in rows]
    # The FTS5 table joined once, by its rowid (the entry's id): SQLite starts from the
    # MATCH, the index, and reads only the entries it finds. bm25 is lower for better
    # matches; title counts most, then summary, then text. (QuerySet.extra, because the ORM
    # has no join to a table without a model.)
    rows = (
        entries.extra(
            tables=["lessons_search_fts"],
            where=[
                "lessons_search_fts.rowid = lessons_searchentry.id",
                "lessons_search_fts MATCH %s",
            ],
            params=[query.fts5()],
            select={"rank": "-bm25(lessons_search_fts, 10.0, 4.0, 1.0)"},
        )
        .order_by("-rank", "lesson__number", "pk")
        .values_list("pk", "lesson_id", "lesson__series_id", "lesson__access", "part", "rank")
    )[:MAX_MATCHES]
    return [_Match(*row) for row in rows]


def _opens(scope, match: _Match) -> bool:
    """Whether a reader of `scope` may read the matched lesson in full."""
    return (
        scope is None
        or match.is_free
        or scope.opens(series_id=match.series_id, lesson_id=match.lesson_id)
    )


def _best_readable(matches: list[_Match], scope) -> list[_Match]:
    """One match per lesson: its full entry when the reader may read it in full, else its
    public one; best first."""
    best: dict[int, _Match] = {}
    for match in matches:
        if match.part == SearchEntry.Part.FULL and not _opens(scope, match):
            continue
        current = best.get(match.lesson_id)
        if current is None or (match.part == SearchEntry.Part.FULL and current.part != match.part):
            best[match.lesson_id] = match
    return sorted(best.values(), key=lambda m: -m.rank)


def _marked(text: str) -> str:
    return html.escape(text or "").replace(START, "<mark>").replace(STOP, "</mark>")


def _details(query: Query, shown: list[_Match]) -> list[Result]:
    entries = SearchEntry.objects.filter(pk__in=[m.entry_id for m in shown]).select_related(
        "lesson__series"
    ).defer(
        "text", "vector", "lesson__body", "lesson__body_html", "lesson__teaser_html",
        "lesson__toc_html", "lesson__series__description", "lesson__series__description_html",
    )  # fmt: skip
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchHeadline, SearchQuery

        config = F("config")
        tsquery = SearchQuery(query.text, config=config, search_type="websearch")
        entries = entries.annotate(
            title_marked=SearchHeadline(
                "title", tsquery, config=config, start_sel=START, stop_sel=STOP, highlight_all=True
            ),
            snippet_marked=SearchHeadline(
                "text",
                tsquery,
                config=config,
                start_sel=START,
                stop_sel=STOP,
                max_words=35,
                min_words=15,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
    else:
        entries = entries.annotate(
            title_marked=RawSQL(
                "SELECT highlight(lessons_search_fts, 0, %s, %s) FROM lessons_search_fts "
                "WHERE lessons_search_fts MATCH %s AND rowid = lessons_searchentry.id",
                (START, STOP, query.fts5()),
            ),
            snippet_marked=RawSQL(
                "SELECT snippet(lessons_search_fts, 2, %s, %s, ' … ', 30) FROM lessons_search_fts "
                "WHERE lessons_search_fts MATCH %s AND rowid = lessons_searchentry.id",
                (START, STOP, query.fts5()),
            ),
        )
    by_id = {entry.pk: entry for entry in entries}
    results = []
    for match in shown:
        entry = by_id[match.entry_id]
        snippet = entry.snippet_marked or entry.summary
        results.append(
            Result(
                lesson=entry.lesson,
                title_html=_marked(entry.title_marked or entry.title),
                snippet_html=_marked(snippet),
                full=entry.part == SearchEntry.Part.FULL,
            )
        )
    return results
