from allauth.account import forms as allauth_forms
from allauth.account.models import EmailAddress
from allauth.account.utils import get_next_redirect_url, perform_login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import consume, respond_429
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
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


class _CodeField:
    """The e-mailed code is six digits: a phone shows its number pad and offers the code from
    the mail as you type."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "autocapitalize": "off"}
        )


class ConfirmLoginCodeForm(_CodeField, allauth_forms.ConfirmLoginCodeForm):
    pass


class ConfirmEmailVerificationCodeForm(_CodeField, allauth_forms.ConfirmEmailVerificationCodeForm):
    pass


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
        self.fields["lesson_emails"].label_suffix = ""  # a checkbox's label is no heading
        password = self.fields["password1"]
        password.label = _("Password (optional)")
        password.help_text = _(
            "Leave it empty to log in with a code sent to your email. A password needs at "
            "least 8 characters and cannot be only digits or a common one."
        )

    def try_save(self, request):
        """Sign up, or, for an address that has an account, log its owner in: either way a
        code is e-mailed to the address and the reader lands on the same page to type it
        (accounts.adapter makes every sign-up go on by code), so nobody learns from sign-up
        whether an address has an account. A password typed with a taken address is hashed
        all the same (and thrown away), so both take the same time. The same address signed
        up for again within seconds from another browser, even at the same moment, answers 429
        whatever the address: that address's code mails are limited first (the same browser
        is sent back to its code page before this)."""
        email = self.cleaned_data["email"]
        if not consume(request, action="confirm_email", key=email.lower()):
            raise ImmediateHttpResponse(respond_429(request))
        if not self.account_already_exists:
            try:
                with transaction.atomic():
                    return self.save(request), None
            except IntegrityError:
                pass  # signed up a moment ago by a request that won the race: log in instead
        make_password(self.cleaned_data.get("password1") or None)
        response = perform_login(
            request,
            account_for(email),
            redirect_url=get_next_redirect_url(request),
            signup=True,
            email=email,
        )
        return None, response


def account_for(email: str):
    """The active account that logs in with this address (as its own, or as a verified
    address of its), or None: an address someone added and never verified is not theirs."""
    User = get_user_model()
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        address = (
            EmailAddress.objects.filter(email__iexact=email, verified=True, user__is_active=True)
            .select_related("user")
            .first()
        )
        user = address.user if address else None
    return user
