from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from access import pending, services
from access.forms import RedeemForm
from access.models import Entitlement

STATUS = {
    services.Outcome.UNKNOWN: 400,
    services.Outcome.EXPIRED: 410,
    services.Outcome.REVOKED: 410,
    services.Outcome.USED_UP: 409,
    services.Outcome.REDEEMED_BEFORE: 409,
    services.Outcome.THROTTLED: 429,
}


@sensitive_post_parameters("pin")
@require_http_methods(["GET", "POST"])
def redeem(request):
    """Redeem an access PIN. A reader who is not logged in is sent to log in or sign up
    first; the PIN waits in the session and is redeemed as soon as they are in."""
    asked = request.POST.get("next") or request.GET.get("next")
    next_url = pending.safe_next(request, asked) or ""
    form = RedeemForm(request.POST or None)
    context = {"form": form, "next_url": next_url}
    if request.method == "POST" and form.is_valid():
        if not request.user.is_authenticated:
            pending.stash(request, form.cleaned_data["pin"], next_url)
            messages.info(request, "Log in or create an account, and your PIN will be redeemed.")
            return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url or '/'})}")
        result = services.redeem(
            user=request.user,
            typed_pin=form.cleaned_data["pin"],
            ip=pending.client_ip(request),
        )
        if result.ok:
            messages.success(request, result.message)
            return redirect(next_url or result.series.get_absolute_url())
        form.add_error("pin", result.message)
        response = render(request, "access/redeem.html", context, status=STATUS[result.outcome])
        if result.retry_after:
            seconds = (result.retry_after - timezone.now()).total_seconds()
            response["Retry-After"] = str(max(1, int(seconds) + 1))
    else:
        status = 400 if request.method == "POST" else 200
        response = render(request, "access/redeem.html", context, status=status)
    add_never_cache_headers(response)
    return response


@login_required
def my_access(request):
    entitlements = (
        Entitlement.objects.filter(user=request.user)
        .select_related("series", "pin")
        .prefetch_related("lessons")
    )
    response = render(request, "access/my_access.html", {"entitlements": entitlements})
    add_never_cache_headers(response)
    return response
