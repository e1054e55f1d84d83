"""The placeholders of the selling texts, what they may say, and prices written as text.

The call to action, the paywall message and the price line may say {price}, {first_premium},
{last_premium}, {premium_count} and {series}, filled in from the lessons readers can see when
a page shows them (access.offer); the PIN message may also say {pin} and {link}.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PIN_PLACEHOLDER = "{pin}"
LINK_PLACEHOLDER = "{link}"
SERIES_PLACEHOLDER = "{series}"
PRICE_PLACEHOLDER = "{price}"
SELLING_PLACEHOLDERS = ("price", "first_premium", "last_premium", "premium_count", "series")
PIN_MESSAGE_PLACEHOLDERS = (*SELLING_PLACEHOLDERS, "pin", "link")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The currencies a price can be in, and how an amount is written in each (access.offer).
CURRENCIES = [("IDR", _("Indonesian rupiah (Rp)"))]

# A price as sellers wrote it before it had its own number: "Rp 149.000 for lessons 2-7",
# "IDR 149,000", "Rp149.000,-". The amount is whole rupiah, grouped by threes or not at all.
_PRICE_TEXT = re.compile(
    r"^\s*(?:Rp\.?|IDR)\s*(?P<amount>\d{1,3}(?:[.,]\d{3})+|\d+)(?:,-|,00|\.00)?"
    # not a decimal ("Rp 1.5 juta") nor an abbreviation ("Rp 150rb", "IDR 150k")
    r"(?![.,]?\d|\s*(?:rb|ribu|k|jt|juta)\b)",
    re.IGNORECASE,
)


def split_price_text(text: str) -> tuple[int | None, str]:
    """(amount, line) from a price written as text: "Rp 149.000 · for lessons 2-7" gives
    (149000, "{price} · for lessons 2-7"), so the line follows the amount from then on ("" when
    the text was the price alone); a text that does not start with a rupiah amount gives
    (None, the text)."""
    match = _PRICE_TEXT.match(text or "")
    if not match:
        return None, text or ""
    amount = int(re.sub(r"[.,]", "", match["amount"]))
    rest = text[match.end() :]
    return amount, PRICE_PLACEHOLDER + rest if rest.strip() else ""


def _refuse_unknown_placeholders(value: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted({name for name in PLACEHOLDER.findall(value) if name not in allowed})
    if unknown:
        raise ValidationError(
            _(
                "%(unknown)s cannot be filled in. The placeholders are %(allowed)s: the price, "
                "the first and last premium lesson, how many there are, and the title."
            ),
            code="unknown_placeholder",
            params={
                "unknown": ", ".join(f"{{{name}}}" for name in unknown),
                "allowed": ", ".join(f"{{{name}}}" for name in allowed),
            },
        )


def validate_selling_text(value: str) -> None:
    """Only the placeholders the site fills in (SELLING_PLACEHOLDERS)."""
    _refuse_unknown_placeholders(value, SELLING_PLACEHOLDERS)


def validate_pin_message(value: str) -> None:
    if value.strip() and PIN_PLACEHOLDER not in value:
        raise ValidationError(
            _("Put %(pin)s where the PIN goes."), code="no_pin", params={"pin": PIN_PLACEHOLDER}
        )
    _refuse_unknown_placeholders(value, PIN_MESSAGE_PLACEHOLDERS)
