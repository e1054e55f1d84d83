"""The seller's figures for a period and, optionally, one series: a handful of aggregate
queries, whatever the size of the log. One word per figure, the same on every card:

- Sold by DM: PINs made one at a time for a buyer (AccessPin.Kind.SALE) in the period;
  promotion and batch PINs and replacements of lost PINs are counted apart.
- Paid on the site: PINs issued for orders paid on the site (AccessPin.Kind.PAID), shown
  when an app sells there (access.dashboard_extras: payments/).
- Redeemed: times a PIN unlocked the lessons for a reader in the period.
- Revenue: sold by DM times the series' price (its number, in its currency), series by series,
  plus what the orders paid on the site brought in (what payments/ registers: the amounts
  paid, less those refunded since).
  Each beside the same figure for the period it is compared with (Period.previous).
- Rejected (unknown, expired, revoked or used-up PINs typed) and blocked (throttled) attempts,
  on the whole site whatever the series: an unknown PIN belongs to no series, and an attack is
  site-wide. Sign-ups, on the whole site.
- Per lesson, "which teaser sells": every reader's paywall views and taps on the DM and
  WhatsApp buttons (OfferCount: counted without knowing who, logged in or not, so readers
  arriving from Instagram count), PINs redeemed by typing them into that paywall, and of the
  logged-in readers who first reached it in the period, how many redeemed a PIN for its series
  afterwards (at any time up to now).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Sum, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from access import charts, dashboard_extras, offer
from access.models import AccessPin, Entitlement, OfferCount, PaywallView, RedemptionAttempt
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

    def previous(self) -> "Period":
        """What this period is compared with: the same days a week before for a period of a
        week or less (this week so far against the same days of last week), else the period
        just before, as long (the last 30 days against the 30 before)."""
        back = timedelta(days=max(self.days, 7))
        return Period(self.first - back, self.last - back)

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> "Period":
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def this_week(cls, today: date | None = None) -> "Period":
        """From Monday to today."""
        today = today or timezone.localdate()
        return cls(today - timedelta(days=today.weekday()), today)


@dataclass(frozen=True)
class Change:
    """A figure of the period, and the same figure in the period before."""

    now: int
    before: int

    @property
    def difference(self) -> int:
        return self.now - self.before

    @property
    def percent(self) -> int | None:
        """The change in percent, rounded; None when there was nothing before."""
        return round(100 * self.difference / self.before) if self.before else None


@dataclass(frozen=True)
class Revenue:
    currency: str
    amount: Change


@dataclass
class Headline:
    sold: Change  # by DM
    paid: Change  # on the site
    redeemed: Change
    revenue: list[Revenue]  # one per currency (the series' prices, the orders' currencies)
    unpriced: list[str]  # series sold by DM in the period that have no price: not in revenue
    promotions: int  # promotion and batch PINs made in the period, counted apart
    replacements: int  # replacements of lost PINs made in the period
    online: bool = False  # whether the site also sells otherwise than by DM


@dataclass
class LessonFunnel:
    lesson_id: int | None  # None: the series page and the home page
    number: int | None
    title: str
    series: str
    views: int = 0  # times its paywall came into view, for any reader
    dm_taps: int = 0  # taps on the Instagram button there
    whatsapp_taps: int = 0  # taps on the WhatsApp button there
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
    headline: Headline
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


def figures(*, period: Period, series: Series | None = None) -> Figures:
    """Every figure of the dashboard, in seven queries (eight for one series)."""
    attempts = _bucketed(RedemptionAttempt.objects.all(), "created_at", period, by="outcome")
    unlocked = RedemptionAttempt.objects.filter(outcome=Outcome.UNLOCKED)
    if series:
        unlocked = unlocked.filter(pin__series=series)
        redemptions = _per_bucket(_bucketed(unlocked, "created_at", period), period, [None])
    else:
        redemptions = _per_bucket(attempts, period, [Outcome.UNLOCKED])
    before = period.previous()
    redeemed_before = unlocked.filter(
        created_at__gte=before.start, created_at__lt=before.end
    ).count()
    signups = _bucketed(get_user_model().objects.all(), "date_joined", period)
    return Figures(
        period=period,
        series=series,
        headline=headline(
            period=period, series=series, redeemed=Change(sum(redemptions), redeemed_before)
        ),
        redemptions=redemptions,
        failed=_per_bucket(attempts, period, RedemptionAttempt.FAILURES),
        throttled=_per_bucket(attempts, period, [Outcome.THROTTLED]),
        signups=_per_bucket(signups, period, [None]),
        lessons=lesson_funnels(period=period, series=series),
    )


@dataclass(frozen=True)
class Card:
    """A headline figure as the page shows it: its word, its value, and how it changed."""

    key: str
    label: str
    value: str
    change: str  # "+2 (+67%)", a minus sign when fewer, "0"
    before: str  # "was 3"
    direction: str  # "up", "down" or "same"


def headline_cards(headline: Headline) -> list[Card]:
    """Sold by DM, paid on the site (when the site sells there), redeemed and revenue (one
    card per currency), each with its change."""
    cards = [_card("sold", _("Sold by DM"), headline.sold, str)]
    if headline.online or headline.paid.now or headline.paid.before:
        cards.append(_card("paid", _("Paid on the site"), headline.paid, str))
    cards.append(_card("redeemed", _("Redeemed"), headline.redeemed, str))
    for revenue in headline.revenue or [Revenue("IDR", Change(0, 0))]:
        cards.append(
            _card(
                "revenue",
                _("Revenue"),
                revenue.amount,
                lambda amount, currency=revenue.currency: offer.format_price(amount, currency),
            )
        )
    return cards


def _card(key: str, label: str, change: Change, shown) -> Card:
    difference = change.difference
    sign = "+" if difference > 0 else "−" if difference < 0 else ""
    text = sign + shown(abs(difference)) if difference else "0"
    if change.percent is not None and difference:
        text += f" ({sign}{abs(change.percent)}%)"
    return Card(
        key=key,
        label=label,
        value=shown(change.now),
        change=text,
        before=_("was %(before)s") % {"before": shown(change.before)},
        direction="up" if difference > 0 else "down" if difference < 0 else "same",
    )


def headline(*, period: Period, series: Series | None, redeemed: Change) -> Headline:
    """Sold by DM, paid on the site, revenue, promotions and replacements, now and in the
    period before, series by series (one query, and each income source's: one for
    payments/); `redeemed` as worked out with the charts."""
    before = period.previous()
    now = Q(created_at__gte=period.start)
    then = Q(created_at__lt=before.end)  # a week's days past those compared are in neither
    kind = AccessPin.Kind
    sale, paid = Q(kind=kind.SALE), Q(kind=kind.PAID)
    pins = AccessPin.objects.filter(created_at__gte=before.start, created_at__lt=period.end)
    if series:
        pins = pins.filter(series=series)
    rows = (
        pins.values(
            "series", "series__title", "series__offer__price_amount", "series__offer__currency"
        )
        .annotate(
            sold=Count("pk", filter=sale & now),
            sold_before=Count("pk", filter=sale & then),
            paid=Count("pk", filter=paid & now),
            paid_before=Count("pk", filter=paid & then),
            promotions=Count("pk", filter=Q(kind=kind.PROMOTION) & now),
            replacements=Count("pk", filter=Q(kind=kind.REPLACEMENT) & now),
        )
        .order_by()
    )
    money: dict[str, list[int]] = {}
    for income in dashboard_extras.income(period, series):
        amounts = money.setdefault(income.currency, [0, 0])
        amounts[0] += income.now
        amounts[1] += income.before
    names = ("sold", "sold_before", "paid", "paid_before", "promotions", "replacements")
    unpriced, totals = [], dict.fromkeys(names, 0)
    for row in rows:
        for name in totals:
            totals[name] += row[name]
        price = row["series__offer__price_amount"]
        if price is None:
            if row["sold"] or row["sold_before"]:
                unpriced.append(row["series__title"])
            continue
        amounts = money.setdefault(row["series__offer__currency"], [0, 0])
        amounts[0] += row["sold"] * price
        amounts[1] += row["sold_before"] * price
    return Headline(
        sold=Change(totals["sold"], totals["sold_before"]),
        paid=Change(totals["paid"], totals["paid_before"]),
        redeemed=redeemed,
        revenue=[Revenue(currency, Change(*amounts)) for currency, amounts in money.items()],
        unpriced=sorted(unpriced),
        promotions=totals["promotions"],
        replacements=totals["replacements"],
        online=dashboard_extras.has_income(),
    )


def lesson_funnels(*, period: Period, series: Series | None = None) -> list[LessonFunnel]:
    """Per lesson: its paywall views and taps on its buttons, who reached its paywall logged
    in and bought afterwards, and the PINs typed into it (three queries)."""
    in_period = {"created_at__gte": period.start, "created_at__lt": period.end}
    lesson_fields = [
        "lesson", "lesson__number", "lesson__title", "lesson__series", "lesson__series__title",
    ]  # fmt: skip
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
    counted = OfferCount.objects.filter(day__gte=period.first, day__lte=period.last)
    if series:
        views, typed = views.filter(lesson__series=series), typed.filter(lesson__series=series)
        counted = counted.filter(series=series)
    funnels: dict[tuple, LessonFunnel] = {}

    def funnel(row) -> LessonFunnel:
        series_id = row.get("lesson__series") or row.get("series")
        series_title = row.get("lesson__series__title") or row.get("series__title")
        return funnels.setdefault(
            (series_id, row["lesson"]),
            LessonFunnel(
                row["lesson"],
                row["lesson__number"],
                row["lesson__title"] or _("Series page and home page"),
                series_title,
            ),
        )

    events = {
        OfferCount.Event.PAYWALL: "views",
        OfferCount.Event.DM: "dm_taps",
        OfferCount.Event.WHATSAPP: "whatsapp_taps",
    }
    for row in (
        counted.values(
            "lesson", "lesson__number", "lesson__title", "series", "series__title", "event"
        )
        .annotate(n=Sum("count"))
        .order_by()
    ):
        entry = funnel(row)
        setattr(entry, events[row["event"]], getattr(entry, events[row["event"]]) + row["n"])

    for row in (
        views.values(*lesson_fields)
        .annotate(readers=Count("pk"), converted=Count("pk", filter=Q(later_redeemed)))
        .order_by()
    ):
        entry = funnel(row)
        entry.readers, entry.converted = row["readers"], row["converted"]
    for row in typed.values(*lesson_fields).annotate(n=Count("pk")).order_by():
        funnel(row).redeemed_here = row["n"]
    # Lessons in order, each series' own pages last.
    return sorted(funnels.values(), key=lambda f: (f.series, f.number is None, f.number or 0))


def charts_for(figures: Figures) -> list[TimeSeries]:
    """The dashboard's three charts: redeemed, rejected and blocked attempts, sign-ups (each
    named with the word its card uses)."""
    return [
        time_series(
            figures,
            "redemptions",
            _("Redeemed"),
            [charts.Layer(_("Redeemed"), figures.redemptions, "chart__bar--a")],
        ),
        time_series(
            figures,
            "attempts",
            _("Rejected and blocked"),
            [
                charts.Layer(_("Rejected"), figures.failed, "chart__bar--b"),
                charts.Layer(_("Blocked"), figures.throttled, "chart__bar--c"),
            ],
        ),
        time_series(
            figures,
            "signups",
            _("Sign-ups"),
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
