"""Readers' forms: a PIN to redeem, new-lesson e-mails, following a series. The seller's are
the desk's (access/desk/forms.py)."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from access import pins
from lessons.models import Lesson


class RedeemForm(forms.Form):
    """The PIN a reader types, or the message it came in: the one PIN in it is taken out
    (access.pins.extract). Its widget's attributes live here, and only here."""

    pin = forms.CharField(
        label=_("Access PIN"),
        max_length=pins.MAX_TEXT,
        strip=True,
        error_messages={"required": _("Type the PIN you received.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "autocorrect": "off",
                "spellcheck": "false",
                "enterkeyhint": "go",
                "placeholder": "XXXX-XXXX-XXXX",
            }
        ),
    )

    # The lesson whose paywall the form sits in, for the sales figures ("which teaser sells").
    lesson = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def clean_lesson(self) -> int | None:
        """A lesson that exists, or None: a bad value never stops a redemption."""
        value = self.cleaned_data.get("lesson", "")
        if not (value.isascii() and value.isdecimal()):
            return None
        return int(value) if Lesson.objects.filter(pk=int(value)).exists() else None

    def clean_pin(self) -> str:
        """The PIN, as XXXX-XXXX-XXXX. When it came out of a longer text, the field shows
        just the PIN from then on, so a reader sees what was read."""
        typed = self.cleaned_data["pin"]
        try:
            normalised = pins.extract(typed)
        except pins.TwoPins:
            raise ValidationError(
                _(
                    "What you pasted holds two different PINs. Paste or type just the one you "
                    "want to use."
                ),
                code="two",
            ) from None
        if normalised is None:
            raise ValidationError(
                _("A PIN has 12 letters and digits, such as 7KQ2-M9XD-4TRB. Check what you typed."),
                code="format",
            )
        pin = pins.display(normalised)
        if pins.normalise(typed) != normalised:
            self.data = self.data.copy()
            self.data[self.add_prefix("pin")] = pin
        return pin


class LessonEmailsForm(forms.ModelForm):
    """A reader's new-lesson e-mails, on My access (the field is the account's)."""

    class Meta:
        model = get_user_model()
        fields = ["lesson_emails"]
        labels = {"lesson_emails": _("E-mail me when a new lesson comes out")}
        help_texts = {
            "lesson_emails": _(
                "Only for the series you can read; each e-mail has a link to stop them."
            )
        }


class FollowForm(forms.Form):
    """The address at which a reader without an account follows a series."""

    email = forms.EmailField(
        label=_("Your e-mail"),
        max_length=254,
        error_messages={
            "required": _("Type your e-mail address."),
            "invalid": _("That is not an e-mail address: check what you typed."),
        },
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "email",
                "autocapitalize": "none",
                "spellcheck": "false",
                "enterkeyhint": "send",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "site-follow-%s")
        super().__init__(*args, **kwargs)
