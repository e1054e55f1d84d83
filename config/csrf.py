"""The CSRF token a page shows: Django's `get_token()`, with its mask drawn from one read of
the system's random source instead of 32.

Every logged-in page with a form (a kept lesson page's "mark as done", the paywall's PIN form)
shows a token masked anew for each response, so that a compressed page does not give the
secret away (BREACH). Django draws the mask a character at a time (`secrets.choice`, one
`os.urandom` call each), which was a tenth of a logged-in lesson page's own time. Here the
mask is the same uniform choice among the same 62 characters, from the same source: bytes
of `os.urandom`, each kept only when below the largest multiple of 62 (so every character is
equally likely), taken modulo 62. Tokens are Django's format; Django's middleware checks them.
A request without the CSRF cookie yet goes through Django's own `get_token()`.
"""

import os

from django.middleware import csrf

_CHARS = csrf.CSRF_ALLOWED_CHARS
_INDEX = {character: index for index, character in enumerate(_CHARS)}
_BELOW = 256 - 256 % len(_CHARS)  # bytes at or above this would favour some characters


def get_token(request) -> str:
    """As django.middleware.csrf.get_token: the request's secret, masked anew, and the cookie
    renewed with the response."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None or len(secret) != csrf.CSRF_SECRET_LENGTH:
        return csrf.get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return mask(secret)


def mask(secret: str) -> str:
    """`secret` masked as Django masks it: a random mask, then each character shifted by the
    mask's."""
    shifts = _random_indices(len(secret))
    size = len(_CHARS)
    return "".join(_CHARS[shift] for shift in shifts) + "".join(
        _CHARS[(_INDEX[character] + shift) % size]
        for character, shift in zip(secret, shifts, strict=True)
    )


def _random_indices(count: int) -> list[int]:
    found: list[int] = []
    while len(found) < count:
        found.extend(byte % len(_CHARS) for byte in os.urandom(count + 8) if byte < _BELOW)
    return found[:count]
