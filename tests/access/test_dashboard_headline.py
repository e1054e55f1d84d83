"""The dashboard's headline, as a seller asks it: how many PINs did I sell this week, by DM and
on the site, how many were redeemed, how much did I make, and is that more or less than last
week. Sales by DM are PINs made one at a time for a buyer; PINs paid on the site are issued
by payments/ for an order, whose amounts its income source adds to the revenue; promotions,
batches and replacements are counted apart."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from access import dashboard, dashboard_extras, services
from access.models import AccessPin, RedemptionAttempt
from tests.factories import make_lesson, make_series, make_user

pytestmark = pytest.mark.django_db
URL = "/admin/access/accesspin/dashboard/"
Change = dashboard.Change


def on(day: date, records, field="created_at"):
    moment = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    records.update(**{field: moment + timedelta(hours=10)})


@pytest.fixture
def week():
    """Wednesday of a week: this week is Monday to Wednesday, compared with the same days of
    the week before."""
    today = timezone.localdate()
    wednesday = today - timedelta(days=(today.weekday() - 2) % 7)
    return dashboard.Period.this_week(today=wednesday)


@pytest.fixture
def shop(week):
    """Series A at Rp149.000 and B without a price. This week: A sells three PINs (one of
    them replaced after it was lost), B one; a promotion of twenty; two redemptions. The
    same days of last week: A sold one PIN, redeemed once."""
    a = make_series(title="A", slug="a", price_amount=149000)
    b = make_series(title="B", slug="b")
    make_lesson(a, number=2, access="premium")
    sold = [services.issue_pins(series=a, buyer=f"@buyer{n}")[0] for n in range(3)]
    services.replace_pin(pin=sold[0].record)
    services.issue_pins(series=b, buyer="@someone")
    services.issue_pins(series=a, count=20, max_uses=1, batch="promo")
    services.issue_pins(series=a, max_uses=5, buyer="@class")  # a group: a promotion
    for item in sold[1:]:
        assert services.redeem(user=make_user(), typed_pin=item.pin).ok
    on(week.first, AccessPin.objects.all())
    on(week.first, RedemptionAttempt.objects.all())
    earlier = services.issue_pins(series=a, buyer="@early")[0]
    assert services.redeem(user=make_user(), typed_pin=earlier.pin).ok
    on(week.first - timedelta(days=7), AccessPin.objects.filter(pk=earlier.record.pk))
    on(week.first - timedelta(days=6), RedemptionAttempt.objects.filter(pin=earlier.record))
    return {"a": a, "b": b}


@pytest.fixture
def orders(monkeypatch):
    """Sales on the site, as an app that takes payments registers them: Rp298.000 paid this
    week, Rp149.000 the same days of last week (what payments/ registers is replaced)."""
    income = [dashboard_extras.Income("IDR", 298000, 149000)]
    monkeypatch.setattr(dashboard_extras, "_income", [lambda period, series: income])


@pytest.fixture
def paid_online(shop, week):
    """PINs issued for orders paid on the site: two this week, one the same days of last week,
    and one last Friday, past the days compared."""
    issued = [
        services.issue_pins(series=shop["a"], buyer=f"reader{n}@example.com", kind="paid")[0]
        for n in range(4)
    ]
    on(week.first, AccessPin.objects.filter(pk__in=[item.record.pk for item in issued[:2]]))
    on(week.first - timedelta(days=7), AccessPin.objects.filter(pk=issued[2].record.pk))
    on(week.first - timedelta(days=3), AccessPin.objects.filter(pk=issued[3].record.pk))
    return issued


def test_this_week_runs_from_monday_to_today():
    wednesday = date(2026, 12, 2)
    period = dashboard.Period.this_week(today=wednesday)
    assert (period.first, period.last) == (date(2026, 11, 30), wednesday)
    before = period.previous()
    assert (before.first, before.last) == (date(2026, 11, 23), date(2026, 11, 25))


def test_sold_redeemed_and_revenue_against_the_period_before(shop, week):
    headline = dashboard.figures(period=week).headline
    assert headline.sold == Change(4, 1)
    assert headline.paid == Change(0, 0)
    assert headline.redeemed == Change(2, 1)
    assert headline.revenue == [dashboard.Revenue("IDR", Change(3 * 149000, 149000))]
    assert headline.unpriced == ["B"]
    assert (headline.promotions, headline.replacements) == (21, 1)


def test_sales_on_the_site_are_counted_apart_and_their_orders_are_in_the_revenue(
    shop, week, orders, paid_online
):
    headline = dashboard.figures(period=week).headline
    assert headline.sold == Change(4, 1)  # by DM, as before
    assert headline.paid == Change(2, 1)
    assert headline.revenue == [
        dashboard.Revenue("IDR", Change(3 * 149000 + 298000, 149000 + 149000))
    ]


def test_a_week_is_compared_with_the_same_days_only(shop, week):
    """Last Friday is neither this week so far (Monday to Wednesday) nor the days it is
    compared with (Monday to Wednesday of last week)."""
    friday = services.issue_pins(series=shop["a"], buyer="@friday")[0]
    on(week.first - timedelta(days=3), AccessPin.objects.filter(pk=friday.record.pk))
    headline = dashboard.figures(period=week).headline
    assert headline.sold == Change(4, 1)
    assert headline.revenue == [dashboard.Revenue("IDR", Change(3 * 149000, 149000))]


def test_without_sales_on_the_site_the_headline_says_nothing_of_them(shop, week, monkeypatch):
    monkeypatch.setattr(dashboard_extras, "_income", [])
    cards = dashboard.headline_cards(dashboard.figures(period=week).headline)
    assert [card.key for card in cards] == ["sold", "redeemed", "revenue"]


def test_one_series(shop, week):
    headline = dashboard.figures(period=week, series=shop["b"]).headline
    assert (headline.sold, headline.revenue, headline.promotions) == (Change(1, 0), [], 0)


def test_the_cards_say_each_change(shop, week, orders, paid_online):
    with timezone.override("UTC"):
        cards = dashboard.headline_cards(dashboard.figures(period=week).headline)
    sold, paid, redeemed, revenue = cards
    assert (sold.label, sold.value, sold.change, sold.before, sold.direction) == (
        "Sold by DM", "4", "+3 (+300%)", "was 1", "up",
    )  # fmt: skip
    assert (paid.label, paid.value, paid.change, paid.before) == (
        "Paid on the site", "2", "+1 (+100%)", "was 1",
    )  # fmt: skip
    assert (redeemed.value, redeemed.change) == ("2", "+1 (+100%)")
    assert (revenue.value, revenue.change, revenue.before) == (
        "Rp 745,000", "+Rp 447,000 (+150%)", "was Rp 298,000",
    )  # fmt: skip


def test_fewer_and_nothing_before():
    down = dashboard._card("x", "X", Change(1, 4), str)
    assert (down.change, down.direction) == ("−3 (−75%)", "down")
    new = dashboard._card("x", "X", Change(2, 0), str)
    assert (new.change, new.before) == ("+2", "was 0")
    same = dashboard._card("x", "X", Change(0, 0), str)
    assert (same.change, same.direction) == ("0", "same")


def seller() -> Client:
    user = make_user(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client = Client(headers={"accept-language": "id"})
    client.force_login(user)
    return client


def test_the_page_opens_on_this_week_with_the_headline_first(shop):
    response = seller().get(URL)
    assert response.context["period"] == dashboard.Period.this_week()
    page = response.text
    main = page[page.index('id="content-main"') :]
    assert main.index("Terjual lewat DM") < main.index("Dibayar di situs")
    assert main.index("Dibayar di situs") < main.index("Sudah dipakai") < main.index("Pendapatan")
    assert main.index("Pendapatan") < main.index("<svg")  # before the charts
    assert "Rp" in main and "sebelumnya" in main
    assert "Dihitung terpisah" in main


def test_one_word_per_figure_on_every_card(shop):
    """The words of the headline, the charts and the table are the catalogue's same entries:
    "Redeemed" is "Sudah dipakai" everywhere, and no other word names it."""
    page = seller().get(URL, {"period": "30"}).text
    main = page[page.index('id="content-main"') :]
    for other in ("Redemptions", "Penukaran", "Ditukarkan", "Issued", "Diterbitkan", "Failed"):
        assert other not in main
    assert main.count("Sudah dipakai") >= 3  # the card, the chart and its table
