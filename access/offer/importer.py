"""series.yaml's selling keys, read into the series' offer: a section of lessons' importer
(lessons.importer.sections), registered by AccessConfig.ready(). The keys are the ones authors
have always written: call_to_action, paywall_message, price, price_line, currency, payments,
instagram, whatsapp, sales_language and pin_message."""

from access.offer.contacts import normalise_instagram_handle, normalise_whatsapp_number
from access.offer.models import Offer
from access.offer.placeholders import split_price_text
from access.offer.services import save_offer
from lessons.importer.problems import Source, shown
from lessons.importer.values import apply, flag_value, text_value, validate

# series.yaml's text keys and the Offer fields they fill.
TEXT_FIELDS = {
    "call_to_action": "cta_message",
    "paywall_message": "paywall_message",
    "price_line": "price_line",
    "instagram": "instagram_handle",
    "whatsapp": "whatsapp_number",
    "sales_language": "sales_language",
    "pin_message": "pin_message",
}
KEY_OF_FIELD = {
    **{fld: key for key, fld in TEXT_FIELDS.items()},
    "price_amount": "price",
    "currency": "currency",
    "takes_payments": "payments",
}


class OfferSection:
    keys = frozenset({*TEXT_FIELDS, "price", "currency", "payments"})

    def read(self, data: dict, source: Source) -> dict:
        """The Offer fields series.yaml gives, those found wrong left out (in `source.bad`)."""
        values = {}
        for key, fld in TEXT_FIELDS.items():
            text = text_value(data, key, source).strip()
            if key not in source.bad:
                values[fld] = text
        for fld, normalise in (
            ("instagram_handle", normalise_instagram_handle),
            ("whatsapp_number", normalise_whatsapp_number),
        ):
            if fld in values:
                values[fld] = normalise(values[fld])
        _price_values(data, values, source)
        payments = flag_value(data, "payments", source)
        if payments is not None:  # left out: as the admin last set it
            values["takes_payments"] = payments
        return values

    def prepare(self, series, values: dict, source: Source):
        """The series' offer with these values, checked as saving would check it; a function
        that saves it, or None when nothing changes."""
        offer = (Offer.objects.filter(series=series).first() if series.pk else None) or Offer()
        if not apply(offer, values):
            return None
        exclude = {fld for fld, key in KEY_OF_FIELD.items() if key in source.bad} | {"series"}
        validate(offer, source, key_of=KEY_OF_FIELD, exclude=exclude, clean=True)

        def save():
            offer.series = series
            save_offer(offer)

        return save


def _price_values(data: dict, values: dict, source: Source) -> None:
    """`price`: a whole number (149000), or a price written as text as it used to be
    ("Rp 149.000 · for lessons 2-7", read as split_price_text reads it: the amount, and the
    rest as the price line unless `price_line` is given); `currency`."""
    price = data.get("price")
    values["price_amount"] = None
    if isinstance(price, int) and not isinstance(price, bool) and price >= 0:
        values["price_amount"] = price
    elif isinstance(price, str):
        amount, line = split_price_text(price.strip())
        values["price_amount"] = amount
        if "price_line" not in source.bad:
            values["price_line"] = values.get("price_line") or line
    elif price is not None:
        source.problem(
            f"'price' must be a whole number such as 149000 (got {shown(price)})", key="price"
        )
    currency = text_value(data, "currency", source).strip().upper()
    if "currency" not in source.bad:
        values["currency"] = currency or "IDR"
