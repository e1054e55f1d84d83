from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.functional import cached_property

from access import follows, policy
from access.models import Entitlement
from lessons.models import Progress


class ReaderAccess:
    """What the current reader may read. Entitlements load on first use: those of one series
    when only one series is asked about (a lesson page, however many series the reader holds),
    all of them from the second series a page asks about."""

    def __init__(self, user, session=None):
        self.user = user
        # The request's session, while it may not be loaded yet: a lesson or a series page
        # reads it with the reader's grants, progress and follow (reading(), listing()).
        self.session = session
        self._by_series: dict[int, tuple[policy.Grant, ...]] = {}
        self._follows: dict[int, bool] = {}
        self._finished: dict[int, object] = {}
        # (opened, done) of a page of a series' list, by its lessons' ids
        self._marks: dict[tuple[int, ...], tuple[set[int], set[int]]] = {}

    @cached_property
    def is_staff(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_staff)

    @cached_property
    def grants(self) -> tuple[policy.Grant, ...]:
        if not self.user.is_authenticated:
            return ()
        return Entitlement.objects.grants_for(self.user)

    def grants_in(self, series_id: int) -> tuple[policy.Grant, ...]:
        if not self.user.is_authenticated:
            return ()
        if series_id in self._by_series:
            return self._by_series[series_id]
        if "grants" in self.__dict__ or self._by_series:
            # All of them are loaded already, or this page asks about a second series (a list
            # of series): load them all, once, whatever the number of series on the page.
            return tuple(grant for grant in self.grants if grant.series_id == series_id)
        self._by_series[series_id] = Entitlement.objects.grants_for(self.user, series_id=series_id)
        return self._by_series[series_id]

    def reading(self, lesson) -> None:
        """For a lesson page: what it asks of a logged-in reader (the grants in the lesson's
        series, and whether they finished the lesson), in one query now, rather than one
        query each when decide() and finished_at() ask. Asked before anything has asked who
        the reader is, the same query reads the session and its user too."""
        if lesson.pk in self._finished or self._read_with_session(lesson):
            return
        if not self.user.is_authenticated:
            return
        if lesson.series_id in self._by_series or "grants" in self.__dict__:
            return  # the grants are loaded already: finished_at() asks on its own
        grants, finished = Entitlement.objects.grants_and_progress(
            self.user, lesson=lesson, progress_model=Progress
        )
        self._by_series[lesson.series_id] = grants
        self._finished[lesson.pk] = finished

    def _read_with_session(self, lesson) -> bool:
        """reading() in the statement that loads the session, if it is not loaded yet:
        whether the grants and progress it read are the reader's (the user the session's
        data logs in, as Django's get_user() decides, is the one its row names)."""
        if self.session is None:
            return False
        read = Entitlement.objects.grants_and_progress_with_session(
            self.session, lesson=lesson, progress_model=Progress
        )
        if not self._rows_are_readers(read):
            return False
        self._by_series[lesson.series_id], self._finished[lesson.pk] = read
        return True

    def _rows_are_readers(self, read) -> bool:
        """Whether rows read with the session (None: they were not) are the reader's: the
        user the session's data logs in (Django's get_user() decides) is the one its row
        names, whose rows they are. Never another user's rows."""
        return (
            read is not None
            and self.user.is_authenticated
            and self.user.pk == self.session.row_user_pk
        )

    def listing(self, series_id: int, lessons) -> None:
        """For a series page: what it asks of a logged-in reader (the grants in the series,
        their marks on its listed `lessons`, whether they follow it), in one query now,
        rather than one query each when decide(), marks() and follows() ask. Asked before
        anything has asked who the reader is, the same query reads the session and its user
        too."""
        if series_id in self._by_series or "grants" in self.__dict__:
            return  # the grants are loaded already: marks() and follows() ask on their own
        read = None
        if self.session is not None:
            read = Entitlement.objects.series_reading_with_session(
                self.session, series_id=series_id, lessons=lessons, progress_model=Progress
            )
            if not self._rows_are_readers(read):
                read = None
        if not self.user.is_authenticated:
            return
        if read is None:
            read = Entitlement.objects.series_reading(
                self.user, series_id=series_id, lessons=lessons, progress_model=Progress
            )
        grants, marks, following = read
        self._by_series[series_id] = grants
        self._marks[tuple(lesson.pk for lesson in lessons)] = marks
        self._follows[series_id] = following

    def marks(self, lessons) -> tuple[set[int], set[int]]:
        """(opened, done): which of these lessons (a page of one series' list) the reader
        opened, and read to the end (Progress.objects.marks_for; none when not logged in)."""
        if not self.user.is_authenticated:
            return set(), set()
        listed = tuple(lesson.pk for lesson in lessons)
        if listed not in self._marks:
            self._marks[listed] = Progress.objects.marks_for(self.user, lessons)
        return self._marks[listed]

    def finished_at(self, lesson):
        """When the reader read `lesson` to the end (None: not yet, or not logged in)."""
        if not self.user.is_authenticated:
            return None
        if lesson.pk not in self._finished:
            self._finished[lesson.pk] = Progress.objects.finished_at(self.user, lesson)
        return self._finished[lesson.pk]

    def about_many_series(self) -> None:
        """For a page that asks about many series (the home page): every grant in one query
        now, rather than one series' first and then all."""
        if self.user.is_authenticated:
            self.grants  # noqa: B018 (loads the cached property)

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
            grants=() if lesson.is_free else self.grants_in(lesson.series_id),
            now=timezone.now(),
        )

    def premium_scope(self) -> policy.PremiumScope | None:
        """The premium lessons this reader may read (None: all of them)."""
        if not self.user.is_authenticated:
            return policy.NO_PREMIUM
        return policy.premium_scope(is_staff=self.is_staff, grants=self.grants, now=timezone.now())

    def follows(self, series_id: int) -> bool:
        """Whether the reader follows the series (new lessons by e-mail): a page that shows
        it names it in its key."""
        if not self.user.is_authenticated:
            return False
        if series_id not in self._follows:
            self._follows[series_id] = follows.follows(self.user, series_id)
        return self._follows[series_id]

    def has_whole_series(self, series_id: int) -> bool:
        if not self.user.is_authenticated:
            return False
        return policy.covers_whole_series(
            series_id=series_id,
            is_staff=self.is_staff,
            grants=self.grants_in(series_id),
            now=timezone.now(),
        )


class AccessMiddleware:
    """Attach a lazy `request.access`; views ask it `decide(lesson)`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = ReaderAccess(request.user, getattr(request, "session", None))
        return self.get_response(request)
