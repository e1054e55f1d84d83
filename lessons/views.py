from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.sitemaps import views as sitemaps_views
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_POST

from caching import kept, responses
from caching.anonymous import anonymous_page
from config import beacons
from lessons import feeds, pages, search, share, structured
from lessons.models import Lesson, Progress, Series
from lessons.pages import LessonLink
from lessons.sitemaps import SITEMAPS

# Public feeds are the same for everyone: a feed reader may keep them for a while, a shared
# cache (nginx, a CDN) only as long as it may keep the pages, since a feed holds free lessons'
# whole text and a lesson made premium must leave it as soon as it leaves them.
FEED_MAX_AGE = 600


def _feed_cache_headers(response):
    patch_cache_control(
        response,
        max_age=FEED_MAX_AGE,
        s_maxage=settings.SHARED_CACHE_SECONDS,
        stale_while_revalidate=settings.SHARED_CACHE_STALE_SECONDS,
    )
    return response


def _personal(response, *, store: bool = True):
    """What a page shows depends on who asks: never store it in a shared cache. A page with
    premium text or a reader's own access on it is not stored at all (`store=False`), so
    that after logging out the browser's Back button cannot show it again."""
    if store:
        patch_cache_control(response, private=True)
    else:
        add_never_cache_headers(response)
    patch_vary_headers(response, ["Cookie"])
    return response


def _origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _page_number(request) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isascii() and value.isdecimal() and 0 < int(value) < 10**6 else 0


@anonymous_page
def home(request):
    listing = pages.home_series(staff=request.user.is_staff, page=_page_number(request) or 1)
    request.access.about_many_series()  # each series' call to action asks
    context = {
        "listing": listing,
        "share": structured.home_meta(request),
        "resume": _resume(request),
    }
    return _personal(render(request, "lessons/home.html", context))


def _resume(request) -> dict | None:
    """Where a logged-in reader left off: the lesson they last opened, or the one after it
    when they finished it (nothing once they finished a series' last lesson)."""
    if not request.user.is_authenticated:
        return None
    last = Progress.objects.last_for(request.user)
    if last is None:
        return None
    series = last.lesson.series
    if last.finished_at is None:
        target = LessonLink(last.lesson.number, last.lesson.slug, last.lesson.title)
    elif last.next_number is not None:
        target = LessonLink(last.next_number, last.next_slug, last.next_title)
    else:
        return None
    return {"series": series, "lesson": target}


@anonymous_page
def series_detail(request, slug):
    number = _page_number(request) or 1
    # A series everyone may see is known from its address before the reader is: their
    # session, grants in it, marks on the listed lessons and follow are then read in one query.
    if public := pages.find_series_page(slug, staff=False, page=number):
        request.access.listing(public[0].pk, public[1].items)
    series, listing = pages.series_page(slug, staff=request.user.is_staff, page=number)
    lessons = listing.items
    # the reader's grants in the series, marks on its lessons and follow, in one query
    request.access.listing(series.pk, lessons)
    unlocked = {
        lesson.pk for lesson in lessons if not lesson.is_free and request.access.decide(lesson).full
    }
    premium = [lesson for lesson in lessons if not lesson.is_free]
    authenticated = request.user.is_authenticated
    opened, done = request.access.marks(lessons)
    # The page is kept per tier and place (caching.kept.render_page): all it shows is named
    # here, as values, never as the reader: which lessons they may read, whether they have the
    # whole series and follow it, and their place in it (which of the listed lessons they
    # opened and read to the end). Readers at one place share one page; a reader further on
    # gets another one, made once for all readers who get there.
    shared = {
        "series": series,
        "listing": listing,
        "unlocked": unlocked,
        "first_locked": next((x for x in premium if x.pk not in unlocked), None),
        "first_premium": premium[0] if premium else None,
        "authenticated": authenticated,
        "path": request.path,
        "whole": bool(premium) and request.access.has_whole_series(series.pk),
        "following": authenticated and series.is_published and request.access.follows(series.pk),
        # Worked out only when the page's head is not kept already (series.html's kept part).
        "share": kept.derived(
            structured.series_meta, request, series, lessons, with_image=series.is_published
        ),
        "opened": frozenset(opened),
        "done": frozenset(done),
        "done_count": len(done),
        # A reader who has the whole series continues with the first premium lesson not done.
        "continue_at": next((x for x in premium if x.pk not in done), None),
    }
    response = kept.render_page(request, "lessons/series.html", shared=shared)
    if not series.is_published:
        response["X-Robots-Tag"] = "noindex"
    return _personal(response, store=not unlocked and not opened)


@anonymous_page
def lesson_detail(request, series_slug, slug):
    # A lesson everyone may see is known from its address before the reader is: their
    # session, grants in its series and progress on it are then read in one query.
    if public := pages.find_lesson_page(series_slug, slug, staff=False):
        request.access.reading(public.lesson)
    page = pages.lesson_page(series_slug, slug, staff=request.user.is_staff)
    lesson = page.lesson
    request.access.reading(lesson)  # the reader's grants and progress in one query
    decision = request.access.decide(lesson)
    unpublished_state = lesson.unpublished_state
    authenticated = request.user.is_authenticated
    series = lesson.series
    # What a free lesson's end shows: the call to action (or where to continue, for a reader
    # who has the whole series) and the follow box; asked of request.access only there.
    ends_free = decision.full and lesson.is_free
    # The page is kept per tier (caching.kept.render_page): all it shows besides its {% own %}
    # parts (the header's account links, messages) is named here, as values, never as the
    # reader: whether they are logged in, have the whole series, follow it, finished it.
    shared = {
        "authenticated": authenticated,
        "path": request.path,
        "whole_series": ends_free and request.access.has_whole_series(series.pk),
        "following": ends_free
        and authenticated
        and not unpublished_state
        and request.access.follows(series.pk),
        # Only a reader who can read the lesson can have finished it (or finish it now).
        "finished": authenticated
        and decision.full
        and not unpublished_state
        and request.access.finished_at(lesson) is not None,
        "lesson": lesson,
        "series": series,
        "full": decision.full,
        # The body and its table of contents, or the teaser alone: read only when the page
        # is made, named by the lesson and what the reader may read of it.
        "body": kept.derived(pages.lesson_body, lesson, full=decision.full),
        "has_code": lesson.body_has_code if decision.full else lesson.teaser_has_code,
        "previous": page.previous,
        "next": page.next,
        "unpublished_state": unpublished_state,
        # Worked out only when the page is not kept already.
        "share": kept.derived(
            structured.lesson_meta, request, lesson, with_image=not unpublished_state
        ),
    }
    response = kept.render_page(request, "lessons/lesson.html", shared=shared)
    if unpublished_state:
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response
    return _personal(response, store=not (decision.full and not lesson.is_free))


def site_feed(request, atom=False):
    def scope():
        return feeds.FeedScope(access=request.access.public(), origin=_origin(request))

    return _feed_cache_headers(feeds.serve(request, key="site", scope=scope, atom=atom))


def series_feed(request, slug, atom=False):
    """Built only on a cache miss: the content version changes when a series is unpublished,
    so a cached feed never outlives its series."""

    def scope():
        series = get_object_or_404(Series.objects.published(), slug=slug)
        return feeds.FeedScope(
            access=request.access.public(), origin=_origin(request), series=series
        )

    return _feed_cache_headers(feeds.serve(request, key=f"series:{slug}", scope=scope, atom=atom))


def sitemap(request):
    """The sitemap index: one file per section and page of at most SITEMAP_URLS addresses."""
    response = responses.respond(
        request,
        key="sitemap",
        build=lambda: sitemaps_views.index(
            request, sitemaps=SITEMAPS, sitemap_url_name="lessons:sitemap_section"
        ),
        seconds=feeds.seconds_to_keep,
    )
    patch_cache_control(response, max_age=FEED_MAX_AGE)
    return response


def sitemap_section(request, section):
    page = request.GET.get("p", "1")
    if section not in SITEMAPS or not page.isdigit():
        raise Http404
    response = responses.respond(
        request,
        key=f"sitemap:{section}:{int(page)}",
        build=lambda: sitemaps_views.sitemap(request, sitemaps=SITEMAPS, section=section),
        seconds=feeds.seconds_to_keep,
    )
    patch_cache_control(response, max_age=FEED_MAX_AGE)
    return response


# Nothing is disallowed: the pages that are not to be indexed (search results, account, access
# and admin pages, private feeds, drafts) say noindex themselves (X-Robots-Tag, and a meta tag
# in HTML), which a crawler can only read if it may fetch them. The admin's address is not
# named here (ADMIN_PATH may be kept secret).
ROBOTS = """# Pages not to be indexed say noindex; crawlers may fetch them to read it.
User-agent: *
Disallow:

Sitemap: {sitemap}
"""


def robots_txt(request):
    text = ROBOTS.format(sitemap=request.build_absolute_uri(reverse("lessons:sitemap")))
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    patch_cache_control(response, max_age=FEED_MAX_AGE)
    return response


def _png(data: bytes) -> HttpResponse:
    """A share image: its address changes with what it shows, so it may be kept for good."""
    response = HttpResponse(data, content_type="image/png")
    patch_cache_control(response, public=True, max_age=365 * 24 * 60 * 60, immutable=True)
    return response


def lesson_image(request, series_slug, slug, version):
    lesson = get_object_or_404(
        Lesson.objects.published()
        .select_related("series")
        .only("number", "slug", "title", "series__slug", "series__title", "series__language"),
        series__slug=series_slug,
        slug=slug,
    )
    card = share.lesson_card(lesson)
    if version != card.version:
        return redirect("lessons:lesson_image", series_slug, slug, card.version)
    return _png(share.read(card))


def series_image(request, slug, version):
    series = get_object_or_404(
        Series.objects.published().only("slug", "title", "language"), slug=slug
    )
    card = share.series_card(series)
    if version != card.version:
        return redirect("lessons:series_image", slug, card.version)
    return _png(share.read(card))


def search_page(request):
    """Results depend only on the query (and, for a logged-in reader, on what they may read):
    a reader sees the whole text of premium lessons only where it is theirs to read. The page
    is kept per query, page and scope (caching.kept.render_page): readers who may read the
    same lessons share it, and a reader who may read other lessons never gets it."""
    query = search.parse(request.GET.get("q", ""))
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    # Beyond the last page is the last page (search.search_in): no more pages than matches.
    page = min(max(1, page), -(-search.MAX_MATCHES // search.PER_PAGE))
    premium = False
    found = search.Results(query)
    if search.searchable(query):
        scope = request.access.premium_scope()
        # Worked out only when the page is not kept already, from the query and scope alone.
        found = kept.derived(search.search_in, query, scope=scope, page=page)
        # A reader who may read premium text may find it: their page is not stored.
        premium = scope is None or bool(scope.held)
    response = kept.render_page(
        request, "lessons/search.html", shared={"q": query.text, "found": found}
    )
    if premium:
        add_never_cache_headers(response)
    return _personal(response)


@require_POST
def record_progress(request, series_slug, slug):
    """A logged-in reader opened a lesson, or read it to the end ("done"): one small write.
    Sent by static/js/progress.js (navigator.sendBeacon, `via=beacon`: 204) or by the "mark as
    done" form, which works without JavaScript (then back to the end of the lesson)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.path)
    if not beacons.allow(request, "progress"):
        return HttpResponse(status=429)  # a loop, not a reader: nothing more is written
    lesson = get_object_or_404(
        Lesson.objects.published().select_related("series").only("access", "slug", "series__slug"),
        series__slug=series_slug,
        slug=slug,
    )
    state = request.POST.get("state")
    if state not in ("opened", "done"):
        return HttpResponseBadRequest()
    # Only a reader who gets the whole lesson can have read to its end.
    finished = state == "done" and request.access.decide(lesson).full
    Progress.objects.record(user=request.user, lesson=lesson, finished=finished)
    if request.POST.get("via") == "beacon":
        return HttpResponse(status=204)
    return HttpResponseRedirect(f"{lesson.get_absolute_url()}#site-lesson-end", status=303)
