"""What the payment flow asks of a gateway, whichever it is (Midtrans now; Xendit or Mayar
could follow without touching payments/services.py)."""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class State(StrEnum):
    """A transaction's state as the flow reads it, whatever the gateway calls it."""

    PENDING = "pending"  # waiting for the reader, or held for a fraud review
    PAID = "paid"  # the money is there: settled, or a card captured and accepted
    EXPIRED = "expired"
    DENIED = "denied"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    CHARGED_BACK = "charged back"
    PARTLY_REFUNDED = "partly refunded"  # access stays: most of the price was kept
    UNKNOWN = "unknown"  # a state this code does not know: nothing is done


@dataclass(frozen=True)
class Checkout:
    """A payment page made for an order: where to send the reader."""

    reference: str
    redirect_url: str


@dataclass(frozen=True)
class Transaction:
    """What the gateway says of an order, from its status API (never from a notification)."""

    order_id: str
    state: State
    gateway_status: str  # the gateway's own word, for the log
    amount: Decimal
    currency: str
    reference: str = ""
    payment_type: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Notice:
    """A notification as received: which order it is about, and whether its signature holds."""

    order_id: str
    environment: str
    verified: bool
    claimed_status: str = ""


class GatewayError(Exception):
    """The gateway could not be asked, or refused: nothing was done."""


class GatewayUnavailable(GatewayError):
    """No answer in time, no connection, or the gateway's own failure (5xx): try again."""


class BadNotification(ValueError):
    """A body that is not one of the gateway's notifications."""


class Gateway(Protocol):
    name: str
    environment: str

    def create_checkout(
        self, *, order, item_name: str, finish_url: str, notification_url: str
    ) -> Checkout: ...

    def status(self, order_id: str) -> Transaction | None:
        """The transaction, or None when the gateway has none yet (the reader has not
        chosen how to pay)."""

    def read_notification(self, body: bytes) -> Notice:
        """Parse and verify a notification's body (raises BadNotification)."""

    def refund(self, order, *, reason: str) -> Transaction: ...

    def ping(self) -> str:
        """ "up" when the gateway answers with our key accepted, else a word saying why not."""
