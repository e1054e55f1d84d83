"""Account e-mails (codes, resets, notices) are queued by the request and sent by the worker:
no request talks to the mail server, an outage delays them without losing them or leaving a
sign-up half done, and each goes out in the reader's language, which the account keeps."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.test import Client

from tests.accounts.flows import CODE
from tests.conftest import run

pytestmark = pytest.mark.django_db
User = get_user_model()


def code_in(message) -> str:
    return CODE.search(message.get_payload(decode=True).decode())[1]


def test_a_sign_up_during_an_outage_is_never_half_done(client, task_queue, smtp):
    """The mail server refuses connections: the sign-up answers as usual, and the code
    arrives once the server is back, and works."""
    smtp.down()
    response = client.post("/accounts/signup/", {"email": "new@example.com"})
    assert response.status_code == 302
    confirm = response["Location"]
    (failed,) = run(task_queue)
    assert isinstance(failed, OSError)  # the worker's try; the next one is queued
    smtp.restore()
    assert run(task_queue) == ["sent"]
    (message,) = smtp.parsed()
    assert message["To"] == "new@example.com"
    assert client.post(confirm, {"code": code_in(message)}).status_code == 302
    assert client.get("/").context["user"].email == "new@example.com"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/accounts/signup/", {"email": "new@example.com"}),
        ("/accounts/signup/", {"email": "reader@example.com"}),  # an account exists
        ("/accounts/login/code/", {"email": "reader@example.com"}),
        ("/accounts/password/reset/", {"email": "reader@example.com"}),
    ],
)
def test_no_request_waits_on_the_mail_server(client, reader, task_queue, smtp, path, data):
    """With the mail server hung (it would hold a request for its whole timeout), every
    page that sends a code, a link or a notice answers without connecting to it."""
    smtp.hang()
    response = client.post(path, data)
    assert response.status_code == 302
    assert smtp.held == []  # no connection was made
    assert [r.task.name for r in task_queue.results] == ["deliver"]


def test_a_reader_whose_code_did_not_come_asks_for_a_new_one(client, task_queue):
    confirm = client.post("/accounts/signup/", {"email": "new@example.com"})["Location"]
    page = client.get(confirm).text
    assert 'name="action" value="resend"' in page
    run(task_queue)
    first = CODE.search(mail.outbox[-1].body)[1]
    cache.clear()  # allauth allows one code every 10 seconds
    assert client.post(confirm, {"action": "resend"}).status_code == 302
    run(task_queue)
    assert len(mail.outbox) == 2
    second = CODE.search(mail.outbox[-1].body)[1]
    assert client.post(confirm, {"code": first}).status_code == 200  # replaced
    assert client.post(confirm, {"code": second}).status_code == 302
    assert client.get("/").context["user"].email == "new@example.com"


def test_a_log_in_code_page_offers_a_new_code_too(client, reader):
    page = client.post("/accounts/login/code/", {"email": reader.email}, follow=True).text
    assert 'name="action" value="resend"' in page


class TestTheReadersLanguage:
    def test_kept_from_sign_up(self):
        client = Client()
        client.post("/id/accounts/signup/", {"email": "baru@example.com"})
        assert User.objects.get(email="baru@example.com").language == "id"
        assert "Kode masuk" in mail.outbox[-1].subject

    def test_changed_by_reading_the_site_in_the_other_language(self, reader_client, reader):
        User.objects.filter(pk=reader.pk).update(language="en")
        assert reader_client.get("/id/").status_code == 200
        reader.refresh_from_db()
        assert reader.language == "id"
        reader_client.get("/")
        reader.refresh_from_db()
        assert reader.language == "en"

    def test_the_admin_in_the_site_s_language_changes_nothing(self, reader, settings):
        User.objects.filter(pk=reader.pk).update(is_staff=True, language="id")
        client = Client()
        client.force_login(reader)
        assert client.get(f"/{settings.ADMIN_PATH}").status_code == 200
        reader.refresh_from_db()
        assert reader.language == "id"

    def test_without_an_account_reading_stores_nothing(self, client):
        assert client.get("/id/").status_code == 200
        assert not User.objects.exists()
