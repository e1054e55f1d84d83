"""Addresses of series and lessons, as `reverse()` gives them, made faster for the lists that
ask for them by the dozen (a series' page of fifty lessons, its structured data, the home
page's cards).

`reverse()` of an address whose arguments are slugs gives the same text around the slugs for
every series and lesson: it is worked out once per URL name, URL configuration, script prefix,
language and site language (the i18n_patterns prefix: none for the site's own), with a
marker in place of each slug, and the slugs are put where the markers are. A change of
settings (tests) forgets what was worked out, as it makes Django forget its URL resolvers.
A slug the `slug` path converter would not take (or quote) goes through `reverse()` itself,
and so does an address whose markers do not each appear exactly once.
"""

import functools
import re
import secrets

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

# What the `slug` path converter takes: a slug of these characters is written as it is.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
_MARKER = f"slug{secrets.token_hex(8)}"


@functools.lru_cache(maxsize=64)
def _around(name: str, keys: tuple[str, ...], urlconf, prefix: str, *languages) -> tuple | None:
    """The address of `name` cut at its slugs (one text more than `keys`), or None."""
    markers = {key: f"{_MARKER}{i}x" for i, key in enumerate(keys)}
    try:
        address = reverse(name, kwargs=markers, urlconf=urlconf)
    except NoReverseMatch:  # a pattern that takes no such text: reverse() for each slug
        return None
    parts, rest = [], address
    for key in keys:
        if address.count(markers[key]) != 1:
            return None
        before, _, rest = rest.partition(markers[key])
        if _MARKER in before:  # out of order
            return None
        parts.append(before)
    return (*parts, rest)


def slug_address(name: str, **slugs: str) -> str:
    """`reverse(name, kwargs=slugs)`, for an address whose arguments are all slugs, in the
    order of its pattern."""
    keys = tuple(slugs)
    around = None
    if all(isinstance(slug, str) and _SLUG.match(slug) for slug in slugs.values()):
        around = _around(
            name, keys, get_urlconf(), get_script_prefix(), get_language(), settings.LANGUAGE_CODE
        )
    if around is None:
        return reverse(name, kwargs=slugs)
    pieces = [around[0]]
    for key, text in zip(keys, around[1:], strict=True):
        pieces += (slugs[key], text)
    return "".join(pieces)


@receiver(setting_changed)
def _forget(**kwargs) -> None:
    _around.cache_clear()
