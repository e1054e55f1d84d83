"""A form that issues a PIN for a buyer issues it once.

The hand-off form and the replace-a-lost-PIN form carry a token of their own, signed with
the time the form was made. Posting one issues a PIN and writes the token's row
(HandoffToken, its token unique) in the same transaction. The same form sent again (a
reload, a double tap) finds the row and issues nothing; two posts at the same moment both
reach the row's insert, the second waits for the first's transaction and then finds its
row, and its own PIN is rolled back with it. The guard is the database's: the shared cache
may be away, and nothing here needs it.

A token is accepted for `FORM_DAYS` days. Rows older than that are deleted after each new
one is written, which is safe because a form older than that is not accepted either: it is
shown again with a new token, and issues only when sent again. A post without a token, or
with one this site did not sign, issues as a new form would.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from access.desk.models import HandoffToken
from access.models import AccessPin
from access.services import IssuedPin

FORM_DAYS = 7
SALT = "access.desk.once"
FIELD = "once"


@dataclass(frozen=True)
class Posted:
    """The token a form came back with, when this site signed it (else None); `stale` when
    it did so more than FORM_DAYS ago: such a form issues nothing."""

    token: str | None = None
    stale: bool = False

    def for_form(self) -> str:
        """The token to put in the form shown again: the same one, unless there is none
        or it is too old."""
        return new_token() if self.token is None or self.stale else self.token


def new_token() -> str:
    return signing.TimestampSigner(salt=SALT).sign(secrets.token_urlsafe(16))


def posted(request) -> Posted:
    if request.method != "POST":
        return Posted()
    value = request.POST.get(FIELD, "")
    if not 0 < len(value) <= HandoffToken._meta.get_field("token").max_length:
        return Posted()
    signer = signing.TimestampSigner(salt=SALT)
    try:
        signer.unsign(value, max_age=timedelta(days=FORM_DAYS))
    except signing.SignatureExpired:
        return Posted(token=value, stale=True)
    except signing.BadSignature:
        return Posted()
    return Posted(token=value)


def sent_before(token: str | None) -> AccessPin | None:
    """The PIN this form issued already, if it did."""
    if token is None:
        return None
    row = HandoffToken.objects.select_related("pin__series").filter(token=token).first()
    return row.pin if row else None


def issue_once(token: str | None, issue: Callable[[], IssuedPin]):
    """(issued, None) after running `issue()`, which issues one PIN (and whatever goes with
    it, in the same transaction); or (None, the PIN issued before) when this form's token
    issued one already, and then nothing `issue()` wrote is kept."""
    if token is None:
        return issue(), None
    try:
        with transaction.atomic():
            issued = issue()
            HandoffToken.objects.create(token=token, pin=issued.record)
    except IntegrityError:
        earlier = sent_before(token)
        if earlier is None:
            raise
        return None, earlier
    prune()
    return issued, None


def prune(now=None) -> int:
    """Delete the rows of forms older than any token still accepted."""
    cutoff = (now or timezone.now()) - timedelta(days=FORM_DAYS)
    deleted, _by_model = HandoffToken.objects.filter(created_at__lt=cutoff).delete()
    return deleted
