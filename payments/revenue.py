"""What orders paid on the site brought in a period: the sales dashboard's figures beside the
PINs handed over by DM."""

from django.db.models import Count, Max, Q, Sum

from payments.models import Order


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
