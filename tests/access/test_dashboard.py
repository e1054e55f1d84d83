"""The sales dashboard: its numbers from known fixtures, who may see it, and a query count that
does not grow with the log."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from access import dashboard, services
from access.charts import nice_ceiling
from access.models import AccessPin, Entitlement, OfferCount, PaywallView, RedemptionAttempt
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
URL = "/admin/access/accesspin/dashboard/"
Outcome = RedemptionAttempt.Outcome


def days_ago(days: int, hour: int = 12):
    return timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(
        days=days
    )


def at(records, moment, field="created_at"):
    """Move records (a queryset) to a moment in the past."""
    records.update(**{field: moment})


@pytest.fixture
def shop(db):
    """Two series. In the last 7 days, series A: five PINs (one revoked, two redeemed, one
    expired unused, one unused); series B: one unused PIN; one PIN of A issued long before.
    Lesson 2 of A: three readers reached its paywall; the first redeemed afterwards, the
    third had redeemed before. Wrong PINs three days ago, one throttled attempt."""
    a = make_series(title="Series A", slug="a")
    b = make_series(title="Series B", slug="b")
    make_lesson(a, number=1)
    two = make_lesson(a, number=2, title="The second", access="premium")
    first, second, third = (make_user(email=f"r{n}@example.com") for n in (1, 2, 3))

    issued = services.issue_pins(series=a, count=5, batch="promo")
    old = services.issue_pins(series=a)[0].record
    at(AccessPin.objects.filter(pk=old.pk), days_ago(40))
    services.issue_pins(series=b)
    pins = [item.pin for item in issued]
    records = [item.record for item in issued]
    services.revoke_pins(AccessPin.objects.filter(pk=records[0].pk), reason="test")
    AccessPin.objects.filter(pk=records[3].pk).update(expires_at=days_ago(1))

    # The third reader redeems first, then reaches the paywall (no conversion).
    services.redeem(user=third, typed_pin=pins[2], ip="198.51.100.3")
    at(Entitlement.objects.filter(user=third), days_ago(5), "granted_at")
    # The first reader reaches the paywall, then redeems in it (a conversion).
    PaywallView.objects.create(user=first, lesson=two, created_at=days_ago(4))
    PaywallView.objects.create(user=second, lesson=two, created_at=days_ago(4))
    PaywallView.objects.create(user=third, lesson=two, created_at=days_ago(3))
    services.redeem(user=first, typed_pin=pins[1], ip="198.51.100.1", lesson_id=two.pk)
    at(Entitlement.objects.filter(user=first), days_ago(2), "granted_at")
    at(RedemptionAttempt.objects.filter(user=first), days_ago(2))
    at(RedemptionAttempt.objects.filter(user=third), days_ago(5))

    attacker = make_user(email="attacker@example.com")
    for _ in range(3):
        services.redeem(user=attacker, typed_pin="ZZZZ-ZZZZ-ZZZZ", ip="203.0.113.66")
    RedemptionAttempt.objects.create(user=attacker, outcome=Outcome.THROTTLED, ip="203.0.113.66")
    at(RedemptionAttempt.objects.filter(user=attacker), days_ago(3))
    return {"a": a, "b": b, "two": two}


def test_the_numbers(shop):
    figures = dashboard.figures(period=dashboard.Period.last_days(7))
    headline = figures.headline
    # five promotion PINs and one PIN of B without a buyer: no sale
    assert (headline.sold, headline.promotions) == (dashboard.Change(0, 0), 6)
    assert headline.redeemed == dashboard.Change(2, 0)
    assert figures.totals == {"redemptions": 2, "failed": 3, "throttled": 1, "signups": 4}
    assert figures.redemptions == [0, 1, 0, 0, 1, 0, 0]  # five and two days ago
    assert figures.failed == [0, 0, 0, 3, 0, 0, 0]
    assert figures.throttled == [0, 0, 0, 1, 0, 0, 0]
    (lesson,) = figures.lessons
    assert (lesson.title, lesson.readers, lesson.converted, lesson.redeemed_here) == (
        "The second", 3, 1, 1,
    )  # fmt: skip
    assert lesson.conversion == pytest.approx(1 / 3)


def test_one_series(shop):
    figures = dashboard.figures(period=dashboard.Period.last_days(7), series=shop["b"])
    assert figures.headline.promotions == 1
    assert figures.totals["redemptions"] == 0
    assert figures.totals["failed"] == 3  # wrong PINs belong to no series: counted for the site
    assert figures.lessons == []


def test_a_longer_period_counts_by_week_and_takes_in_older_pins(shop):
    period = dashboard.Period.last_days(90)
    figures = dashboard.figures(period=period)
    assert period.bucket == "week"
    assert figures.headline.promotions == 7
    assert sum(figures.redemptions) == 2
    assert len(figures.redemptions) == len(period.buckets())


def dashboard_client(*, permission=True) -> Client:
    user = make_user(is_staff=True)
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_charts_with_titles_and_the_numbers_beside_them(shop):
    page = dashboard_client().get(URL, {"period": "7"}).text
    assert page.count('<svg class="chart"') == 3
    assert '<title id="chart-redemptions-title">Redeemed</title>' in page
    assert "2 in all" in page
    assert "Which teaser sells" in page
    assert "33%" in page  # one of three readers who reached lesson 2's paywall
    assert "<script" not in page.split('<div id="content-main"')[1].split("</main>")[0]


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("staff without permission", 403), ("seller", 200)]
)
def test_only_staff_with_the_permission_see_it(db, who, status):
    client = {
        "anonymous": Client(),
        "staff without permission": dashboard_client(permission=False),
        "seller": dashboard_client(),
    }[who]
    assert client.get(URL).status_code == status


def test_the_pin_issuers_group_has_the_permission(db):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="PIN issuers")
    assert group.permissions.filter(codename="view_dashboard").exists()


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}, "comes after"),
        ({"period": "custom", "start": "2026-02-01"}, "Choose both dates"),
        ({"period": "custom", "start": "2026-02-01", "end": "9999-12-31"}, "To: Ensure"),
        ({"period": "custom", "start": "0001-01-01", "end": "2026-01-01"}, "From: Ensure"),
        ({"period": "custom", "start": "2026-02-30", "end": "2026-03-01"}, "valid date"),
    ],
)
def test_a_bad_period_says_why_and_shows_this_week(db, query, error):
    response = dashboard_client().get(URL, query)
    assert error in response.text
    assert response.context["period"] == dashboard.Period.this_week()


def test_the_query_count_does_not_grow_with_the_log(shop, django_assert_num_queries):
    """Session, user and permissions, the series list and the one chosen, then the figures
    (eight aggregate queries, and two of orders paid on the site: their income in the
    headline's revenue, and their own section): the same with a few rows as with thousands."""
    client = dashboard_client()
    client.get(URL)  # warm the content types cache

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"period": "30", "series": shop["a"].pk}).status_code == 200
        return len(queries)

    few = count_queries()
    users = [make_user() for _ in range(20)]
    RedemptionAttempt.objects.bulk_create(
        RedemptionAttempt(
            user=users[n % 20],
            outcome=[Outcome.UNKNOWN, Outcome.UNLOCKED, Outcome.THROTTLED][n % 3],
            ip=f"198.51.100.{n % 250}",
            lesson=shop["two"],
            created_at=days_ago(n % 29),
        )
        for n in range(3000)
    )
    PaywallView.objects.bulk_create(PaywallView(user=u, lesson=shop["two"]) for u in users)
    OfferCount.objects.bulk_create(
        OfferCount(
            series=shop["a"], lesson=shop["two"], day=days_ago(n).date(), event="dm", count=9
        )
        for n in range(29)
    )
    with django_assert_num_queries(few):
        client.get(URL, {"period": "30", "series": shop["a"].pk})
    assert few <= 16


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (3, 3), (7, 8), (12, 20), (21, 30), (180, 200), (501, 600), (801, 1000)],
)
def test_chart_scales_end_on_round_numbers(value, ceiling):
    assert nice_ceiling(value) == ceiling
