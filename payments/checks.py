"""Deployment checks for payments (run by `manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_simulator(app_configs, **kwargs):
    """The gateway simulator takes no money: a site without DEBUG must not send readers to it."""
    if settings.DEBUG or not settings.PAYMENTS_SIMULATOR:
        return []
    return [
        checks.Error(
            "PAYMENTS_SIMULATOR is on while DEBUG is off.",
            hint=(
                "Readers would pay the simulator, which takes no money. Set PAYMENTS_SIMULATOR=0 "
                "and give MIDTRANS_SERVER_KEY, MIDTRANS_CLIENT_KEY and MIDTRANS_IS_PRODUCTION."
            ),
            id="payments.E001",
        )
    ]
