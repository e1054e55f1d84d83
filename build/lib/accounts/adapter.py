from allauth.account.adapter import DefaultAccountAdapter

from access import pending


class AccountAdapter(DefaultAccountAdapter):
    def post_login(self, request, user, *, redirect_url=None, **kwargs):
        """Redeem a PIN the reader typed before logging in, and return them to the lesson."""
        redirect_url = pending.redeem_stashed(request, user) or redirect_url
        return super().post_login(request, user, redirect_url=redirect_url, **kwargs)
