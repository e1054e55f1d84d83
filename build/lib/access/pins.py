"""Access PINs: how they are drawn, read back from a reader's typing, and stored.

A PIN is 12 characters of Crockford's base32 alphabet (60 random bits from `secrets`), shown
as XXXX-XXXX-XXXX. Readers may type it in any case, with or without spaces and hyphens; O is
read as 0, and I or L as 1. The database keeps only a keyed hash of the normalised PIN and
its last four characters as a hint, so a copy of the database yields no usable PIN.
"""

import hashlib
import hmac
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


def normalise(typed: str) -> str | None:
    """The canonical form of what a reader typed, or None when it cannot be a PIN."""
    value = (typed or "").translate(_IGNORED).upper().translate(_READ_AS)
    if not value or len(value) > 64 or any(char not in ALPHABET for char in value):
        return None
    return value


def digest(normalised: str) -> str:
    """The keyed hash stored and looked up instead of the PIN itself."""
    key = settings.PIN_HASH_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def hint(normalised: str) -> str:
    return normalised[-HINT_LENGTH:]
