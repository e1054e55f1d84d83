"""Small helpers that make valid objects with as little typing as possible."""

import itertools
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone

from access.models import Follow
from access.offer.models import Offer
from access.offer.services import save_offer
from accounts.models import User
from lessons.models import Lesson, Series
from lessons.services import save_lesson, save_series

_seq = itertools.count(1)


def make_user(email=None, password="correct horse battery", *, verified=True, **fields) -> User:
    """A reader as sign-up leaves them: their email address verified (unless told not)."""
    user = User.objects.create_user(email or f"reader{next(_seq)}@example.com", password, **fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def make_staff(**fields) -> User:
    return make_user(is_staff=True, **fields)


# What make_series() passes to the series' offer (access.offer) rather than to the series.
OFFER_FIELDS = frozenset(
    field.name
    for field in Offer._meta.concrete_fields
    if field.editable and field.name not in {"id", "series"}
)


def make_series(**fields) -> Series:
    """A published series, and its offer: the offer's fields (OFFER_FIELDS: cta_message,
    price_amount, instagram_handle...) may be given with the series'."""
    n = next(_seq)
    selling = {"paywall_message": "Ask for a PIN."}
    selling |= {name: fields.pop(name) for name in list(fields) if name in OFFER_FIELDS}
    defaults = {"title": f"Series {n}", "slug": f"series-{n}", "is_published": True}
    series = Series(**{**defaults, **fields})
    save_series(series)
    save_offer(Offer(series=series, **selling))
    return series


def make_lesson(series=None, **fields) -> Lesson:
    """A published free lesson, saved as the admin saves one (lessons.services.save_lesson:
    rendered, indexed)."""
    series = series or make_series()
    n = fields.pop("number", None) or (series.lessons.count() + 1)
    defaults = {
        "title": f"Lesson {n}",
        "slug": f"lesson-{n}",
        "number": n,
        "body": f"The body of lesson {n}.",
        "access": Lesson.Access.FREE,
        "status": Lesson.Status.PUBLISHED,
        "published_at": timezone.now() - timedelta(days=1),
    }
    lesson = Lesson(series=series, **{**defaults, **fields})
    save_lesson(lesson)
    return lesson


def make_follow(series, email=None, *, user=None, language="") -> Follow:
    """A follower of `series`: a reader (at their address) or a confirmed address."""
    address = (user.email if user else email or f"follower{next(_seq)}@example.com").lower()
    return Follow.objects.create(series=series, email=address, user=user, language=language)
