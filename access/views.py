import hashlib
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
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
from access.models import Entitlement, FeedToken, OfferCount
from config import ratelimit
from lessons import feeds


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
        pin, lesson_id = form.cleaned_data["pin"], form.cleaned_data["lesson"]
        if not request.user.is_authenticated:
            pending.stash(request, pin, next_url, lesson_id=lesson_id)
            return redirect(f"{reverse('account_signup')}?{urlencode({'next': next_url or '/'})}")
        result = services.redeem(
            user=request.user, typed_pin=pin, ip=http.client_ip(request), lesson_id=lesson_id
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


def _beacon_answer(status=204) -> HttpResponse:
    response = HttpResponse(status=status)
    add_never_cache_headers(response)
    return response


@require_POST
def paywall_seen(request):
    """A logged-in reader's page reports, after it has loaded, that its paywall came into
    view (static/js/paywall.js): remembered once per reader and lesson, for the dashboard's
    conversion per lesson. Kept out of the lesson page's own request so that page does not
    write, and anonymous pages, which never send it, stay the same for everyone."""
    if not ratelimit.allow(request, "paywall-seen"):
        return _beacon_answer(429)
    if request.user.is_authenticated:
        value = request.POST.get("lesson", "")
        if value.isascii() and value.isdecimal():
            services.record_paywall_view(user=request.user, lesson_id=int(value))
    return _beacon_answer()


# User agents that announce a program, not a reader: crawlers, link previews, scripts.
_NOT_A_READER = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|whatsapp|telegram|headless|"
    r"lighthouse|python|curl|wget|httpclient|okhttp|java/|go-http|node-fetch|axios|scrapy",
    re.IGNORECASE,
)


def _number(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdecimal() and len(value) < 12 else None


@csrf_exempt  # anonymous pages carry no token; all a forged request can do is add one count
@require_POST
def offer_counted(request):
    """A page reports, after it has loaded, that a reader met the series' offer: its paywall
    came into view, or they tapped its Instagram or WhatsApp button (static/js/offer.js).
    Counted per lesson and day (services.count_offer_event), for anyone, logged in or not,
    without a cookie: the request reads no session and the count keeps nobody's data.
    Programs that say so in their user agent are not counted, and each address is limited
    (config/ratelimit.py)."""
    agent = request.headers.get("user-agent", "")
    if not ratelimit.allow(request, "offer"):
        return _beacon_answer(429)
    event, series = request.POST.get("event", ""), _number(request.POST.get("series", ""))
    lesson = _number(request.POST.get("lesson", ""))
    if event in OfferCount.Event.values and series and agent and not _NOT_A_READER.search(agent):
        services.count_offer_event(event=event, series_id=series, lesson_id=lesson)
    return _beacon_answer()


@login_required
def my_access(request):
    entitlements = list(
        Entitlement.objects.filter(user=request.user)
        .select_related("series", "pin")
        .prefetch_related("lessons")
    )
    context = {
        "entitlements": entitlements,
        "emails_form": LessonEmailsForm(instance=request.user),
        "can_have_feed": request.user.is_staff or any(e.is_active() for e in entitlements),
        "feed_token": FeedToken.objects.filter(user=request.user).first(),
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
    address, or access that ended, stops it at once (404)."""
    found = FeedToken.objects.select_related("user").filter(token=token).first()
    if found is None or not found.user.is_active:
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
