"""The desk's own records."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HandoffToken(models.Model):
    """A form that issues a PIN for a buyer (the hand-off, replacing a lost PIN) was sent:
    its token, and the PIN it issued, written in the transaction that issued the PIN. The
    token is unique, so the same form sent again (a reload, a double tap, even at the same
    moment) issues nothing more and finds the PIN the first post issued
    (access/desk/once.py). Rows older than a form's token is accepted are deleted as new
    ones are written."""

    token = models.CharField(_("form token"), max_length=100, unique=True, editable=False)
    pin = models.ForeignKey(
        "access.AccessPin",
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        verbose_name=_("PIN"),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("hand-off form sent")
        verbose_name_plural = _("hand-off forms sent")

    def __str__(self):
        return f"{self.pin} · {self.created_at:%Y-%m-%d %H:%M}"
