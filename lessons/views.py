from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers

from config.pagecache import anonymous_page
from lessons import pages


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


def _page_number(request) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isascii() and value.isdecimal() and 0 < int(value) < 10**6 else 0


@anonymous_page
def home(request):
    listing = pages.home_series(staff=request.user.is_staff, page=_page_number(request) or 1)
    return _personal(render(request, "lessons/home.html", {"listing": listing}))


@anonymous_page
def series_detail(request, slug):
    series, listing = pages.series_page(
        slug, staff=request.user.is_staff, page=_page_number(request) or 1
    )
    unlocked = {
        lesson.pk
        for lesson in listing.items
        if not lesson.is_free and request.access.decide(lesson).full
    }
    premium = [lesson for lesson in listing.items if not lesson.is_free]
    context = {
        "series": series,
        "listing": listing,
        "unlocked": unlocked,
        "first_locked": next((x for x in premium if x.pk not in unlocked), None),
        "first_premium": premium[0] if premium else None,
    }
    response = render(request, "lessons/series.html", context)
    return _personal(response, store=not unlocked)


@anonymous_page
def lesson_detail(request, series_slug, slug):
    page = pages.lesson_page(series_slug, slug, staff=request.user.is_staff)
    lesson = page.lesson
    decision = request.access.decide(lesson)
    context = {
        "lesson": lesson,
        "series": lesson.series,
        "decision": decision,
        "body_html": lesson.body_html if decision.full else lesson.teaser_html,
        "previous": page.previous,
        "next": page.next,
        "unpublished_state": lesson.unpublished_state,
    }
    response = render(request, "lessons/lesson.html", context)
    if context["unpublished_state"]:
        add_never_cache_headers(response)
        return response
    return _personal(response, store=not (decision.full and not lesson.is_free))
