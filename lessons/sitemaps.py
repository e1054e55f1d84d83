"""The sitemap: the home page, published series and published lessons, each with the time it
last changed. It starts from the same querysets as the pages, so drafts, scheduled lessons and
unpublished series are never in it; previews, account, access and admin pages are not pages of
lessons/ at all (and carry noindex).

Every page is listed at its address in each language (config/languages.py), each entry naming
the others and the plain address as `x-default` with hreflang alternates."""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import translation

from lessons.models import Lesson, Series

SITEMAP_URLS = 10_000


class _InEveryLanguage(Sitemap):
    # Addresses per file (each page in each language counts once): /sitemap.xml is an index
    # of the sections' files, a section longer than this is split into pages (?p=2, …).
    limit = SITEMAP_URLS
    i18n = True
    alternates = True
    x_default = True

    def __init__(self):
        self._prefixes: dict[str, str] = {}
        self._paths: dict[int, str] = {}

    def _location(self, item, force_lang_code=None):
        """The page's address in the language asked for: its plain address (LANGUAGE_CODE's),
        worked out once per page, under that language's prefix (config/languages.py: the
        same address under /<code>/). Django's own reverses every address of every page in
        every language, with its alternates: seconds for a file of 10,000."""
        page, language = item
        language = force_lang_code or language
        if language not in self._prefixes:
            with translation.override(language):
                self._prefixes[language] = reverse("lessons:home").removesuffix("/")
        if id(page) not in self._paths:
            with translation.override(settings.LANGUAGE_CODE):
                self._paths[id(page)] = self.location(page)
        return self._prefixes[language] + self._paths[id(page)]


class LessonSitemap(_InEveryLanguage):
    _address: tuple[str, str, str] | None = None

    def location(self, lesson):
        """Lesson.get_absolute_url() without a reverse() per lesson (slugs need no quoting)."""
        if self._address is None:
            address = reverse(
                "lessons:lesson", kwargs={"series_slug": "SERIESSLUG", "slug": "LESSONSLUG"}
            )
            before, rest = address.split("SERIESSLUG")
            self._address = (before, *rest.split("LESSONSLUG"))
        before, between, after = self._address
        return f"{before}{lesson.series.slug}{between}{lesson.slug}{after}"

    def items(self):
        return list(
            Lesson.objects.published()
            .select_related("series")
            .only("slug", "updated_at", "series__slug")
            .order_by("series__position", "series__title", "number")
        )

    def lastmod(self, lesson):
        return lesson.updated_at


class SeriesSitemap(_InEveryLanguage):
    def items(self):
        latest = Lesson.objects.published().filter(series=OuterRef("pk")).order_by("-updated_at")
        return list(
            Series.objects.published()
            .only("slug", "updated_at")
            .annotate(lessons_updated=Subquery(latest.values("updated_at")[:1]))
        )

    def lastmod(self, series):
        return max(filter(None, [series.updated_at, series.lessons_updated]))


class HomeSitemap(_InEveryLanguage):
    """The home page lists the series: it changes when any of them does."""

    def items(self):
        return ["lessons:home"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        series = SeriesSitemap()
        return max((series.lastmod(item) for item in series.items()), default=None)


SITEMAPS = {"home": HomeSitemap, "series": SeriesSitemap, "lessons": LessonSitemap}
