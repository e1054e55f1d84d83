"""Serve the gateway simulator (payments/simulator.py) where the settings send the gateway's
requests, with the server key the site uses: `make run` starts it beside the site."""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand

from payments.simulator import Simulator


class Command(BaseCommand):
    help = "Serve the Midtrans simulator for development (PAYMENTS_SIMULATOR)."

    def handle(self, *args, **options):
        if not settings.PAYMENTS_SIMULATOR:
            self.stdout.write("PAYMENTS_SIMULATOR is off: no simulator started.")
            return
        address = urlsplit(settings.MIDTRANS_API_URL)
        simulator = Simulator(settings.MIDTRANS_SERVER_KEY)
        simulator.serve(port=address.port or 80, host=address.hostname or "127.0.0.1")
        self.stdout.write(f"Payment simulator on {simulator.url}/ (its transactions there)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            simulator.stop()
