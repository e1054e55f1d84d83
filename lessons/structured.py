"""What a page tells search engines and chat apps about itself: its canonical address, title
and description, Open Graph and Twitter card tags, and schema.org JSON-LD.

Built only from public fields (titles, the author's summary, the series description, dates)
and never from lesson text, so a premium lesson's tags hold nothing from after the cut. A
premium lesson says `isAccessibleForFree: false` and, as Google's guidelines for subscription
content ask, names the part of the page that is not free with `hasPart` and a `cssSelector`:
the element of lesson.html (LOCKED_PART_SELECTOR) that stands where the premium text would be,
holding what access/ shows there. That text is never sent to a reader without access, so
nothing on the page is hidden with CSS.

The page's language, its alternates and `og:locale` are the address's (templates/base.html,
config/languages.py); `inLanguage` here is the lessons' own language.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from lessons import share

# The element that stands for a premium lesson's locked part (templates/lessons/lesson.html).
LOCKED_PART_SELECTOR = ".lesson__locked"
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class ShareMeta:
    url: str
    title: str
    description: str
    type: str = "website"
    image: str = ""
    image_alt: str = ""
    published: str = ""
    modified: str = ""
    json_ld: SafeString | str = ""


def json_ld(data: dict) -> SafeString:
    """A <script type="application/ld+json"> block; the JSON cannot close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


def _image_url(request, name: str, args: list) -> str:
    """A share image's address: the same in every language (its words are the lessons'), so
    a chat app or a CDN keeps one copy."""
    with translation.override(settings.LANGUAGE_CODE):
        return request.build_absolute_uri(reverse(name, args=args))


def _author(series) -> dict:
    if series.author:
        return {"@type": "Person", "name": series.author}
    return {"@type": "Organization", "name": settings.SITE_NAME}


def series_description(series) -> str:
    return Truncator(" ".join(strip_tags(series.description_html).split())).words(40)


def lesson_meta(request, lesson, *, with_image: bool = True) -> ShareMeta:
    """`lesson.series` must be loaded. `with_image` is False for lessons readers cannot see
    (a staff preview of a draft), whose image is not served."""
    series = lesson.series
    url = request.build_absolute_uri(lesson.get_absolute_url())
    series_url = request.build_absolute_uri(series.get_absolute_url())
    card = share.lesson_card(lesson)
    image = (
        _image_url(request, "lessons:lesson_image", [series.slug, lesson.slug, card.version])
        if with_image
        else ""
    )
    description = lesson.summary or gettext("Lesson %(number)s of “%(series)s”.") % {
        "number": lesson.number,
        "series": series.title,
    }
    published = lesson.published_at.isoformat() if lesson.published_at else ""
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": lesson.title,
        "description": description,
        "url": url,
        "mainEntityOfPage": url,
        "inLanguage": series.language,
        "author": _author(series),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
        "isPartOf": {"@type": "Course", "@id": series_url, "name": series.title, "url": series_url},
        "position": lesson.number,
        "isAccessibleForFree": lesson.is_free,
        "dateModified": lesson.updated_at.isoformat(),
    }
    if not lesson.is_free:
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": LOCKED_PART_SELECTOR,
        }
    if published:
        data["datePublished"] = published
    if image:
        data["image"] = [image]
    return ShareMeta(
        url=url,
        title=lesson.title,
        description=description,
        type="article",
        image=image,
        image_alt=f"{card.kicker}: {card.title}",
        published=published,
        modified=lesson.updated_at.isoformat(),
        json_ld=json_ld(data),
    )


def series_meta(request, series, lessons, *, with_image: bool = True) -> ShareMeta:
    """A Course with its lessons (those the page lists) as parts."""
    url = request.build_absolute_uri(series.get_absolute_url())
    card = share.series_card(series)
    image = (
        _image_url(request, "lessons:series_image", [series.slug, card.version])
        if with_image
        else ""
    )
    description = series_description(series)
    data = {
        "@context": "https://schema.org",
        "@type": "Course",
        "@id": url,
        "name": series.title,
        "description": description or series.title,
        "url": url,
        "inLanguage": series.language,
        "author": _author(series),
        "provider": {
            "@type": "Organization",
            "name": settings.SITE_NAME,
            "url": request.build_absolute_uri(reverse("lessons:home")),
        },
        "isAccessibleForFree": all(lesson.is_free for lesson in lessons),
        "hasPart": [
            {
                "@type": "Article",
                "name": lesson.title,
                "url": request.build_absolute_uri(lesson.get_absolute_url()),
                "position": lesson.number,
                "isAccessibleForFree": lesson.is_free,
            }
            for lesson in lessons
        ],
    }
    if image:
        data["image"] = [image]
    return ShareMeta(
        url=url,
        title=series.title,
        description=description,
        image=image,
        image_alt=f"{card.kicker}: {card.title}",
        json_ld=json_ld(data),
    )


def home_meta(request) -> ShareMeta:
    return ShareMeta(
        url=request.build_absolute_uri(reverse("lessons:home")),
        title=settings.SITE_NAME,
        description=gettext("Lesson series from %(site)s.") % {"site": settings.SITE_NAME},
    )
