"""Readers' account flows as a browser goes through them, with the code read from the email."""

import re

from django.core import mail

CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def emailed_code(to: str) -> str:
    """The code in the last email sent to `to`."""
    message = next(m for m in reversed(mail.outbox) if to in m.to)
    return CODE.search(message.body)[1]


def sign_up(client, email, next_url="/", **fields):
    """Sign up with an email address only, type the emailed code; return the last response."""
    response = client.post(f"/accounts/signup/?next={next_url}", {"email": email, **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    confirm = response["Location"]
    return client.post(confirm, {"code": emailed_code(email)})


def log_in_by_code(client, email, next_url="/"):
    response = client.post(f"/accounts/login/code/?next={next_url}", {"email": email})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.post(response["Location"], {"code": emailed_code(email)})
