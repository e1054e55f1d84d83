from django import forms
from django.utils.translation import gettext_lazy as _


class CheckoutForm(forms.Form):
    """A reader who is not logged in ties the order to an e-mail address: the PIN goes there,
    and logging in with it later unlocks the lessons."""

    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        error_messages={
            "required": _("Type your e-mail address: your PIN is sent there."),
            "invalid": _("That is not an e-mail address. Check it, as your PIN is sent there."),
        },
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "enterkeyhint": "go", "aria-describedby": "email-help"}
        ),
    )
    lesson = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
