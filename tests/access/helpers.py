from django.urls import reverse

from access import services
from tests.factories import make_user

REDEEM = reverse("access:redeem")


def issue(series, **options) -> str:
    """Issue one PIN and return its plaintext."""
    return services.issue_pins(series=series, **options)[0].pin


def reader_with_access(series, *, wants=True, email=None, **fields):
    """A reader holding the whole series, who asked (`wants`) for new-lesson e-mails."""
    reader = make_user(email=email, lesson_emails=wants, **fields)
    services.grant(user=reader, series=series)
    return reader
