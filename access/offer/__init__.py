"""The series' offer as readers read it: its price written for a language, and its selling
texts (call to action, paywall message, price line, the PIN message) with their placeholders
filled in from the lessons readers can see.

The offer itself is a model of its own (`access.offer.models.Offer`, one per series at most,
`series.offer`); `of(series)` gives it, or an empty one for a series that has none. Its price
is `of(series).price_amount` (whole units, or None: no price) in `of(series).currency`.

The call to action and the paywall message are Markdown rendered once, when the offer is
saved (`Offer.cta_html`, `paywall_html`); the numbers they name change without the offer
being saved (a lesson is added or comes out), so the placeholders stay in the stored HTML and
are filled in here, when a page is put together: values escaped, and only in the text between
tags, never inside a tag (an attribute such as a link's address keeps its placeholder as
written). The values come from `Series.premium_range`, which the pages that show these texts
load with their own query (lessons.pages) and which names the moment it stops holding, so
what a page keeps names the numbers it was made from.
"""

import re

from django.core.exceptions import ObjectDoesNotExist
from django.utils import formats, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from access.offer.models import Offer
from access.offer.placeholders import PLACEHOLDER, PRICE_PLACEHOLDER

# How an amount is written in each currency (access.offer.placeholders.CURRENCIES); the
# Indonesian says "Rp%(amount)s", without a space, as Indonesian prices are written.
PRICE_FORMATS = {"IDR": gettext_noop("Rp %(amount)s")}
_TAG = re.compile(r"(<[^>]*>)")


def of(series) -> Offer:
    """The series' offer; for a series without one, an empty offer (no texts, no price, no
    contacts), not saved. No query when the series came with its offer (lessons' pages load
    it with the series), and the series is never changed (pages share it between requests)."""
    try:
        return series.offer
    except ObjectDoesNotExist:
        empty = Offer(series_id=series.pk)
        Offer._meta.get_field("series").set_cached_value(empty, series)
        return empty


def format_price(amount: int, currency: str = "IDR", language: str | None = None) -> str:
    """149000 → "Rp149.000" in Indonesian, "Rp 149,000" in English (`language`, else the
    active one)."""
    with translation.override(language or translation.get_language()):
        number = formats.number_format(amount, decimal_pos=0, use_l10n=True, force_grouping=True)
        return gettext(PRICE_FORMATS[currency]) % {"amount": number}


def values(series) -> dict[str, str]:
    """What each selling placeholder of `series` stands for, in its selling language."""
    numbers = series.premium_range
    offer = of(series)
    price = offer.price_amount
    return {
        "price": (
            format_price(price, offer.currency, offer.selling_language) if price is not None else ""
        ),
        "first_premium": str(numbers.first or ""),
        "last_premium": str(numbers.last or ""),
        "premium_count": str(numbers.count),
        "series": series.title,
    }


def _fill(text: str, filled: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: filled.get(m[1], m[0]), text)


def fill_html(html: str, series) -> SafeString:
    """Stored, sanitised HTML of a selling text with its placeholders filled in: escaped
    values, in text only (see the module's docstring)."""
    if "{" not in html:
        return mark_safe(html)  # noqa: S308 (sanitised when the offer was saved)
    filled = {name: escape(value) for name, value in values(series).items()}
    parts = _TAG.split(html)
    for i in range(0, len(parts), 2):  # even parts are text, odd ones tags
        parts[i] = _fill(parts[i], filled)
    return mark_safe("".join(parts))  # noqa: S308 (sanitised HTML, escaped values)


def fill_text(text: str, series, **more: str) -> str:
    """A plain-text selling text (the price line, the PIN message) with its placeholders
    filled in; `more` adds others ({pin}, {link}). Not HTML: a template escapes it."""
    return _fill(text, {**values(series), **more})


def price_line(series) -> str:
    """What is shown beside the buttons: the offer's price line filled in, or the price alone;
    "" when there is neither."""
    offer = of(series)
    if offer.price_line:
        return fill_text(offer.price_line, series)
    return fill_text(PRICE_PLACEHOLDER, series) if offer.price_amount is not None else ""
