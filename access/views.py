import hashlib
import re

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from access import announcements, feedback, follows, http, pending, policy, services
from access.forms import FollowForm, LessonEmailsForm, RedeemForm
from access.middleware import ReaderAccess
from access.models import Entitlement, FeedToken, Follow, OfferCount
from config import beacons
from lessons import feeds
from lessons.models import Series


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
    if not beacons.allow(request, "paywall-seen"):
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
    (config/beacons.py)."""
    agent = request.headers.get("user-agent", "")
    if not beacons.allow(request, "offer"):
        return _beacon_answer(429)
    event, series = request.POST.get("event", ""), _number(request.POST.get("series", ""))
    lesson = _number(request.POST.get("lesson", ""))
    if event in OfferCount.Event.values and series and agent and not _NOT_A_READER.search(agent):
        services.count_offer_event(event=event, series_id=series, lesson_id=lesson)
    return _beacon_answer()


@csrf_exempt
@require_http_methods(["GET", "POST"])
def follow(request, slug):
    """Follow a series (its new lessons by e-mail), or stop. The form on pages kept for every
    anonymous reader carries no CSRF token, so a reader who is not logged in may post without
    one: all that does is e-mail a confirmation link to the address typed, which anyone could
    ask for on the page, within the same limits. Logged-in readers' posts, which change what
    their account gets, are checked as everywhere else."""
    series = get_object_or_404(Series, slug=slug)
    if not series.is_published and request.POST.get("action") != "stop":
        raise Http404("No such series.")
    if request.user.is_authenticated:
        return csrf_protect(_follow_as_reader)(request, series)
    return _follow_by_email(request, series)


def _follow_as_reader(request, series):
    if request.method == "GET":
        return _follow_page(request, series, FollowForm(), "form")
    if request.POST.get("action") == "stop":
        follows.unfollow(user=request.user, series=series)
        messages.success(request, _("You no longer follow “%(series)s”.") % {"series": series})
    else:
        follows.follow(user=request.user, series=series, language=follows.language_of(request))
        messages.success(
            request,
            _("You follow “%(series)s”: each new lesson comes to %(email)s.")
            % {"series": series, "email": request.user.email},
        )
    back = http.safe_next(request, request.POST.get("next")) or series.get_absolute_url()
    # back where the box is, which now says whether they follow
    return redirect(back if "#" in back else f"{back}#site-follow-title")


def _follow_by_email(request, series):
    """Someone without an account: the e-mail that confirms the address, once it is valid and
    within the limits (3 an hour per address and series, 20 an hour per client address)."""
    if request.method == "GET":
        return _follow_page(request, series, FollowForm(), "form")
    form = FollowForm(request.POST)
    if not form.is_valid():
        return _follow_page(request, series, form, "form", status=400)
    address = form.cleaned_data["email"]
    if not ratelimit.consume(request, action="follow_series", key=f"{series.pk}:{address.lower()}"):
        return _follow_page(request, series, form, "limited", status=429)
    follows.send_confirmation(request, series=series, email=address)
    return _follow_page(request, series, form, "sent")


def _follow_page(request, series, form, state, status=200):
    context = {
        "series": series,
        "form": form,
        "state": state,
        "following": request.access.follows(series.pk),
        "days": follows.CONFIRM_DAYS,
        "next_url": http.safe_next(request, request.POST.get("next") or request.GET.get("next")),
    }
    response = render(request, "access/follow.html", context, status=status)
    add_never_cache_headers(response)
    return response


@csrf_exempt  # the signed token in the address is the proof, as for unsubscribing
@require_http_methods(["GET", "POST"])
def follow_confirm(request, token):
    """The link in the confirmation e-mail. Opening it shows a button (mail scanners open
    links); pressing it makes the address a follower."""
    found = follows.read_confirmation(token)
    done = False
    if found and request.method == "POST":
        series, address, language = found
        follows.confirm(series=series, email=address, language=language)
        done = True
    context = {
        "known": found is not None,
        "series": found and found[0],
        "email": found and found[1],
        "done": done,
    }
    response = render(request, "access/follow_confirm.html", context, status=200 if found else 404)
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
        "followed": Follow.objects.filter(user=request.user).select_related("series"),
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
    """Stop new-lesson e-mails from the link in one, without logging in: all of them, to that
    address (as a reader with access and as a follower). Opening the link shows a button
    (mail scanners open links); the button, or a mail program's own unsubscribe button
    (RFC 8058 one-click), posts here."""
    subscriber = announcements.subscriber_for_token(token)
    done = False
    if subscriber and request.method == "POST":
        subscriber.stop()
        done = True
    context = {
        "known": subscriber is not None,
        "has_account": bool(subscriber and subscriber.user),
        "done": done,
    }
    response = render(
        request, "access/unsubscribe.html", context, status=200 if subscriber else 404
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
