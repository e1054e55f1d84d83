"""The reader's side of a payment (the pay button's checkout, the order page) and the gateway's
(the notification address, the one view here without a CSRF check: the gateway signs instead)."""

import contextlib

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import constant_time_compare
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from payments import gateways, offers, services
from payments.forms import CheckoutForm
from payments.models import Notification, Order

SESSION_KEY = "payments_orders"  # the orders this browser made (a reader logged out, too)
KEPT_IN_SESSION = 20


@require_http_methods(["GET", "POST"])
def checkout(request, slug):
    """The pay button. Logged in: a POST straight to the gateway's payment page. Logged out:
    this page first, for the e-mail address the order is tied to."""
    series = offers.sellable(slug)
    if series is None:
        raise Http404
    lesson = offers.lesson_from(series, request.POST.get("lesson") or request.GET.get("lesson"))
    back = (lesson or series).get_absolute_url()
    if offers.has_whole_series(request, series):
        messages.info(request, gettext("You can already read the whole series."))
        return redirect(back)
    if not offers.sold_here(series):
        return _unavailable(request, series, back, status=404)
    user = request.user if request.user.is_authenticated else None
    form = CheckoutForm(request.POST or None, initial={"lesson": lesson.pk if lesson else ""})
    if request.method == "GET" or (user is None and not form.is_valid()):
        status = 400 if request.method == "POST" else 200
        login_url = f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"
        return _page(request, "payments/checkout.html", {
            "series": series, "lesson": lesson, "form": form, "back": back,
            "price": offers.price_of(series), "login_url": login_url,
        }, status=status)  # fmt: skip
    try:
        order = services.start_checkout(
            series=series,
            lesson=lesson,
            user=user,
            email=user.email if user else form.cleaned_data["email"],
            made_here=request.session.get(SESSION_KEY, []),
            language=get_language(),
            site_url=request.build_absolute_uri("/"),
            urls=lambda order: _gateway_urls(request, order),
        )
    except services.Unavailable:
        return _unavailable(request, series, back, status=503)
    _remember(request, order)
    to_pay = order.is_pending and order.redirect_url
    response = redirect(to_pay or reverse("payments:order", args=[order.order_id]))
    response.status_code = 303  # see the payment page (a GET), whatever was posted
    return response


def _gateway_urls(request, order) -> tuple[str, str]:
    finish = reverse("payments:order", args=[order.order_id])
    notify = reverse("payments:notification", args=[gateways.notification_token()])
    return request.build_absolute_uri(finish), request.build_absolute_uri(notify)


def _remember(request, order) -> None:
    mine = [i for i in request.session.get(SESSION_KEY, []) if i != order.order_id]
    request.session[SESSION_KEY] = [order.order_id, *mine][:KEPT_IN_SESSION]


def _mine(request, order_id) -> Order:
    """The reader's own order (their account's, or made in this browser), else 404."""
    order = Order.objects.select_related("series").filter(order_id=order_id).first()
    if order is None:
        raise Http404
    own = request.user.is_authenticated and order.user_id == request.user.pk
    if not (own or order_id in request.session.get(SESSION_KEY, [])):
        raise Http404
    return order


@require_safe
def order(request, order_id):
    """Where the gateway sends the reader back: waiting for the payment, then what it gave.
    The gateway's query (?transaction_status=…) is never believed, only taken as the moment
    to ask it once, in case its notification has not come yet."""
    order = _mine(request, order_id)
    if order.is_pending and "transaction_status" in request.GET:
        with contextlib.suppress(gateways.GatewayError):  # the notification will tell
            services.refresh(order)
        order.refresh_from_db()
    lesson = offers.landing(order)
    context = {
        "order": order,
        "series": order.series,
        "lesson": lesson,
        "unlocked": order.status == Order.Status.PAID
        and offers.has_whole_series(request, order.series),
        "can_pay": order.is_pending and order.redirect_url,
        "retry_lesson": order.lesson_id or "",
        "pin_hint": "\u2060" + order.pin_hint,  # kept on the line of the "…" before it
    }
    return _page(request, "payments/order.html", context)


@require_safe
def order_status(request, order_id):
    """The order page's question, every few seconds while it waits (static/js/order.js)."""
    order = _mine(request, order_id)
    response = JsonResponse({"status": order.status})
    add_never_cache_headers(response)
    return response


@csrf_exempt
@require_POST
def notification(request, token):
    """The gateway's HTTP notification. Its address carries a secret (another address is a
    404); its body is read up to Notification.MAX_BODY bytes."""
    if not constant_time_compare(token, gateways.notification_token()):
        raise Http404
    body = request.read(Notification.MAX_BODY + 1)
    received = services.receive(
        body[: Notification.MAX_BODY], too_large=len(body) > Notification.MAX_BODY
    )
    response = JsonResponse({"outcome": received.outcome}, status=received.http_status)
    add_never_cache_headers(response)
    return response


def _unavailable(request, series, back, *, status) -> HttpResponse:
    return _page(
        request,
        "payments/unavailable.html",
        {"series": series, "back": back, "down": status == 503},
        status=status,
    )


def _page(request, template, context, status=200) -> HttpResponse:
    """A page for this reader alone: never kept, by the site or by a browser."""
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    return response
