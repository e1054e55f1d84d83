"""Access on reader pages: the paywall, the call to action and the PIN form.

These belong to access/; lessons/ templates show them through these tags and know nothing of
PINs or entitlements. Every decision goes through `request.access`.

The paywall, the call to action and the follow box take what they depend on by name (whether
the reader is logged in, has the whole series, follows it, the page's path), so a page kept
per tier (caching.kept.render_page) keeps them too, keyed by those values: a tag that is not
given one asks `request.access` and the request, which a kept part does not hold (with
KEPT_TEMPLATES_STRICT it fails loudly, UnnamedVariable; without, the page fails, never
showing another reader's state). Their templates read `authenticated`, never `user`.
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


def _base(context, authenticated, path) -> dict:
    """What every box shows besides its own values: whether the reader is logged in, the path
    a form sends them back to, and the CSRF token (a marker in a kept page)."""
    if authenticated is None or path is None:
        request = context["request"]
        authenticated = request.user.is_authenticated if authenticated is None else authenticated
        path = request.path if path is None else path
    if not isinstance(authenticated, bool):
        raise TypeError(f"authenticated must be True or False, not {authenticated!r}")
    return {"authenticated": authenticated, "path": path, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("access/_paywall.html", takes_context=True)
def paywall(context, series, lesson=None, *, authenticated=None, path=None):
    """The box under a teaser: what the premium part is, how to buy it, and the PIN form.
    Given the `lesson`, a PIN typed here is counted for it, and a logged-in reader's page
    reports once that the paywall came into view (the same markup for every anonymous
    reader, so their pages can be shared from a cache)."""
    base = _base(context, authenticated, path)
    form = RedeemForm(initial={"lesson": lesson.pk if lesson else ""})
    return {
        **base,
        "series": series,
        "offer": offer.of(series),
        "lesson": lesson,
        "contact_only": False,
        "form": form,
        "next_url": base["path"],
    }


@register.inclusion_tag("access/_call_to_action.html", takes_context=True)
def call_to_action(
    context,
    series,
    *,
    locked=True,
    next_lesson=None,
    compact=False,
    at=None,
    whole=None,
    authenticated=None,
    path=None,
):
    """The series' call to action, for readers who cannot read the whole series and when it
    has lessons they cannot read (`locked`). A reader who has the whole series gets a link to
    `next_lesson` instead, when there is one. Taps on its buttons are counted for the lesson
    it ends (`at`), else for the series (its page, the home page). `whole`: whether the
    reader has the whole series (asked of `request.access` when not given)."""
    base = _base(context, authenticated, path)
    if whole is None:
        whole = context["request"].access.has_whole_series(series.pk)
    return {
        **base,
        "series": series,
        "offer": offer.of(series),
        "lesson": None,  # the pay button's: the call to action sells the series
        "contact_only": False,
        "show_offer": bool(locked) and not whole,
        "continue_to": next_lesson if whole else None,
        "compact": compact,
        "at": at,
        # a reader who redeems from here lands on the lesson they were about to unlock (the
        # link to the PIN form is not in a compact box)
        "after_redeem": (
            None
            if compact
            else reverse("lessons:lesson", args=[series.slug, next_lesson.slug])
            if next_lesson
            else base["path"]
        ),
    }


@register.inclusion_tag("access/_follow.html", takes_context=True)
def follow_series(context, series, *, authenticated=None, following=None, path=None):
    """The box that lets a reader follow `series` (its new lessons by e-mail). For anonymous
    readers the same markup for everyone: an address field and no CSRF token (see
    access.views.follow). A logged-in reader follows with one tap; their page shows whether
    they do (`following`, asked of `request.access.follows` when not given; a kept page names
    the value in its key, never the reader)."""
    base = _base(context, authenticated, path)
    if following is None:
        following = bool(base["authenticated"] and context["request"].access.follows(series.pk))
    return {
        **base,
        "series": series,
        "form": FollowForm(),
        "following": following,
        "next_url": base["path"],
    }


@register.inclusion_tag("access/_redeem_form.html", takes_context=True)
def redeem_form(context, form, next_url=""):
    return {**_base(context, None, None), "form": form, "next_url": next_url}


@register.inclusion_tag("access/_pending_pin.html", takes_context=True)
def pending_pin_notice(context):
    """On the log-in and sign-up pages: a PIN typed before logging in is waiting."""
    return {"waiting": pending.is_waiting(context["request"])}
