"""The message a seller pastes into a buyer's DM with their new PIN."""

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from access import offer
from access.offer.contacts import instagram_handle_from

# The steps in the order the link takes them: the redeem page opens with the PIN already in
# its field (the link's #pin= fragment), the reader taps Unlock, and signs up or logs in after.
DEFAULT_MESSAGE = gettext_noop(
    "Hi! Thank you for buying “{series}”.\n"
    "\n"
    "Your access PIN: {pin}\n"
    "\n"
    "To unlock the lessons:\n"
    "1. Open {link}\n"
    "2. Your PIN is already filled in there (if not, paste it in). Tap Unlock.\n"
    "3. Sign up or log in with your email address, and the lessons open at once.\n"
    "\n"
    "The PIN works once, so please keep it to yourself."
)


def message(*, series, pin: str, link: str) -> str:
    """The series' own PIN message, or the standard one in the language of its selling
    texts, with the PIN, the redeem page's address and the selling placeholders ({series},
    {price}, {first_premium}…: access.offer) filled in. Only placeholders are replaced;
    nothing else in the author's text is interpreted."""
    selling = offer.of(series)
    text = selling.pin_message.strip()
    if not text:
        with translation.override(selling.selling_language):
            text = gettext(DEFAULT_MESSAGE)
    return offer.fill_text(text, series, pin=pin, link=link)


def instagram_dm_url(buyer: str) -> str:
    """A link that opens a DM with the buyer, when the buyer field names an Instagram
    account: "name", "@name" or a profile address (see instagram_handle_from)."""
    handle = instagram_handle_from(buyer)
    return f"https://ig.me/m/{handle}" if handle else ""


def redeem_link(address: str, pin: str) -> str:
    """The redeem page's `address` with the PIN in its fragment (`#pin=…`), which the page's
    script puts in the PIN field. Never in the query: a fragment is not sent to the server,
    so no log or Referer holds it."""
    return f"{address}#pin={pin}"
