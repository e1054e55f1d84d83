"""RSS 2.0 and Atom feeds of published lessons: the whole site, one series, or (access/'s
private feed) the series a reader holds.

Every item's text is chosen by an access decision, as on the lesson page: the full HTML when
`scope.access.decide(lesson)` says FULL, else the summary and the teaser with a link. The
public feeds decide as for a reader who is not logged in (`request.access.public()`), so they
are the same for everyone. Feeds are kept whole in the shared cache (caching.responses: until
lessons or series are written, or the next scheduled lesson is due) and answer conditional
requests with 304.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils import feedgenerator, timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from caching import responses
from lessons.models import Lesson, Series

ITEMS = 50
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


# Addresses in stored HTML that a feed reader, outside the site, cannot resolve by itself:
# site-relative ones (/media/…, /series/…) and heading anchors (#…).
_SITE_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')
_ANCHOR = re.compile(r'(\shref=")#')


def absolute(html: str, *, origin: str, page: str) -> str:
    """`html` with its site-relative addresses made absolute, anchors on `page`."""
    html = _SITE_RELATIVE.sub(lambda m: f"{m[1]}{origin}/", html)
    return _ANCHOR.sub(lambda m: f"{m[1]}{origin}{page}#", html)


def _item_html(lesson, *, full: bool, origin: str) -> str:
    page = lesson.get_absolute_url()
    if full:
        return absolute(lesson.body_html, origin=origin, page=page)
    summary = format_html("<p><em>{}</em></p>", lesson.summary) if lesson.summary else ""
    more = format_html(
        '<p><a href="{}">{}</a></p>',
        origin + lesson.get_absolute_url(),
        gettext("This is a premium lesson: read the rest on %(site)s")
        % {"site": settings.SITE_NAME},
    )
    return f"{summary}{absolute(lesson.teaser_html, origin=origin, page=page)}{more}"


class LessonsRss(Feed):
    """RSS 2.0: each item's description is its HTML (full, or summary + teaser + link)."""

    def get_object(self, request, *, scope: FeedScope):
        return scope

    def get_feed(self, obj, request):
        """The feed's language is its items' (their series' language), whatever the page's
        or the visitor's: none when they differ (an Atom entry then says its own)."""
        feed = super().get_feed(obj, request)
        languages = {item["lesson_language"] for item in feed.items}
        if not languages and obj.series is not None:
            languages = {obj.series.language}
        feed.feed["language"] = languages.pop() if len(languages) == 1 else None
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
        # Plain text, escaped once when the XML is written (Django's own default escapes
        # it a second time, so readers would show "&lt;" for "<").
        return xml_safe(f"{lesson.number}. {lesson.title}")

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

    def item_extra_kwargs(self, lesson):
        return {"lesson_language": lesson.series.language}


class _AtomWithContent(feedgenerator.Atom1Feed):
    def item_attributes(self, item):
        if self.feed["language"] is None:  # items in several languages: each says its own
            return {**super().item_attributes(item), "xml:lang": item["lesson_language"]}
        return super().item_attributes(item)

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
        return {**super().item_extra_kwargs(lesson), "content_html": lesson.feed_html}


RSS = LessonsRss()
ATOM = LessonsAtom()


def serve(request, *, key: str, scope: Callable[[], FeedScope], atom: bool = False):
    """The feed named by `key`, from the cache or built from `scope()` (caching.responses)."""
    feed = ATOM if atom else RSS
    return responses.respond(
        request,
        key=f"feed:{'atom' if atom else 'rss'}:{key}",
        build=lambda: feed(request, scope=scope()),
        seconds=seconds_to_keep,
    )


def seconds_to_keep() -> int:
    """How long a response made of published lessons holds: until the next scheduled lesson
    is due (a lesson coming out is not a write), at most responses.MAX_SECONDS."""
    upcoming = Lesson.objects.next_publication()
    if upcoming is None:
        return responses.MAX_SECONDS
    seconds = int((upcoming - timezone.now()) / timedelta(seconds=1))
    return max(1, min(responses.MAX_SECONDS, seconds))
