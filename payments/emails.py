"""The e-mail a buyer gets when their order is paid: a receipt, with the PIN (the only place it
is ever written) and the next step, in the language they bought in. Sent with Django's
send_mail after the payment is saved."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

log = logging.getLogger(__name__)


def send_receipt(order, pin: str, lesson) -> None:
    site = order.site_url.rstrip("/")
    with translation.override(order.language):
        context = {
            "order": order,
            "series": order.series,
            "pin": pin,
            "lesson": lesson,
            "lesson_url": site + lesson.get_absolute_url() if lesson else "",
            "redeem_url": site + reverse("access:redeem"),
            "signup_url": site + reverse("account_signup"),
            "order_url": site + reverse("payments:order", args=[order.order_id]),
            "SITE_NAME": settings.SITE_NAME,
        }
        subject = render_to_string("payments/email/receipt_subject.txt", context).strip()
        body = render_to_string("payments/email/receipt.txt", context)
    try:
        send_mail(subject, body, None, [order.email])
    except OSError as error:  # the PIN is held for the address, and the order page says so
        log.warning("payments: receipt for %s not sent: %s", order.order_id, error)
