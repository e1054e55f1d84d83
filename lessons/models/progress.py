"""How far each logged-in reader got in each lesson."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from config import plainsql
from lessons.models.content import Lesson


class ProgressQuerySet(models.QuerySet):
    def in_span(self, *, user, series, low, high):
        """The reader's progress rows (lesson, finished at) in the series, on the lessons
        numbered `low` to `high`: what `marks_for()` reads."""
        return (
            self.filter(
                user=user, lesson__series=series, lesson__number__gte=low, lesson__number__lte=high
            )
            .order_by()
            .values_list("lesson_id", "finished_at")
        )

    def last_for(self, user):
        """The reader's most recently opened lesson that readers can still see, with the
        number, slug and title of the next published lesson of its series."""
        published = Lesson.objects.published()
        following = published.filter(
            series=models.OuterRef("lesson__series"), number__gt=models.OuterRef("lesson__number")
        ).order_by("number")
        return (
            self.filter(user=user, lesson__in=published)
            .select_related("lesson__series")
            .only(
                "finished_at",
                "lesson__number",
                "lesson__slug",
                "lesson__title",
                "lesson__series__slug",
                "lesson__series__title",
                "lesson__series__language",
            )
            .annotate(
                next_number=models.Subquery(following.values("number")[:1]),
                next_slug=models.Subquery(following.values("slug")[:1]),
                next_title=models.Subquery(following.values("title")[:1]),
            )
            .order_by("-seen_at")
            .first()
        )


class ProgressManager(models.Manager.from_queryset(ProgressQuerySet)):
    """What the pages ask of a reader's progress (a lesson page, a series page, the report
    of a reading): a statement run on the table, or the reading of its rows. The manager's
    own, not the QuerySet's, so that none makes a QuerySet it does not filter (access's
    EntitlementManager)."""

    def record(self, *, user, lesson, finished: bool) -> None:
        """One statement: the reader opened the lesson (now), and read it to the end if
        `finished`. The first opening and the first finish are kept: "done on 3 May" stays
        true when they read it to the end again (config/plainsql.py's upsert, which keeps a
        value it finds, as bulk_create cannot)."""
        now = timezone.now()
        plainsql.upsert(
            Progress,
            {"user": user.pk, "lesson": lesson.pk, "opened_at": now, "seen_at": now,
             "finished_at": now if finished else None},
            unique=("user", "lesson"),
            update=("seen_at",),
            keep_first=("finished_at",),
            using=self._db,
        )  # fmt: skip

    def marks_for(self, user, lessons) -> tuple[set[int], set[int]]:
        """(opened, done): which of these lessons (a page of one series' list) the reader
        opened, and read to the end. One plain query for a logged-in reader
        (config/plainsql.py: every logged-in series page asks), none for anyone else: their
        progress in the series between the lowest lesson number and the highest
        (`in_span`). A series page asks it with the reader's grants and follow, in one query
        (access's ReaderAccess.listing)."""
        if not user.is_authenticated or not lessons:
            return set(), set()
        (series_id,) = {lesson.series_id for lesson in lessons}
        rows = _MARKS.rows(using=self.db, user=user.pk, series=series_id, **self.span(lessons))
        return self.marks_from(rows, lessons)

    def span(self, lessons) -> dict[str, int]:
        """The lesson numbers `in_span()` reads for these lessons (none for no lessons)."""
        if not lessons:
            return {"low": 1, "high": 0}
        numbers = [lesson.number for lesson in lessons]
        return {"low": min(numbers), "high": max(numbers)}

    def marks_from(self, rows, lessons) -> tuple[set[int], set[int]]:
        """(opened, done) of these lessons from `in_span()`'s rows (lesson, finished at)."""
        listed = {lesson.pk for lesson in lessons}
        opened, done = set(), set()
        for lesson_id, finished_at in rows:
            if lesson_id in listed:
                opened.add(lesson_id)
                if finished_at is not None:
                    done.add(lesson_id)
        return opened, done

    def finished_at(self, user, lesson):
        """When the reader read this lesson to the end, or None (or not logged in)."""
        if not user.is_authenticated:
            return None
        # Every logged-in lesson page asks: one plain query (config/plainsql.py).
        row = plainsql.select_one(Progress, ["finished_at"], user=user.pk, lesson=lesson.pk)
        return row[0] if row else None


class Progress(models.Model):
    """How far a logged-in reader got in a lesson: when they first and last opened it, and
    when they read it to the end (reached its end, or marked it done). Reported by a small
    request of its own after the lesson page has loaded, never by the page itself."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ProgressManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="one_progress_per_lesson")
        ]
        indexes = [models.Index(fields=["user", "-seen_at"])]

    def __str__(self):
        return f"{self.user_id} · {self.lesson_id}"


# marks_for()'s query, compiled once per connection (config/plainsql.py).
_MARKS = plainsql.Prepared(
    lambda user, series, low, high: Progress.objects.in_span(
        user=user, series=series, low=low, high=high
    ),
    user=lambda: Progress._meta.get_field("user"),
    series=lambda: Lesson._meta.get_field("series"),
    low=lambda: Lesson._meta.get_field("number"),
    high=lambda: Lesson._meta.get_field("number"),
)
