from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from access import feedback, http, pending, services
from access.forms import RedeemForm
from access.models import Entitlement


@csrf_exempt
@sensitive_post_parameters("pin")
def redeem(request):
    """The PIN form of a page that anonymous readers share (from the page cache) carries no
    CSRF token, so a reader who is not logged in may post without one: all that does is keep
    the PIN for after they log in, which a forged request cannot turn against them. Logged-in
    readers' posts, which redeem, are checked as everywhere else."""
    if request.method == "POST" and request.user.is_authenticated:
        return csrf_protect(_redeem)(request)
    return _redeem(request)


@require_http_methods(["GET", "POST"])
def _redeem(request):
    """Redeem an access PIN. A reader who is not logged in is sent to sign up (or log in)
    first; the PIN waits in the session and is redeemed as soon as they are in."""
    asked = request.POST.get("next") or request.GET.get("next")
    next_url = http.safe_next(request, asked) or ""
    form = RedeemForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not request.user.is_authenticated:
            pending.stash(request, form.cleaned_data["pin"], next_url)
            return redirect(f"{reverse('account_signup')}?{urlencode({'next': next_url or '/'})}")
        result = services.redeem(
            user=request.user, typed_pin=form.cleaned_data["pin"], ip=http.client_ip(request)
        )
        if result.ok:
            messages.success(request, feedback.message(result))
            return redirect(next_url or result.series.get_absolute_url())
        form.add_error("pin", feedback.message(result))
        status = feedback.STATUS[result.outcome]
    elif request.method == "POST":
        status = 400
    response = render(
        request, "access/redeem.html", {"form": form, "next_url": next_url}, status=status
    )
    if status == 429:
        seconds = (result.retry_after - timezone.now()).total_seconds()
        response["Retry-After"] = str(max(1, int(seconds) + 1))
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
