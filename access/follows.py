"""Following a series: its new lessons by e-mail, for any reader, with or without access.

A logged-in reader follows with one tap (their address is proven already). Anyone else types
an address and gets an e-mail with a link to confirm (double opt-in): the link carries the
series, the address and the language, signed and good for `CONFIRM_DAYS`, so nothing is
stored until they confirm, and an address typed by someone else only ever receives that one
e-mail. Announcements (access/announcements.py) go to followers as well as to buyers.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from access.models import Follow
from config import mail, plainsql
from lessons.models import Series

CONFIRM_SALT = "access.follows.confirm"
CONFIRM_DAYS = 7


def language_of(request) -> str:
    code = getattr(request, "LANGUAGE_CODE", "") or translation.get_language() or ""
    return code if code in dict(settings.LANGUAGES) else ""


def follows(user, series_id: int) -> bool:
    """Whether the logged-in reader follows the series. One plain query (config/plainsql.py):
    every logged-in series page and free lesson asks."""
    return plainsql.select_one(Follow, ["pk"], user=user.pk, series=series_id) is not None


def follow(*, user, series: Series, language: str = "") -> Follow:
    """The logged-in reader follows `series` at their account's address (an earlier follow of
    that address, confirmed by e-mail, becomes theirs)."""
    address = user.email.lower()
    with transaction.atomic():
        Follow.objects.filter(series=series, email=address, user__isnull=True).update(user=user)
        try:
            with transaction.atomic():
                found, _ = Follow.objects.get_or_create(
                    series=series,
                    user=user,
                    defaults={"email": address, "language": user.language or language},
                )
        except IntegrityError:  # the same reader, at the same moment
            found = Follow.objects.get(series=series, user=user)
    return found


def unfollow(*, user, series: Series) -> None:
    Follow.objects.filter(series=series, user=user).delete()


def confirmation_token(*, series: Series, email: str, language: str) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign_object(
        {"s": series.pk, "e": email.lower(), "l": language}, compress=True
    )


def read_confirmation(token: str) -> tuple[Series, str, str] | None:
    """The series, address and language a confirmation link names, or None when the link
    is not ours, has expired, or its series is no longer published."""
    try:
        data = signing.TimestampSigner(salt=CONFIRM_SALT).unsign_object(
            token, max_age=CONFIRM_DAYS * 24 * 3600
        )
        series_id, email, language = int(data["s"]), str(data["e"]), str(data["l"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    series = Series.objects.published().filter(pk=series_id).first()
    return (series, email, language) if series else None


def confirm(*, series: Series, email: str, language: str) -> Follow:
    """The address confirmed the link: it follows `series` (once, however often it is
    opened)."""
    try:
        with transaction.atomic():
            found, _ = Follow.objects.get_or_create(
                series=series, email=email.lower(), defaults={"language": language}
            )
    except IntegrityError:
        found = Follow.objects.get(series=series, email=email.lower())
    return found


def send_confirmation(request, *, series: Series, email: str) -> None:
    """The e-mail with the link that confirms following `series`, in the page's language."""
    language = language_of(request)
    token = confirmation_token(series=series, email=email, language=language)
    context = {
        "series": series,
        "confirm_url": request.build_absolute_uri(reverse("access:follow_confirm", args=[token])),
        "days": CONFIRM_DAYS,
        "SITE_NAME": settings.SITE_NAME,
    }
    subject = render_to_string("access/email/follow_confirm_subject.txt", context)
    message = mail.Message(
        subject=f"[{settings.SITE_NAME}] {' '.join(subject.split())}",
        body=render_to_string("access/email/follow_confirm.txt", context),
        to=[email],
    )
    mail.send_later(message, deliver_by=timezone.now() + timedelta(days=CONFIRM_DAYS))
