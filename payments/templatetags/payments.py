"""The pay button, which access/'s paywall and call to action show through one include
(payments/_pay_button.html), knowing nothing of orders."""

from django import template

from payments import offers, revenue

register = template.Library()


@register.inclusion_tag("payments/_pay_form.html", takes_context=True)
def pay_button(context, series, lesson=None):
    """Logged in: one tap (a POST) to the gateway's payment page. Logged out: a link to the
    page that asks for the e-mail address first. The same markup for every reader of the
    same kind, so pages keep it (the CSRF token is put in per request)."""
    user = context.get("user")
    return {
        "show": not context.get("hide_pay_button") and offers.sold_here(series),
        "series": series,
        "lesson": lesson or None,
        "logged_in": bool(user and user.is_authenticated),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def price(amount, currency="IDR"):
    return offers.format_price(amount, currency)


@register.inclusion_tag("payments/_dashboard.html")
def paid_on_the_site(period, series=None):
    """The sales dashboard's figures of orders paid on the site in the period (one query)."""
    return {"paid": revenue.paid(period=period, series=series)}
