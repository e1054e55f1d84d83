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


def _page_languages(request) -> list[PageLanguage]:
    query = request.META.get("QUERY_STRING", "")
    current = translation.get_language()
    return [
        PageLanguage(
            code=code,
            name=translation.get_language_info(code)["name_local"],
            href=f"{path}?{query}" if query else path,
            url=request.build_absolute_uri(path),
            current=code == current,
            og_locale=languages.OG_LOCALES.get(code, code),
        )
        for code, path in languages.alternates(request.path)
    ]


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "page_languages": SimpleLazyObject(lambda: _page_languages(request)),
    }
