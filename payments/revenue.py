"""What orders paid on the site brought in a period: the sales dashboard's figures beside the
PINs handed over by DM (registered with access.dashboard_extras by PaymentsConfig.ready())."""

from django.db.models import Count, Max, Q, Sum

from access.dashboard_extras import Income
from payments.models import Order


def income(period, series=None) -> list[Income]:
    """The headline's share of orders paid on the site: per currency, the amounts of the
    orders paid in the period and in the period it is compared with, less those refunded or
    charged back since; one aggregate query."""
    before = period.previous()
    orders = Order.objects.filter(status=Order.Status.PAID).filter(
        Q(paid_at__gte=period.start, paid_at__lt=period.end)
        | Q(paid_at__gte=before.start, paid_at__lt=before.end)
    )
    if series is not None:
        orders = orders.filter(series=series)
    now = Q(paid_at__gte=period.start)
    rows = (
        orders.values("currency")
        .annotate(
            now=Sum("amount", filter=now, default=0), before=Sum("amount", filter=~now, default=0)
        )
        .order_by("currency")
    )
    return [Income(row["currency"], row["now"], row["before"]) for row in rows]


def paid(*, period, series=None) -> dict:
    """Orders paid in the period (by when they were paid), what they brought in (less those
    refunded or charged back since), and how many were refunded; one aggregate query."""
    orders = Order.objects.filter(paid_at__gte=period.start, paid_at__lt=period.end)
    if series is not None:
        orders = orders.filter(series=series)
    kept = Q(status=Order.Status.PAID)
    figures = orders.aggregate(
        paid=Count("pk"),
        refunded=Count("pk", filter=~kept),
        revenue=Sum("amount", filter=kept, default=0),
        currency=Max("currency"),  # a site sells in one currency (IDR, Midtrans' own)
    )
    figures["currency"] = figures["currency"] or "IDR"
    return figures
