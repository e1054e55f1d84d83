from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.functional import cached_property

from access import policy
from access.models import Entitlement


class ReaderAccess:
    """What the current reader may read. Entitlements load once, on first use."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def is_staff(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_staff)

    @cached_property
    def grants(self) -> tuple[policy.Grant, ...]:
        if not self.user.is_authenticated:
            return ()
        return Entitlement.objects.grants_for(self.user)

    def public(self) -> "ReaderAccess":
        """The decisions for a reader who is not logged in, for what is the same for
        everyone whoever asks (the public feeds)."""
        return ReaderAccess(AnonymousUser())

    def decide(self, lesson) -> policy.Decision:
        return policy.decide(
            is_free=lesson.is_free,
            series_id=lesson.series_id,
            lesson_id=lesson.pk,
            is_staff=self.is_staff,
            # A free lesson never needs the reader's entitlements: don't load them for it.
            grants=() if lesson.is_free else self.grants,
            now=timezone.now(),
        )

    def premium_series(self) -> frozenset[int] | None:
        """Where this reader may read some premium lesson (None: everywhere)."""
        if not self.user.is_authenticated:
            return frozenset()
        return policy.premium_series(is_staff=self.is_staff, grants=self.grants, now=timezone.now())

    def has_whole_series(self, series_id: int) -> bool:
        if not self.user.is_authenticated:
            return False
        return policy.covers_whole_series(
            series_id=series_id, is_staff=self.is_staff, grants=self.grants, now=timezone.now()
        )


class AccessMiddleware:
    """Attach a lazy `request.access`; views ask it `decide(lesson)`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = ReaderAccess(request.user)
        return self.get_response(request)
