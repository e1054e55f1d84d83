"""Ask the gateway about every order still pending after some minutes, and apply its answer
through the same code as a notification: for notifications that never came. Run it every few
minutes (docs/samples/lessons-reconcile-orders.timer)."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from payments import gateways, services
from payments.models import Order


class Command(BaseCommand):
    help = "Ask the gateway about orders pending for more than --minutes, and apply its answers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=10,
            help="Only orders made at least this long ago (default 10).",
        )

    def handle(self, *args, minutes, **options):
        if minutes < 0:
            raise CommandError("--minutes must be 0 or more.")
        outcomes, failed = Counter(), []
        orders = Order.objects.overdue(minutes).order_by("created_at")
        for order in orders.iterator():
            try:
                applied = services.refresh(order)
            except gateways.GatewayError as error:
                failed.append(f"{order.order_id}: {error}")
                continue
            order.refresh_from_db(fields=["status", "flag"])
            outcomes[order.get_status_display() + (" (flagged)" if order.flag else "")] += 1
            if applied.detail and options["verbosity"] > 1:
                self.stdout.write(f"{order.order_id}: {applied.detail}")
        asked = sum(outcomes.values()) + len(failed)
        summary = ", ".join(f"{count} {name.lower()}" for name, count in sorted(outcomes.items()))
        self.stdout.write(
            f"{asked} pending orders asked about" + (f": {summary}" if summary else "")
        )
        if failed:
            for line in failed:
                self.stderr.write(line)
            raise CommandError(f"The gateway did not answer for {len(failed)} orders.")
