from allauth.account import forms as allauth_forms
from django import forms
from django.utils.translation import gettext_lazy as _

# Django gives password rules as a <ul>, which a form shows inside a <span> inside a <p>:
# invalid HTML. The same rules, in a sentence.
PASSWORD_RULES = _(
    "A password needs at least 8 characters and cannot be only digits, a common one, or too "
    "like your email address."
)


class _NewPasswordHelp:
    """For the forms where a reader chooses a new password (`password1`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = PASSWORD_RULES


class ChangePasswordForm(_NewPasswordHelp, allauth_forms.ChangePasswordForm):
    pass


class SetPasswordForm(_NewPasswordHelp, allauth_forms.SetPasswordForm):
    pass


class ResetPasswordKeyForm(_NewPasswordHelp, allauth_forms.ResetPasswordKeyForm):
    pass


class SignupForm(allauth_forms.SignupForm):
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
