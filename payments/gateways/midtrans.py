"""Midtrans, through its official client (midtransclient) and documented API: Snap's create
transaction (the reader is sent to its `redirect_url`, so no script of the gateway runs on our
pages), the HTTP notification (SHA512 signature), the status API and refunds.

The client keeps its base URLs as attributes of its ApiConfig (SNAP_SANDBOX_BASE_URL,
CORE_SANDBOX_BASE_URL and the production pair); each client made here has them set from the
settings (MIDTRANS_SNAP_URL, MIDTRANS_API_URL), so the simulator or any stand-in speaking the
same API is used without a code change. The client sends its requests with `requests` and no
time limit; each client made here sends them through a session that has one.
"""

import hashlib
import hmac
import json
from datetime import UTC
from decimal import Decimal, InvalidOperation

import midtransclient
import requests
from django.utils import timezone

from payments.gateways.base import (
    BadNotification,
    Checkout,
    GatewayError,
    GatewayUnavailable,
    Notice,
    State,
    Transaction,
)

# Snap's payment channels for these readers: QRIS (which DANA, OVO and every bank app
# scan), GoPay, ShopeePay and bank virtual accounts (Midtrans' `enabled_payments` names).
ENABLED_PAYMENTS = [
    "other_qris",
    "gopay",
    "shopeepay",
    "bca_va",
    "bni_va",
    "bri_va",
    "permata_va",
    "cimb_va",
    "echannel",
    "other_va",
]
NOTIFICATION_FIELDS = ("order_id", "status_code", "gross_amount", "signature_key")
ITEM_NAME_MAX = 50  # Midtrans' item_details.name


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """SHA512(order_id + status_code + gross_amount + server key), as Midtrans signs."""
    text = f"{order_id}{status_code}{gross_amount}{server_key}"
    return hashlib.sha512(text.encode()).hexdigest()


def state_of(transaction_status: str, fraud_status: str | None) -> State:
    """Midtrans' transaction_status (and fraud_status, where there is one) as the flow reads
    it: the money is there on settlement, or capture, when the fraud check accepted it."""
    fraud = fraud_status or "accept"
    if transaction_status in ("settlement", "capture"):
        return {"accept": State.PAID, "challenge": State.PENDING}.get(fraud, State.DENIED)
    return {
        "pending": State.PENDING,
        "authorize": State.PENDING,
        "expire": State.EXPIRED,
        "deny": State.DENIED,
        "failure": State.DENIED,
        "cancel": State.CANCELLED,
        "refund": State.REFUNDED,
        "chargeback": State.CHARGED_BACK,
        "partial_refund": State.PARTLY_REFUNDED,
        "partial_chargeback": State.PARTLY_REFUNDED,
    }.get(transaction_status, State.UNKNOWN)


class _TimedSession(requests.Session):
    """`requests` as the client calls it (`.request(method, url, …)`), with a time limit."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class MidtransGateway:
    name = "midtrans"

    def __init__(
        self,
        *,
        server_key: str,
        client_key: str = "",
        is_production: bool = False,
        snap_url: str,
        api_url: str,
        timeout: float,
        environment: str,
    ):
        self.server_key = server_key
        self.environment = environment
        self.snap = midtransclient.Snap(
            is_production=is_production, server_key=server_key, client_key=client_key
        )
        self.core = midtransclient.CoreApi(
            is_production=is_production, server_key=server_key, client_key=client_key
        )
        for client in (self.snap, self.core):
            config = client.api_config
            config.SNAP_SANDBOX_BASE_URL = config.SNAP_PRODUCTION_BASE_URL = snap_url.rstrip("/")
            config.CORE_SANDBOX_BASE_URL = config.CORE_PRODUCTION_BASE_URL = api_url.rstrip("/")
            client.api_config.custom_headers = {}
            client.http_client.http_client = _TimedSession(timeout)

    def create_checkout(self, *, order, item_name, finish_url, notification_url) -> Checkout:
        start = timezone.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
        minutes = max(1, round((order.expires_at - timezone.now()).total_seconds() / 60))
        parameters = {
            "transaction_details": {"order_id": order.order_id, "gross_amount": order.amount},
            "item_details": [
                {
                    "id": f"series-{order.series_id}",
                    "price": order.amount,
                    "quantity": 1,
                    "name": item_name[:ITEM_NAME_MAX],
                }
            ],
            "customer_details": {"email": order.email},
            "enabled_payments": ENABLED_PAYMENTS,
            "callbacks": {"finish": finish_url},
            "expiry": {"start_time": start, "unit": "minutes", "duration": minutes},
        }
        # Notifications about this transaction go to this site's address (which carries a
        # secret), whatever the dashboard says.
        self.snap.api_config.custom_headers = {"X-Override-Notification": notification_url}
        answer = self._call(self.snap.create_transaction, parameters)
        if not isinstance(answer, dict) or not answer.get("redirect_url"):
            raise GatewayError(f"Snap answered without a redirect_url: {answer!r:.200}")
        return Checkout(reference=str(answer.get("token", "")), redirect_url=answer["redirect_url"])

    def status(self, order_id: str) -> Transaction | None:
        try:
            answer = self._call(self.core.transactions.status, order_id)
        except _NotFound:
            return None
        return self._transaction(answer)

    def refund(self, order, *, reason: str) -> Transaction:
        answer = self._call(
            self.core.transactions.refund,
            order.order_id,
            {"refund_key": f"{order.order_id}-refund", "amount": order.amount, "reason": reason},
        )
        return self._transaction(answer)

    def ping(self) -> str:
        try:
            self.status(f"{self.environment}-health-check")
        except GatewayUnavailable:
            return "down"
        except GatewayError:
            return "refused"
        return "up"

    def read_notification(self, body: bytes) -> Notice:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise BadNotification("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadNotification("the body is not a JSON object")
        values = [data.get(name) for name in NOTIFICATION_FIELDS]
        missing = [n for n, v in zip(NOTIFICATION_FIELDS, values, strict=True) if not _text(v)]
        if missing:
            raise BadNotification(f"missing or not text: {', '.join(missing)}")
        order_id, status_code, gross_amount, signed = values
        expected = signature(order_id, status_code, gross_amount, self.server_key)
        return Notice(
            order_id=order_id,
            environment=order_id.partition("-")[0],
            verified=hmac.compare_digest(expected.encode(), signed.encode()),
            claimed_status=str(data.get("transaction_status", ""))[:40],
        )

    def _transaction(self, answer) -> Transaction:
        if not isinstance(answer, dict):
            raise GatewayError(f"unexpected answer: {answer!r:.200}")
        try:
            amount = Decimal(str(answer.get("gross_amount", "")))
        except InvalidOperation:
            raise GatewayError(f"no amount in {answer!r:.200}") from None
        status = str(answer.get("transaction_status", ""))
        return Transaction(
            order_id=str(answer.get("order_id", "")),
            state=state_of(status, answer.get("fraud_status")),
            gateway_status=status,
            amount=amount,
            # Midtrans settles in rupiah; a channel that leaves the currency out means it.
            currency=str(answer.get("currency") or "IDR"),
            reference=str(answer.get("transaction_id", "")),
            payment_type=str(answer.get("payment_type", "")),
            raw=answer,
        )

    @staticmethod
    def _call(method, *args):
        try:
            return method(*args)
        except requests.RequestException as error:
            raise GatewayUnavailable(f"{type(error).__name__}: {error}") from None
        except midtransclient.JSONDecodeError as error:
            raise GatewayUnavailable(f"not JSON: {error}"[:300]) from None
        except midtransclient.MidtransAPIError as error:
            answer = error.api_response_dict or {}
            code = str(answer.get("status_code", "")) if isinstance(answer, dict) else ""
            if error.http_status_code == 404 or code == "404":
                raise _NotFound from None
            if error.http_status_code >= 500 or code.startswith("5"):
                raise GatewayUnavailable(error.message[:300]) from None
            raise GatewayError(error.message[:300]) from None


class _NotFound(Exception):
    pass


def _text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200
