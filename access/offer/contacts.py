"""How readers reach the seller: an Instagram username (a DM) and a WhatsApp number, as
sellers type or paste them, checked and written one way."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_INSTAGRAM_HANDLE = re.compile(r"^(?!.*\.\.)(?!\.)[A-Za-z0-9._]{1,30}(?<!\.)$")
_WHATSAPP_NUMBER = re.compile(r"^[1-9][0-9]{7,14}$")


# A profile's address as Instagram's app and site share it: instagram.com/name, with or without
# https:// and www. (or m.), a trailing slash or a query ("?igsh=…"); also instagr.am/name and
# ig.me/m/name. Paths that are pages of Instagram, not profiles, are not usernames.
_INSTAGRAM_PROFILE = re.compile(
    r"^(?:https?://)?(?:(?:www|m)\.)?(?:instagram\.com|instagr\.am|ig\.me/m)/([^/?#\s]+)/?"
    r"(?:[?#]\S*)?$",
    re.IGNORECASE,
)
_INSTAGRAM_PAGES = frozenset(
    {"p", "reel", "reels", "stories", "explore", "accounts", "direct", "tv"}
)


def instagram_handle_from(text: str) -> str:
    """The Instagram username in what a seller typed or pasted: "name", "@name" or a profile
    address (https://instagram.com/name/?igsh=…); "" when it holds none (an e-mail address,
    a name with spaces, a note)."""
    value = (text or "").strip()
    if match := _INSTAGRAM_PROFILE.match(value):
        value = match[1]
        if value.lower() in _INSTAGRAM_PAGES:
            return ""
    value = value.removeprefix("@")
    return value if _INSTAGRAM_HANDLE.match(value) else ""


def normalise_instagram_handle(value: str) -> str:
    """ "@Some.Seller " or "https://www.instagram.com/some.seller/" → the username; anything
    else as typed, without spaces around it or a leading @ (for the validator to refuse)."""
    return instagram_handle_from(value) or (value or "").strip().removeprefix("@")


def normalise_whatsapp_number(value: str) -> str:
    """ "+62 812-3456-7890" → "6281234567890"."""
    return re.sub(r"[\s+().-]", "", value or "")


def validate_instagram_handle(value: str) -> None:
    if not _INSTAGRAM_HANDLE.match(normalise_instagram_handle(value)):
        raise ValidationError(
            _("An Instagram username has up to 30 letters, digits, periods and underscores."),
            code="invalid",
        )


def validate_whatsapp_number(value: str) -> None:
    if not _WHATSAPP_NUMBER.match(normalise_whatsapp_number(value)):
        raise ValidationError(
            _(
                "Write the number in international form, with the country code and without "
                "the leading 0, such as 62 812 3456 7890."
            ),
            code="invalid",
        )
