"""Access on reader pages: the paywall, the call to action and the PIN form.

These belong to access/; lessons/ templates show them through these tags and know nothing of
PINs or entitlements. Every decision goes through `request.access`.
"""

from django import template
from django.urls import reverse

from access import offer, pending
from access.forms import FollowForm, RedeemForm
from access.offer import actions

register = template.Library()


@register.filter
def filled(html, series):
    """A series' stored selling HTML (its offer's call to action, paywall message) with its
    placeholders filled in from the lessons readers can see (access.offer)."""
    return offer.fill_html(html, series)


@register.filter
def offer_of(series):
    """The series' offer (access.offer.of), for a page that shows its contact buttons outside
    the paywall and the call to action."""
    return offer.of(series)


@register.filter
def price_line(series):
    """What is shown beside the buttons: the price line filled in, or the price alone."""
    return offer.price_line(series)


@register.simple_tag
def offer_actions():
    """The templates other apps show beside an offer's contact buttons (access.offer.actions)."""
    return actions.templates()


def _base(context) -> dict:
    request = context["request"]
    return {"request": request, "user": request.user, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("access/_paywall.html", takes_context=True)
def paywall(context, series, lesson=None):
    """The box under a teaser: what the premium part is, how to buy it, and the PIN form.
    Given the `lesson`, a PIN typed here is counted for it, and a logged-in reader's page
    reports once that the paywall came into view (the same markup for every anonymous
    reader, so their pages can be shared from a cache)."""
    request = context["request"]
    form = RedeemForm(initial={"lesson": lesson.pk if lesson else ""})
    return {
        **_base(context),
        "series": series,
        "offer": offer.of(series),
        "lesson": lesson,
        "form": form,
        "next_url": request.path,
    }


@register.inclusion_tag("access/_call_to_action.html", takes_context=True)
def call_to_action(context, series, *, locked=True, next_lesson=None, compact=False, at=None):
    """The series' call to action, for readers who cannot read the whole series and when it
    has lessons they cannot read (`locked`). A reader who has the whole series gets a link to
    `next_lesson` instead, when there is one. Taps on its buttons are counted for the lesson
    it ends (`at`), else for the series (its page, the home page)."""
    request = context["request"]
    whole = request.access.has_whole_series(series.pk)
    return {
        **_base(context),
        "series": series,
        "offer": offer.of(series),
        "show_offer": bool(locked) and not whole,
        "continue_to": next_lesson if whole else None,
        "compact": compact,
        "at": at,
        # a reader who redeems from here lands on the lesson they were about to unlock
        "after_redeem": (
            reverse("lessons:lesson", args=[series.slug, next_lesson.slug])
            if next_lesson
            else request.path
        ),
    }


@register.inclusion_tag("access/_follow.html", takes_context=True)
def follow_series(context, series):
    """The box that lets a reader follow `series` (its new lessons by e-mail). For anonymous
    readers the same markup for everyone: an address field and no CSRF token (see
    access.views.follow). A logged-in reader follows with one tap; their page shows whether
    they do (`request.access.follows`, which their page's key names)."""
    request = context["request"]
    return {
        **_base(context),
        "series": series,
        "form": FollowForm(),
        "following": request.access.follows(series.pk),
        "next_url": request.path,
    }


@register.inclusion_tag("access/_redeem_form.html", takes_context=True)
def redeem_form(context, form, next_url=""):
    return {**_base(context), "form": form, "next_url": next_url}


@register.inclusion_tag("access/_pending_pin.html", takes_context=True)
def pending_pin_notice(context):
    """On the log-in and sign-up pages: a PIN typed before logging in is waiting."""
    return {"waiting": pending.is_waiting(context["request"])}
