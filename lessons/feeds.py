"""RSS 2.0 and Atom feeds of published lessons: the whole site, one series, or (access/'s
private feed) the series a reader holds.

Every item's text is chosen by an access decision, as on the lesson page: the full HTML when
`scope.access.decide(lesson)` says FULL, else the summary and the teaser with a link. The
public feeds decide as for a reader who is not logged in (`request.access.public()`), so they
are the same for everyone. Feeds are cached whole, under a key holding the content version
(any write to lessons or series changes it) and expiring when the next scheduled lesson is due;
they answer conditional requests (ETag, Last-Modified) with 304.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import feedgenerator, timezone
from django.utils.cache import get_conditional_response
from django.utils.html import escape, format_html
from django.utils.http import parse_http_date_safe
from django.utils.translation import get_language, gettext

from lessons import content_version
from lessons.models import Lesson, Series

ITEMS = 50
CACHE_SECONDS = 60 * 60
# XML 1.0 cannot hold these; Django refuses to write them. An author's stray control
# character must not take a feed down.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text or "")


@dataclass(frozen=True)
class FeedScope:
    """What a feed lists and who it is for. `access` answers `decide(lesson)`; `series` is one
    series, `series_ids` several (None with no `series`: every published series); `origin`
    ("https://example.com") makes the links in items' HTML absolute."""

    access: object
    origin: str
    series: Series | None = None
    series_ids: frozenset[int] | None = None
    title: str = ""
    link: str = "/"

    def lessons(self):
        lessons = Lesson.objects.published().select_related("series").defer("body", "toc_html")
        if self.series is not None:
            lessons = lessons.filter(series=self.series)
        elif self.series_ids is not None:
            lessons = lessons.filter(series__in=self.series_ids)
        return lessons.order_by("-published_at", "-pk")[:ITEMS]


def _item_html(lesson, *, full: bool, origin: str) -> str:
    if full:
        return lesson.body_html
    summary = format_html("<p><em>{}</em></p>", lesson.summary) if lesson.summary else ""
    more = format_html(
        '<p><a href="{}">{}</a></p>',
        origin + lesson.get_absolute_url(),
        gettext("This is a premium lesson: read the rest on %(site)s")
        % {"site": settings.SITE_NAME},
    )
    return f"{summary}{lesson.teaser_html}{more}"


class LessonsRss(Feed):
    """RSS 2.0: each item's description is its HTML (full, or summary + teaser + link)."""

    def get_object(self, request, *, scope: FeedScope):
        return scope

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        if obj.series is not None:
            feed.feed["language"] = obj.series.language
        return feed

    def title(self, scope):
        return xml_safe(scope.series.title if scope.series else scope.title or settings.SITE_NAME)

    def link(self, scope):
        return scope.series.get_absolute_url() if scope.series else scope.link

    def description(self, scope):
        if scope.series is not None:
            title = xml_safe(scope.series.title)
            return gettext("New lessons of “%(series)s”.") % {"series": title}
        return gettext("New lessons from %(site)s.") % {"site": settings.SITE_NAME}

    def author_name(self, scope):
        return xml_safe(scope.series.author_name if scope.series else settings.SITE_NAME)

    def items(self, scope):
        lessons = list(scope.lessons())
        for lesson in lessons:
            lesson.feed_html = xml_safe(
                _item_html(lesson, full=scope.access.decide(lesson).full, origin=scope.origin)
            )
        return lessons

    def item_title(self, lesson):
        return escape(xml_safe(f"{lesson.number}. {lesson.title}"))

    def item_description(self, lesson):
        return lesson.feed_html

    def item_pubdate(self, lesson):
        return lesson.published_at

    def item_updateddate(self, lesson):
        return lesson.updated_at

    def item_author_name(self, lesson):
        return xml_safe(lesson.series.author_name)

    def item_categories(self, lesson):
        return [xml_safe(lesson.series.title)]


class _AtomWithContent(feedgenerator.Atom1Feed):
    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


class LessonsAtom(LessonsRss):
    """Atom: the lesson's summary as <summary>, its HTML as <content>."""

    feed_type = _AtomWithContent

    def subtitle(self, scope):
        return self.description(scope)

    def item_description(self, lesson):
        return xml_safe(lesson.summary) or None

    def item_extra_kwargs(self, lesson):
        return {"content_html": lesson.feed_html}


RSS = LessonsRss()
ATOM = LessonsAtom()


def _cache_seconds() -> int:
    upcoming = Lesson.objects.next_publication()
    if upcoming is None:
        return CACHE_SECONDS
    return max(1, min(CACHE_SECONDS, int((upcoming - timezone.now()) / timedelta(seconds=1))))


def serve(request, *, key: str, scope: Callable[[], FeedScope], atom: bool = False) -> HttpResponse:
    """The feed named by `key` (everything it depends on besides the content version, the
    format, the language and the site's address), from the cache or built by `scope()`."""
    cache_key = ":".join(
        [
            "lessons:feed",
            content_version.current(),
            "atom" if atom else "rss",
            get_language() or "",
            request.scheme,
            request.get_host(),
            hashlib.sha256(key.encode()).hexdigest()[:32],
        ]
    )
    cached = cache.get(cache_key)
    if cached is None:
        built = (ATOM if atom else RSS)(request, scope=scope())
        etag = f'"{hashlib.sha256(built.content).hexdigest()[:32]}"'
        cached = (built.content, built["Content-Type"], built["Last-Modified"], etag)
        cache.set(cache_key, cached, _cache_seconds())
    content, content_type, last_modified, etag = cached
    response = HttpResponse(content, content_type=content_type)
    response["ETag"] = etag
    response["Last-Modified"] = last_modified
    modified = parse_http_date_safe(last_modified)
    return get_conditional_response(request, etag=etag, last_modified=modified, response=response)
