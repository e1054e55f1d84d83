"""Access PINs: how they are drawn, read back from a reader's typing, and stored.

A PIN is 12 characters of Crockford's base32 alphabet (60 random bits from `secrets`), shown
as XXXX-XXXX-XXXX. Readers may type it in any case, with or without spaces and hyphens; O is
read as 0, and I or L as 1. A reader may also paste the whole message the PIN came in:
`extract()` finds the one PIN in it. The database keeps only a keyed hash of the normalised
PIN and its last four characters as a hint, so a copy of the database yields no usable PIN.
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
GROUP = 4
HINT_LENGTH = 4
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " -\t\n\r\u00a0\u2010\u2011\u2012\u2013")


def generate(length: int = LENGTH) -> str:
    """A new random PIN, grouped for reading: XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return display(raw)


def display(normalised: str) -> str:
    return "-".join(normalised[i : i + GROUP] for i in range(0, len(normalised), GROUP))


def is_pin(normalised: str | None) -> bool:
    """Whether a normalised value has a PIN's shape: twelve characters of the alphabet."""
    return normalised is not None and len(normalised) == LENGTH


def normalise(typed: str) -> str | None:
    """The canonical form of what a reader typed, or None when it cannot be a PIN."""
    value = (typed or "").translate(_IGNORED).upper().translate(_READ_AS)
    if not value or len(value) > 64 or any(char not in ALPHABET for char in value):
        return None
    return value


class NotAPin(ValueError):
    """What was typed cannot be a PIN (its shape is wrong), so it is no attempt at one."""


class TwoPins(ValueError):
    """The text holds more than one different PIN, so which one was meant is not known."""


# Any letter or digit (a PIN's groups are found only where one does not run on into a word).
_ALNUM = r"[^\W_]"
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
# Three groups of four joined by dashes, as a PIN is shown: found even when glued to the words
# around it (a phone that drops a pasted message's line breaks joins "…4TRB" to "To unlock").
_DASHED = re.compile(rf"({_ALNUM}{{4}})[{_DASHES}]({_ALNUM}{{4}})[{_DASHES}]({_ALNUM}{{4}})")
# Three groups of four with one space (or nothing) between them, standing apart from any word.
_SPACED = re.compile(
    rf"(?<!{_ALNUM})({_ALNUM}{{4}})[ \u00a0]?({_ALNUM}{{4}})[ \u00a0]?({_ALNUM}{{4}})(?!{_ALNUM})"
)
# Longest text searched: a whole DM, with room to spare.
MAX_TEXT = 2000


def extract(text: str) -> str | None:
    """The one PIN in what a reader typed or pasted, normalised; None when there is none.

    The text may be the PIN alone, typed any way `normalise()` reads, or any text around it:
    the seller's whole message, "PIN akses kamu: abcd efgh jkmn", the redeem link with
    `#pin=…`. The same PIN found twice is one PIN. Raises TwoPins when different PINs are
    found; words that happen to read as a PIN ("SAJA AKAN BISA") give way to a group with a
    digit in it, as nearly every PIN has.
    """
    whole = normalise(text)
    if is_pin(whole):
        return whole
    text = (text or "")[:MAX_TEXT]
    found: dict[str, bool] = {}  # each PIN found, and whether it was written with a digit
    for pattern in (_DASHED, _SPACED):
        for match in pattern.finditer(text):
            raw = "".join(match.groups())
            value = normalise(raw)
            if is_pin(value):
                found[value] = found.get(value, False) or any(c in "0123456789" for c in raw)
    found = [value for value, digit in found.items() if digit] or list(found)
    if len(found) > 1:
        raise TwoPins(found)
    return found[0] if found else None


def digest(normalised: str) -> str:
    """The keyed hash stored and looked up instead of the PIN itself."""
    key = settings.PIN_HASH_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def hint(normalised: str) -> str:
    return normalised[-HINT_LENGTH:]
