"""The gateway's state, for /healthz's detail (staff only): whether it answers with our key,
and what is waiting on it."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from payments import gateways
from payments.models import Notification, Order


def state() -> dict:
    now = timezone.now()
    counts = Order.objects.aggregate(
        pending=Count("pk", filter=Q(status=Order.Status.PENDING)),
        flagged=Count("pk", filter=~Q(flag="")),
        oldest=Min("created_at", filter=Q(status=Order.Status.PENDING)),
    )
    last = Notification.objects.order_by("-received_at", "-pk").first()
    configured = gateways.configured()
    return {
        "gateway": "midtrans",
        "environment": gateways.environment(),
        "simulator": settings.PAYMENTS_SIMULATOR,
        "answers": gateways.get_gateway().ping() if configured else "not configured",
        "pending_orders": counts["pending"],
        "oldest_pending_minutes": (
            (now - counts["oldest"]) // timedelta(minutes=1) if counts["oldest"] else None
        ),
        "flagged_orders": counts["flagged"],
        "last_notification": (
            {"at": last.received_at.isoformat(), "outcome": last.outcome} if last else None
        ),
    }
