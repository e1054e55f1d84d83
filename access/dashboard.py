"""The seller's figures for a period and, optionally, one series: a handful of aggregate
queries, whatever the size of the log.

- PINs issued in the period, each counted once by what became of it (see
  `models.pin_status_counts`): revoked, redeemed, expired unused, or unused.
- Redemptions (PINs that unlocked access) per day, week or month.
- Failed attempts (unknown, expired, revoked or used-up PINs) and throttled ones, on the whole
  site whatever the series: an unknown PIN belongs to no series, and an attack is site-wide.
- New sign-ups, on the whole site.
- Per premium lesson: logged-in readers who first reached its paywall in the period, how many
  of them redeemed a PIN for its series afterwards (at any time up to now), and how many PINs
  were redeemed by typing them into that paywall (logged in or not: a reader who signs up on
  the way is counted too). Anonymous readers' paywall views are not counted: their pages are
  the same for everyone (and may come from a shared cache), so nothing ties a view to a buyer.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from access import charts
from access.models import AccessPin, Entitlement, PaywallView, RedemptionAttempt
from lessons.models import Series

Outcome = RedemptionAttempt.Outcome


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last`, local days, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def bucket(self) -> str:
        """Days for up to two months, weeks up to half a year, then months."""
        if self.days <= 62:
            return "day"
        return "week" if self.days <= 183 else "month"

    def buckets(self) -> list[date]:
        if self.bucket == "day":
            return [self.first + timedelta(days=n) for n in range(self.days)]
        if self.bucket == "week":
            monday = self.first - timedelta(days=self.first.weekday())
            return [monday + timedelta(weeks=n) for n in range((self.last - monday).days // 7 + 1)]
        months, day = [], self.first.replace(day=1)
        while day <= self.last:
            months.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return months

    def label(self, bucket: date) -> str:
        return date_format(bucket, "M Y" if self.bucket == "month" else "j M")

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> "Period":
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)


@dataclass
class LessonFunnel:
    lesson_id: int
    number: int
    title: str
    series: str
    readers: int = 0  # logged-in readers who first reached the paywall in the period
    converted: int = 0  # ...of whom redeemed a PIN for the series afterwards
    redeemed_here: int = 0  # PINs redeemed by typing them into this paywall, in the period

    @property
    def conversion(self) -> float | None:
        return self.converted / self.readers if self.readers else None


@dataclass
class TimeSeries:
    key: str
    title: str
    layers: list[charts.Layer]
    rows: list[tuple[str, ...]]  # (label, value...) for the table beside the chart, latest first
    chart: str


@dataclass
class Figures:
    period: Period
    series: Series | None
    pins: dict[str, int]
    redemptions: list[int]
    failed: list[int]
    throttled: list[int]
    signups: list[int]
    lessons: list[LessonFunnel] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "redemptions": sum(self.redemptions),
            "failed": sum(self.failed),
            "throttled": sum(self.throttled),
            "signups": sum(self.signups),
        }

    @property
    def redemption_rate(self) -> float | None:
        issued = self.pins["issued"]
        return self.pins["redeemed"] / issued if issued else None


def _bucketed(queryset, field_name: str, period: Period, *, by: str | None = None):
    """{(bucket date, by value): count} over the period, in one GROUP BY query.

    A row's bucket is found by comparing its time with the buckets' edges (local midnights,
    computed here, so daylight saving is right): plain comparisons the database does itself,
    where truncating dates in the time zone would call a Python function per row on SQLite.
    """
    days = period.buckets()
    edges = [max(_midnight(day), period.start) for day in days[1:]] + [period.end]
    bucket = Case(
        *(When(**{f"{field_name}__lt": edge}, then=Value(i)) for i, edge in enumerate(edges)),
        output_field=IntegerField(),
    )
    names = ["bucket", by] if by else ["bucket"]
    rows = (
        queryset.filter(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.end})
        .annotate(bucket=bucket)
        .values(*names)
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple, int] = {}
    for row in rows:
        key = (days[row["bucket"]], row[by] if by else None)
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _per_bucket(counts: dict, period: Period, keys) -> list[int]:
    return [sum(counts.get((day, key), 0) for key in keys) for day in period.buckets()]


def figures(*, period: Period, series: Series | None = None, now=None) -> Figures:
    """Every figure of the dashboard, in six queries."""
    now = now or timezone.now()
    pins = AccessPin.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    if series:
        pins = pins.filter(series=series)
    attempts = _bucketed(RedemptionAttempt.objects.all(), "created_at", period, by="outcome")
    if series:
        unlocked = RedemptionAttempt.objects.filter(outcome=Outcome.UNLOCKED, pin__series=series)
        redemptions = _per_bucket(_bucketed(unlocked, "created_at", period), period, [None])
    else:
        redemptions = _per_bucket(attempts, period, [Outcome.UNLOCKED])
    signups = _bucketed(get_user_model().objects.all(), "date_joined", period)
    return Figures(
        period=period,
        series=series,
        pins=pins.status_counts(now),
        redemptions=redemptions,
        failed=_per_bucket(attempts, period, RedemptionAttempt.FAILURES),
        throttled=_per_bucket(attempts, period, [Outcome.THROTTLED]),
        signups=_per_bucket(signups, period, [None]),
        lessons=lesson_funnels(period=period, series=series),
    )


def lesson_funnels(*, period: Period, series: Series | None = None) -> list[LessonFunnel]:
    """Per lesson: who reached its paywall, who bought afterwards, and the PINs typed into
    it (two queries)."""
    in_period = {"created_at__gte": period.start, "created_at__lt": period.end}
    lesson_fields = ["lesson", "lesson__number", "lesson__title", "lesson__series__title"]
    later_redeemed = Exists(
        Entitlement.objects.filter(
            user=OuterRef("user"),
            series=OuterRef("lesson__series"),
            source=Entitlement.Source.PIN,
            granted_at__gte=OuterRef("created_at"),
        )
    )
    views = PaywallView.objects.filter(**in_period)
    typed = RedemptionAttempt.objects.filter(
        outcome=Outcome.UNLOCKED, lesson__isnull=False, **in_period
    )
    if series:
        views, typed = views.filter(lesson__series=series), typed.filter(lesson__series=series)
    funnels: dict[int, LessonFunnel] = {}

    def funnel(row) -> LessonFunnel:
        return funnels.setdefault(
            row["lesson"],
            LessonFunnel(
                row["lesson"],
                row["lesson__number"],
                row["lesson__title"],
                row["lesson__series__title"],
            ),
        )

    for row in (
        views.values(*lesson_fields)
        .annotate(readers=Count("pk"), converted=Count("pk", filter=Q(later_redeemed)))
        .order_by()
    ):
        entry = funnel(row)
        entry.readers, entry.converted = row["readers"], row["converted"]
    for row in typed.values(*lesson_fields).annotate(n=Count("pk")).order_by():
        funnel(row).redeemed_here = row["n"]
    return sorted(funnels.values(), key=lambda f: (f.series, f.number))


def charts_for(figures: Figures) -> list[TimeSeries]:
    """The dashboard's three charts: redemptions, failed and throttled attempts, sign-ups."""
    return [
        time_series(
            figures,
            "redemptions",
            _("Redemptions over time"),
            [charts.Layer(_("Redemptions"), figures.redemptions, "chart__bar--a")],
        ),
        time_series(
            figures,
            "attempts",
            _("Failed and throttled attempts over time"),
            [
                charts.Layer(_("Failed"), figures.failed, "chart__bar--b"),
                charts.Layer(_("Throttled"), figures.throttled, "chart__bar--c"),
            ],
        ),
        time_series(
            figures,
            "signups",
            _("New sign-ups over time"),
            [charts.Layer(_("Sign-ups"), figures.signups, "chart__bar--d")],
        ),
    ]


def time_series(figures: Figures, key: str, title: str, layers: list[charts.Layer]) -> TimeSeries:
    """A chart of `layers` over the period's buckets, and the rows of the table beside it."""
    period = figures.period
    labels = [period.label(day) for day in period.buckets()]
    total = [sum(values) for values in zip(*(layer.values for layer in layers), strict=True)]
    busiest = max(range(len(total)), key=total.__getitem__, default=None)
    description = _("%(total)s in all, from %(first)s to %(last)s.") % {
        "total": sum(total),
        "first": date_format(period.first, "j F Y"),
        "last": date_format(period.last, "j F Y"),
    }
    if busiest is not None and total[busiest]:
        description += " " + _("The most: %(count)s (%(when)s).") % {
            "count": total[busiest],
            "when": labels[busiest],
        }
    rows = [(label, *(str(layer.values[i]) for layer in layers)) for i, label in enumerate(labels)]
    rows.reverse()  # the latest first: what a seller looks for
    chart = charts.bar_chart(
        chart_id=f"chart-{key}",
        title=title,
        description=description,
        labels=labels,
        layers=layers,
    )
    return TimeSeries(key, title, layers, rows, chart)
