from allauth.account.adapter import DefaultAccountAdapter
from django.db import DatabaseError

from access import pending


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
        """Redeem a PIN the reader typed before logging in, and return them to the lesson."""
        redirect_url = pending.redeem_stashed(request, user) or redirect_url
        return super().post_login(request, user, redirect_url=redirect_url, **kwargs)
