"""The payment gateway, as the settings choose it (payments/gateways/base.py says what the
flow asks of one)."""

import hashlib

from django.conf import settings

from payments.gateways.base import (  # noqa: F401 (the flow's vocabulary)
    BadNotification,
    Checkout,
    Gateway,
    GatewayError,
    GatewayUnavailable,
    Notice,
    State,
    Transaction,
)


def environment() -> str:
    """The gateway environment orders are made in, named in their ids: the simulator, the
    sandbox or production."""
    if settings.PAYMENTS_SIMULATOR:
        return "sim"
    return "prd" if settings.MIDTRANS_IS_PRODUCTION else "sbx"


def configured() -> bool:
    """Whether payments can be taken: a server key (the simulator has one of its own)."""
    return bool(settings.MIDTRANS_SERVER_KEY)


def get_gateway() -> Gateway:
    # Midtrans' client (and `requests` under it) is loaded by the first payment, not by every
    # web worker at start-up: most workers only ever serve pages.
    from payments.gateways.midtrans import MidtransGateway

    return MidtransGateway(
        server_key=settings.MIDTRANS_SERVER_KEY,
        client_key=settings.MIDTRANS_CLIENT_KEY,
        is_production=settings.MIDTRANS_IS_PRODUCTION,
        snap_url=settings.MIDTRANS_SNAP_URL,
        api_url=settings.MIDTRANS_API_URL,
        timeout=settings.PAYMENTS_GATEWAY_TIMEOUT_SECONDS,
        environment=environment(),
    )


def notification_token() -> str:
    """The secret segment of the notification address: unguessable, and changing with the
    server key and SECRET_KEY."""
    text = f"payments.notification:{settings.SECRET_KEY}:{settings.MIDTRANS_SERVER_KEY}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]
