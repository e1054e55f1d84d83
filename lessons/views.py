from dataclasses import dataclass

from django.contrib.auth.views import redirect_to_login
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_POST

from lessons import caching, feeds, search, share, structured
from lessons.models import Lesson, Progress, Series
from lessons.sitemaps import SITEMAPS

# Public feeds are the same for everyone: a feed reader may keep them for a while.
FEED_MAX_AGE = 600


@dataclass(frozen=True)
class LessonLink:
    """Enough of a lesson to link to it."""

    number: int
    slug: str
    title: str


def _personal(response):
    """What a page shows depends on who asks: never store it in a shared cache."""
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def _origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _visible_lessons(request):
    """Staff see every lesson (drafts and scheduled ones marked); readers the published ones."""
    return Lesson.objects.all() if request.user.is_staff else Lesson.objects.published()


def _listed_lessons(request):
    return (
        _visible_lessons(request)
        .defer("body", "body_html", "teaser_html", "toc_html")
        .order_by("number")
    )


def _visible_series(request):
    return Series.objects.all() if request.user.is_staff else Series.objects.published()


def home(request):
    listed = _listed_lessons(request).filter(series=OuterRef("pk")).order_by()
    premium = listed.filter(access=Lesson.Access.PREMIUM).order_by("number")

    def count(lessons):
        return Coalesce(Subquery(lessons.values("series").annotate(n=Count("pk")).values("n")), 0)

    series_list = list(
        Series.objects.published().annotate(
            lesson_count=count(listed),
            premium_count=count(premium.order_by()),
            first_premium_number=Subquery(premium.values("number")[:1]),
            first_premium_slug=Subquery(premium.values("slug")[:1]),
            first_premium_title=Subquery(premium.values("title")[:1]),
        )
    )
    for series in series_list:
        series.free_count = series.lesson_count - series.premium_count
        series.first_premium = (
            LessonLink(
                series.first_premium_number, series.first_premium_slug, series.first_premium_title
            )
            if series.first_premium_number
            else None
        )
    context = {
        "series_list": series_list,
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


def series_detail(request, slug):
    series = get_object_or_404(_visible_series(request), slug=slug)
    lessons = _listed_lessons(request).filter(series=series)
    if request.user.is_authenticated:
        mine = Progress.objects.filter(user=request.user, lesson=OuterRef("pk"))
        lessons = lessons.annotate(
            opened=Exists(mine), done=Exists(mine.filter(finished_at__isnull=False))
        )
    lessons = list(lessons)
    first_locked = first_premium = None
    for lesson in lessons:
        lesson.series = series
        lesson.unlocked = not lesson.is_free and request.access.decide(lesson).full
        if not lesson.is_free:
            first_premium = first_premium or lesson
            if not lesson.unlocked:
                first_locked = first_locked or lesson
    context = {
        "series": series,
        "lessons": lessons,
        "first_locked": first_locked,
        "first_premium": first_premium,
        # A reader who has the whole series continues with the first premium lesson not done.
        "continue_at": next(
            (x for x in lessons if not x.is_free and not getattr(x, "done", False)), None
        ),
        "done_count": sum(1 for lesson in lessons if getattr(lesson, "done", False)),
        "share": structured.series_meta(request, series, lessons, with_image=series.is_published),
    }
    response = render(request, "lessons/series.html", context)
    if not series.is_published:
        response["X-Robots-Tag"] = "noindex"
    return _personal(response)


def lesson_detail(request, series_slug, slug):
    visible = _visible_lessons(request)
    lessons = visible.select_related("series").annotate(
        series_has_premium=Exists(
            visible.filter(series=OuterRef("series"), access=Lesson.Access.PREMIUM)
        )
    )
    if request.user.is_authenticated:
        lessons = lessons.annotate(
            finished_at=Subquery(
                Progress.objects.filter(user=request.user, lesson=OuterRef("pk")).values(
                    "finished_at"
                )[:1]
            )
        )
    lesson = get_object_or_404(lessons, series__slug=series_slug, slug=slug)
    decision = request.access.decide(lesson)
    body_html = lesson.body_html if decision.full else lesson.teaser_html
    neighbours = (
        _listed_lessons(request).filter(series=lesson.series_id).only("number", "title", "slug")
    )
    context = {
        "lesson": lesson,
        "series": lesson.series,
        "decision": decision,
        "body_html": body_html,
        # The table of contents lists the body's headings, so it goes with the body only.
        "toc_html": lesson.toc_html if decision.full else "",
        "has_code": "<pre" in body_html,
        "previous": neighbours.filter(number__lt=lesson.number).order_by("-number").first(),
        "next": neighbours.filter(number__gt=lesson.number).first(),
        "unpublished_state": lesson.unpublished_state,
    }
    context["share"] = structured.lesson_meta(
        request, lesson, with_image=not context["unpublished_state"]
    )
    response = render(request, "lessons/lesson.html", context)
    if context["unpublished_state"]:
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response
    return _personal(response)


def site_feed(request, atom=False):
    def scope():
        return feeds.FeedScope(access=request.access.public(), origin=_origin(request))

    response = feeds.serve(request, key="site", scope=scope, atom=atom)
    patch_cache_control(response, max_age=FEED_MAX_AGE)
    return response


def series_feed(request, slug, atom=False):
    """Built only on a cache miss: the content version changes when a series is unpublished,
    so a cached feed never outlives its series."""

    def scope():
        series = get_object_or_404(Series.objects.published(), slug=slug)
        return feeds.FeedScope(
            access=request.access.public(), origin=_origin(request), series=series
        )

    response = feeds.serve(request, key=f"series:{slug}", scope=scope, atom=atom)
    patch_cache_control(response, max_age=FEED_MAX_AGE)
    return response


def sitemap(request):
    response = caching.respond(
        request, key="sitemap", build=lambda: sitemap_view(request, sitemaps=SITEMAPS)
    )
    patch_cache_control(response, max_age=FEED_MAX_AGE)
    return response


# Account, access and admin pages are not disallowed here: they say noindex themselves
# (X-Robots-Tag and a meta tag), which a crawler can only read if it may fetch them.
ROBOTS = """User-agent: *
Disallow: /search/
Disallow: /access/feed/

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
    a reader sees the whole text of premium lessons only where it is theirs to read."""
    raw = request.GET.get("q", "")
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    results = search.search(raw, access=request.access, page=page)
    response = render(request, "lessons/search.html", {"q": results.query.text, "found": results})
    if results.used_full_text:
        add_never_cache_headers(response)
    return _personal(response)


@require_POST
def record_progress(request, series_slug, slug):
    """A logged-in reader opened a lesson, or read it to the end ("done"): one small write.
    Sent by static/js/progress.js (navigator.sendBeacon, `via=beacon`: 204) or by the "mark as
    done" form, which works without JavaScript (then back to the end of the lesson)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.path)
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
