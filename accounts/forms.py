from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(AllauthSignupForm):
    """Sign-up asks for an email address; a password is optional (without one, the reader
    logs in with a code sent by email). New-lesson e-mails are offered, unticked."""

    lesson_emails = forms.BooleanField(
        label=_("E-mail me when a new lesson comes out"),
        required=False,
        help_text=_("Only for the series you can read; each e-mail has a link to stop them."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password = self.fields["password1"]
        password.label = _("Password (optional)")
        password.help_text = _(
            "Leave it empty to log in with a code sent to your email. A password needs at "
            "least 8 characters and cannot be only digits or a common one."
        )
