"""Small helpers that make valid objects with as little typing as possible."""

import itertools
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone

from access.models import Follow
from accounts.models import User
from lessons.models import Lesson, Series

_seq = itertools.count(1)


def make_user(email=None, password="correct horse battery", *, verified=True, **fields) -> User:
    """A reader as sign-up leaves them: their email address verified (unless told not)."""
    user = User.objects.create_user(email or f"reader{next(_seq)}@example.com", password, **fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def make_staff(**fields) -> User:
    return make_user(is_staff=True, **fields)


def make_series(**fields) -> Series:
    n = next(_seq)
    defaults = {
        "title": f"Series {n}",
        "slug": f"series-{n}",
        "is_published": True,
        "paywall_message": "Ask for a PIN.",
    }
    return Series.objects.create(**{**defaults, **fields})


def make_lesson(series=None, **fields) -> Lesson:
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
    return Lesson.objects.create(series=series, **{**defaults, **fields})


def make_follow(series, email=None, *, user=None, language="") -> Follow:
    """A follower of `series`: a reader (at their address) or a confirmed address."""
    address = (user.email if user else email or f"follower{next(_seq)}@example.com").lower()
    return Follow.objects.create(series=series, email=address, user=user, language=language)
