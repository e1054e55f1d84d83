"""The pay button, which access/'s paywall and call to action show through one include
(payments/_pay_button.html), knowing nothing of orders."""

from django import template

from payments import offers, revenue

register = template.Library()


@register.inclusion_tag("payments/_pay_form.html", takes_context=True)
def pay_button(context, series, lesson=None, *, authenticated):
    """Logged in: one tap (a POST) to the gateway's payment page. Logged out: a link to the
    page that asks for the e-mail address first. The same markup for every reader of the
    same kind, so pages keep it (the CSRF token is put in per request).

    `authenticated` is given by name (by access's paywall and call to action, which show the
    button), never read from the reader in the context: a kept part has no reader, and a
    button guessed from a missing one would be the logged-out one. Anything but True or False
    (a variable the page did not have) is refused."""
    show = not context.get("hide_pay_button") and offers.sold_here(series)
    if show and not isinstance(authenticated, bool):
        raise TypeError(f"pay_button needs authenticated=True or False, not {authenticated!r}")
    return {
        "show": show,
        "series": series,
        "lesson": lesson or None,
        "logged_in": authenticated is True,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def price(amount, currency="IDR"):
    return offers.format_price(amount, currency)


@register.inclusion_tag("payments/_dashboard.html")
def paid_on_the_site(period, series=None):
    """The sales dashboard's figures of orders paid on the site in the period (one query)."""
    return {"paid": revenue.paid(period=period, series=series)}
