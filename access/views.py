import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from access import announcements, feedback, http, pending, policy, services
from access.forms import LessonEmailsForm, RedeemForm
from access.middleware import ReaderAccess
from access.models import Entitlement, FeedToken
from lessons import feeds


@csrf_exempt
@sensitive_post_parameters("pin")
def redeem(request):
    """The PIN form of a page that anonymous readers share (from the page cache) carries no
    CSRF token, so a reader who is not logged in may post without one: all that does is check
    the PIN and keep it for after they log in. Such a post from another site is refused (its
    Origin tells), so no page elsewhere can spend a reader's address on wrong PINs. Logged-in
    readers' posts, which redeem, are checked as everywhere else."""
    if request.method == "POST" and request.user.is_authenticated:
        return csrf_protect(_redeem)(request)
    if request.method == "POST" and not http.from_this_site(request):
        return HttpResponseForbidden("A PIN is typed on this site's own pages.")
    return _redeem(request)


@require_http_methods(["GET", "POST"])
def _redeem(request):
    """Redeem an access PIN. A reader who is not logged in learns first whether the PIN can
    unlock anything; if it can, they are sent to sign up (or log in), the PIN waits in the
    session and is redeemed as soon as they are in."""
    asked = request.POST.get("next") or request.GET.get("next")
    next_url = http.safe_next(request, asked) or ""
    form = RedeemForm(request.POST or None)
    status, result = 200, None
    if request.method == "POST" and form.is_valid():
        pin, lesson_id = form.cleaned_data["pin"], form.cleaned_data["lesson"]
        ip, logged_in = http.client_ip(request), request.user.is_authenticated
        if logged_in:
            result = services.redeem(user=request.user, typed_pin=pin, ip=ip, lesson_id=lesson_id)
        else:
            result = services.check(typed_pin=pin, ip=ip, lesson_id=lesson_id)
            if result is None:
                pending.stash(request, pin, next_url, lesson_id=lesson_id)
                signup = reverse("account_signup")
                return redirect(f"{signup}?{urlencode({'next': next_url or '/'})}")
        if result.ok:
            messages.success(request, feedback.message(result))
            return redirect(next_url or feedback.landing(result))
        form.add_error("pin", feedback.message(result, logged_in=logged_in))
        status = feedback.STATUS[result.outcome]
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "next_url": next_url,
        "refused": result,
        "seller": result and feedback.seller(result, form.cleaned_data.get("lesson")),
    }
    response = render(request, "access/redeem.html", context, status=status)
    if status == 429:
        seconds = (result.retry_after - timezone.now()).total_seconds()
        response["Retry-After"] = str(max(1, int(seconds) + 1))
    add_never_cache_headers(response)
    return response


@require_POST
def paywall_seen(request):
    """A logged-in reader's page reports, after it has loaded, that its paywall came into
    view (static/js/paywall.js): remembered once per reader and lesson, for the dashboard's
    conversion per lesson. Kept out of the lesson page's own request so that page does not
    write, and anonymous pages, which never send it, stay the same for everyone."""
    if request.user.is_authenticated:
        value = request.POST.get("lesson", "")
        if value.isascii() and value.isdecimal():
            services.record_paywall_view(user=request.user, lesson_id=int(value))
    response = HttpResponse(status=204)
    add_never_cache_headers(response)
    return response


@login_required
def my_access(request):
    entitlements = list(
        Entitlement.objects.filter(user=request.user)
        .select_related("series", "pin")
        .prefetch_related("lessons")
    )
    feed_token = FeedToken.objects.filter(user=request.user).first()
    if feed_token is not None:
        feed_token.user = request.user
        periods = [(e.granted_at, e.expires_at, e.revoked_at) for e in entitlements]
        if services.feed_token_ended(feed_token, entitlements=periods):
            feed_token = None
    context = {
        "entitlements": entitlements,
        "emails_form": LessonEmailsForm(instance=request.user),
        "can_have_feed": request.user.is_staff or any(e.is_active() for e in entitlements),
        "feed_token": feed_token,
    }
    response = render(request, "access/my_access.html", context)
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def lesson_emails(request):
    """The reader's choice, on My access, to get new-lesson e-mails."""
    form = LessonEmailsForm(request.POST, instance=request.user)
    if form.is_valid():
        form.save()
        messages.success(
            request,
            _("We will e-mail you when a new lesson comes out.")
            if form.cleaned_data["lesson_emails"]
            else _("We will not e-mail you about new lessons."),
        )
    return redirect("access:mine")


@csrf_exempt  # the signed token in the address is the proof; mail programs post without one
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """Stop new-lesson e-mails from the link in one, without logging in. Opening the link
    shows a button (mail scanners open links); the button, or a mail program's own
    unsubscribe button (RFC 8058 one-click), posts here."""
    user = announcements.user_for_token(token)
    status = 200 if user else 404
    done = False
    if user and request.method == "POST":
        type(user).objects.filter(pk=user.pk).update(lesson_emails=False)
        done = True
    response = render(
        request, "access/unsubscribe.html", {"known": bool(user), "done": done}, status=status
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def feed_address(request):
    """Make (or make anew) the reader's private feed address, or turn it off."""
    if request.POST.get("action") == "delete":
        services.delete_feed_token(user=request.user)
        messages.success(request, gettext("Your private feed is off: its address no longer works."))
    elif request.user.is_staff or Entitlement.objects.active_for(request.user).exists():
        services.renew_feed_token(user=request.user)
        messages.success(
            request,
            gettext("Your private feed has a new address. Any earlier address no longer works."),
        )
    return redirect(f"{reverse('access:mine')}#site-private-feed")


def private_feed(request, token, atom=False):
    """A reader's feed: every lesson of the series they hold, each in full where the access
    decision for that reader says so. Decided afresh on each request: a deleted or renewed
    address, or access that ended, stops it at once (404), and an address whose reader was
    without access at any moment since it was made has ended for good."""
    found = FeedToken.objects.select_related("user").filter(token=token).first()
    if found is None or services.feed_token_ended(found):
        raise Http404("No such feed.")
    access = ReaderAccess(found.user)
    scope = access.premium_scope()
    if scope == policy.NO_PREMIUM:
        raise Http404("No such feed.")
    grants = sorted(
        (g.series_id, sorted(g.lesson_ids or ()), g.lesson_ids is None) for g in access.grants
    )
    what = hashlib.sha256(repr((access.is_staff, grants)).encode()).hexdigest()
    response = feeds.serve(
        request,
        key=f"private:{found.user_id}:{what}",
        atom=atom,
        scope=lambda: feeds.FeedScope(
            access=access,
            origin=f"{request.scheme}://{request.get_host()}",
            series_ids=scope and scope.held,
            title=gettext("%(site)s: your lessons") % {"site": settings.SITE_NAME},
        ),
    )
    # The full text of premium lessons, for one reader: never kept by anyone in between.
    response["Cache-Control"] = "private, no-store"
    return response
