from datetime import timedelta

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.db import DatabaseError
from django.utils import timezone, translation

from access import pending
from config import mail

# Messages whose news the next page already gives: the header shows who is logged in, and the
# code pages say where the code went. A reader who redeems a PIN on signing up sees one
# message, about the PIN.
QUIET_MESSAGES = {
    "account/messages/logged_in.txt",
    "account/messages/login_code_sent.txt",
    "account/messages/email_confirmation_sent.txt",
}


class AccountAdapter(DefaultAccountAdapter):
    def authenticate(self, request, **credentials):
        """A log-in the database could not answer (an outage) is not a failed attempt: take
        it back from allauth's failed-log-in limit, or readers who retried during the outage
        would be locked out for minutes after it."""
        try:
            return super().authenticate(request, **credentials)
        except DatabaseError:
            self._rollback_login_failed_rl_usage()
            raise

    def post_login(self, request, user, *, redirect_url=None, **kwargs):
        """Redeem a PIN the reader typed before logging in, and PINs bought for their
        address, and return them to the lesson."""
        stashed = pending.redeem_stashed(request, user)
        redirect_url = pending.redeem_held(request, user) or stashed or redirect_url
        return super().post_login(request, user, redirect_url=redirect_url, **kwargs)

    def is_login_by_code_required(self, login):
        """A sign-up goes on with a code e-mailed to the address, whether it is new (the code
        confirms it) or has an account (the code logs its owner in; accounts.forms): the
        same page either way, and no dead end for a returning reader."""
        return login.signup or super().is_login_by_code_required(login)

    def save_user(self, request, user, form, commit=True):
        """The sign-up form's new-lesson e-mails choice goes on the account, and the language
        the reader signed up in is the language of their e-mails."""
        user.lesson_emails = bool(form.cleaned_data.get("lesson_emails"))
        user.language = (
            translation.get_language()
            if translation.get_language() in dict(settings.LANGUAGES)
            else ""
        )
        return super().save_user(request, user, form, commit)

    def send_mail(self, template_prefix, email, context):
        """Account emails speak of the site by its name, not its host name. They are written
        here, in the reader's language, and sent by the worker (config/mail.py): the request
        never waits on the mail server, and one that is away delays the e-mail without losing
        it. An e-mail carrying a code is not sent once the code has expired."""
        request = allauth_context.request
        site = RequestSite(request)
        site.name = settings.SITE_NAME
        context = {"request": request, "email": email, "current_site": site, **context}
        message = self.render_mail(template_prefix, email, context)
        lifetime = code_lifetime(template_prefix)
        mail.send_later(
            message, deliver_by=timezone.now() + timedelta(seconds=lifetime) if lifetime else None
        )

    def format_email_subject(self, subject):
        return f"[{settings.SITE_NAME}] {subject}"

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        if message_template in QUIET_MESSAGES:
            return
        if message_template == "account/messages/email_confirmed.txt" and not (
            request.user.is_authenticated
        ):
            return  # confirmed by the code typed while signing up: they are about to be in
        super().add_message(request, level, message_template, *args, **kwargs)


def code_lifetime(template_prefix: str) -> int | None:
    """How long the code an account e-mail carries can be used, in seconds (None: no code)."""
    by_code = account_settings.EMAIL_VERIFICATION_BY_CODE_ENABLED
    verification = account_settings.EMAIL_VERIFICATION_BY_CODE_TIMEOUT if by_code else None
    return {
        "account/email/login_code": account_settings.LOGIN_BY_CODE_TIMEOUT,
        "account/email/email_confirmation_signup": verification,
        "account/email/email_confirmation": verification,
        "account/email/password_reset_code": account_settings.PASSWORD_RESET_BY_CODE_TIMEOUT,
    }.get(template_prefix)
