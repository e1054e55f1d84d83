from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from config import languages


@dataclass(frozen=True)
class PageLanguage:
    """This page in one language: `href` for the switcher (with the query), `url` for
    search engines (the absolute address, without it)."""

    code: str
    name: str
    href: str
    url: str
    current: bool
    og_locale: str


def page_languages(request, path: str, query: str) -> list[PageLanguage]:
    """The page at `path` (with `query`) in each language; of `request`, only its scheme
    and host (the absolute addresses), so that a kept page can name it by them."""
    current = translation.get_language()
    return [
        PageLanguage(
            code=code,
            name=translation.get_language_info(code)["name_local"],
            href=f"{alternate}?{query}" if query else alternate,
            url=request.build_absolute_uri(alternate),
            current=code == current,
            og_locale=languages.OG_LOCALES.get(code, code),
        )
        for code, alternate in languages.alternates(path)
    ]


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "page_languages": SimpleLazyObject(
            lambda: page_languages(request, request.path, request.META.get("QUERY_STRING", ""))
        ),
    }
