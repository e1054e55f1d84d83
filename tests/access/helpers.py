from django.urls import reverse

from access import services

REDEEM = reverse("access:redeem")


def issue(series, **options) -> str:
    """Issue one PIN and return its plaintext."""
    return services.issue_pins(series=series, **options)[0].pin
