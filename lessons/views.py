from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers

from access.forms import RedeemForm
from lessons.markdown import has_diagram
from lessons.models import Lesson, Series


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


def _visible_lessons(request):
    """Staff see every lesson (drafts and scheduled ones marked); readers the published ones."""
    return Lesson.objects.all() if request.user.is_staff else Lesson.objects.published()


def _listed_lessons(request):
    return _visible_lessons(request).defer("body", "body_html", "teaser_html").order_by("number")


def _visible_series(request):
    return Series.objects.all() if request.user.is_staff else Series.objects.published()


def home(request):
    listed = _listed_lessons(request).filter(series=OuterRef("pk"))
    series_list = Series.objects.published().annotate(
        lesson_count=Coalesce(
            Subquery(listed.order_by().values("series").annotate(n=Count("pk")).values("n")), 0
        )
    )
    return _personal(render(request, "lessons/home.html", {"series_list": series_list}))


def series_detail(request, slug):
    series = get_object_or_404(_visible_series(request), slug=slug)
    lessons = list(_listed_lessons(request).filter(series=series))
    for lesson in lessons:
        lesson.series = series
        lesson.unlocked = not lesson.is_free and request.access.decide(lesson).full
    response = render(request, "lessons/series.html", {"series": series, "lessons": lessons})
    return _personal(response, store=not any(lesson.unlocked for lesson in lessons))


def lesson_detail(request, series_slug, slug):
    lesson = get_object_or_404(
        _visible_lessons(request).select_related("series"), series__slug=series_slug, slug=slug
    )
    decision = request.access.decide(lesson)
    body_html = lesson.body_html if decision.full else lesson.teaser_html
    neighbours = _listed_lessons(request).filter(series=lesson.series_id).only("title", "slug")
    context = {
        "lesson": lesson,
        "series": lesson.series,
        "decision": decision,
        "body_html": body_html,
        "has_diagram": has_diagram(body_html),
        "previous": neighbours.filter(number__lt=lesson.number).order_by("-number").first(),
        "next": neighbours.filter(number__gt=lesson.number).first(),
        "unpublished_state": lesson.unpublished_state,
        "redeem_form": None if decision.full else RedeemForm(),
        "next_url": request.path,
    }
    response = render(request, "lessons/lesson.html", context)
    if context["unpublished_state"]:
        add_never_cache_headers(response)
        return response
    return _personal(response, store=not (decision.full and not lesson.is_free))
