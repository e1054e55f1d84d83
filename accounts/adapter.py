from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.db import DatabaseError

from access import pending

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

    def save_user(self, request, user, form, commit=True):
        """The sign-up form's new-lesson e-mails choice goes on the account."""
        user.lesson_emails = bool(form.cleaned_data.get("lesson_emails"))
        return super().save_user(request, user, form, commit)

    def send_mail(self, template_prefix, email, context):
        """Account emails speak of the site by its name, not its host name."""
        site = RequestSite(allauth_context.request)
        site.name = settings.SITE_NAME
        super().send_mail(template_prefix, email, {"current_site": site, **context})

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
