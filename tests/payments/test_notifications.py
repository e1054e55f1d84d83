"""The notification address: nothing forged, replayed or out of order turns into an extra PIN,
every notification is logged, and the gateway is answered so that it sends again only what it
should (200 handled or ignored on purpose, 4xx refused, 503 to try again)."""

import pytest

from access.models import AccessPin, Entitlement, HeldPin
from payments.models import Notification, Order
from tests.payments.flows import post, signed, start_order

pytestmark = pytest.mark.django_db
Outcome = Notification.Outcome


@pytest.fixture
def order(gateway, premium, reader_client):
    return start_order(reader_client, premium)


def settle(gateway, order, status="settlement"):
    """The gateway's side of a payment: its state changes (and it notifies the site)."""
    return gateway.change(order.order_id, status, payment_type="qris")


def test_a_settled_payment_issues_one_pin_redeemed_for_the_reader(
    gateway, order, reader, premium, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        settle(gateway, order)
    order.refresh_from_db()
    pin = AccessPin.objects.get()
    assert (order.status, order.pin_id, order.pin_hint) == (Order.Status.PAID, pin.pk, pin.hint)
    assert Entitlement.objects.get().user == reader
    assert pin.use_count == 1 and pin.buyer == reader.email
    assert [m.to for m in mailoutbox] == [[reader.email]]
    assert gateway.sent[-1][2] == 200
    entry = Notification.objects.get()
    assert (entry.verified, entry.outcome, entry.order_id) == (True, Outcome.APPLIED, order.pk)


def test_the_pin_is_never_stored_only_its_hint(
    gateway, order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        settle(gateway, order)
    pin = mailoutbox[0].body.split("PIN:")[1].split()[0]
    order.refresh_from_db()
    stored = " ".join(str(v) for v in Order.objects.filter(pk=order.pk).values().get().values())
    assert pin.replace("-", "")[-4:] == order.pin_hint
    assert pin not in stored and pin.replace("-", "") not in stored


def test_replayed_and_repeated_settlements_issue_nothing_more(gateway, order, client):
    body = settle(gateway, order)
    for _ in range(3):
        assert post(client, body).status_code == 200
    assert AccessPin.objects.count() == Entitlement.objects.count() == 1
    assert list(Notification.objects.values_list("outcome", flat=True)) == [
        Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.APPLIED,
    ]  # fmt: skip


def test_the_notification_is_not_believed_only_the_status_api(gateway, order, client):
    """A signed notification says "settlement" while the gateway says pending: nothing."""
    gateway.change(order.order_id, "pending")
    response = post(client, signed(order.order_id, "settlement", code="201"))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and AccessPin.objects.count() == 0


def test_a_forged_signature_is_refused_and_changes_nothing(gateway, order, client):
    gateway.change(order.order_id, "settlement")
    Notification.objects.all().delete()
    AccessPin.objects.all().delete()
    Order.objects.filter(pk=order.pk).update(status="pending", pin=None, pin_hint="")
    forged = {**signed(order.order_id, "settlement"), "signature_key": "0" * 128}
    response = post(client, forged)
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and AccessPin.objects.count() == 0
    entry = Notification.objects.get()
    assert (entry.verified, entry.outcome) == (False, Outcome.FORGED)
    assert entry.body.startswith("{")


def test_a_wrong_amount_flags_the_order_and_issues_nothing(gateway, order, client):
    gateway.transactions[order.order_id].update(amount=1000, gross_amount="1000.00")
    gateway.change(order.order_id, "settlement")
    order.refresh_from_db()
    assert order.flag and order.status == Order.Status.PENDING
    assert AccessPin.objects.count() == 0
    assert Notification.objects.get().outcome == Outcome.FLAGGED
    # and it stays so, whatever comes next
    gateway.transactions[order.order_id].update(amount=149000, gross_amount="149000.00")
    gateway.change(order.order_id, "settlement")
    assert AccessPin.objects.count() == 0


def test_a_wrong_currency_flags_the_order_too(gateway, order):
    gateway.transactions[order.order_id]["currency"] = "USD"
    gateway.change(order.order_id, "settlement")
    order.refresh_from_db()
    assert "USD" in order.flag and AccessPin.objects.count() == 0


def test_an_unknown_order_is_refused(gateway, client):
    response = post(client, signed("sim-nobody-ordered-this", "settlement"))
    assert response.status_code == 404
    entry = Notification.objects.get()
    assert (entry.verified, entry.outcome) == (True, Outcome.UNKNOWN_ORDER)


def test_a_notification_for_another_environment_is_ignored_on_purpose(gateway, order, client):
    response = post(client, signed("prd-" + order.order_id[4:], "settlement"))
    assert response.status_code == 200
    assert Notification.objects.get().outcome == Outcome.OTHER_ENVIRONMENT
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and AccessPin.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        b'{"order_id": 5}',
        b"",
        b'"text"',
        b'{"order_id": "sim-\\u0000", "status_code": "\\u0000"}',
    ],
    ids=["text", "not utf-8", "a list", "fields not text", "empty", "a string", "NUL"],
)
def test_bodies_that_are_not_notifications_are_refused(gateway, client, body):
    response = post(client, body)
    assert response.status_code == 400
    assert Notification.objects.get().outcome == Outcome.MALFORMED


def test_a_body_of_a_megabyte_is_refused_without_being_kept_whole(gateway, order, client):
    body = b'{"order_id": "' + b"x" * (1024 * 1024) + b'"}'
    response = post(client, body)
    assert response.status_code == 413
    entry = Notification.objects.get()
    assert entry.outcome == Outcome.TOO_LARGE
    assert len(entry.body) <= Notification.MAX_BODY


def test_another_address_is_not_found(gateway, order, client):
    response = client.post("/pay/notify/guessed/", "{}", content_type="application/json")
    assert response.status_code == 404
    assert Notification.objects.count() == 0


def test_the_address_takes_only_posts(gateway, client):
    from tests.payments.flows import notify_url

    assert client.get(notify_url()).status_code == 405


def test_the_status_api_timing_out_asks_the_gateway_to_send_again(gateway, order, client, settings):
    body = settle(gateway, order)
    Notification.objects.all().delete()
    settings.MIDTRANS_API_URL = "http://127.0.0.1:9"  # nothing listens there
    response = post(client, body)
    assert response.status_code == 503
    assert Notification.objects.get().outcome == Outcome.GATEWAY_DOWN


def test_expire_deny_and_cancel_close_a_pending_order(gateway, premium, reader_client):
    for status, closed in [("expire", "expired"), ("deny", "denied"), ("cancel", "cancelled")]:
        order = start_order(reader_client, premium)
        gateway.change(order.order_id, status)
        order.refresh_from_db()
        assert order.status == closed
    assert AccessPin.objects.count() == 0


def test_settlement_after_expiry_still_delivers_what_was_paid_for(gateway, order):
    gateway.change(order.order_id, "expire")
    gateway.change(order.order_id, "settlement", payment_type="qris")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and Entitlement.objects.count() == 1
    assert "expired" in Notification.objects.order_by("-pk").first().detail


def test_a_late_pending_after_settlement_changes_nothing(gateway, order, client):
    settle(gateway, order)
    late = gateway._payload({**gateway.transactions[order.order_id], "status": "pending"})
    assert post(client, late).status_code == 200  # confirmed: still settled
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and AccessPin.objects.count() == 1


def test_a_refund_revokes_the_pin_and_the_access(gateway, order, reader, premium, reader_client):
    settle(gateway, order)
    status, _ = gateway.refund(order.order_id, {"amount": 149000})
    assert status == 200
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert AccessPin.objects.get().revoked_at is not None
    assert not Entitlement.objects.active_for(reader).exists()
    assert b"SECRET-PREMIUM-SENTENCE" not in reader_client.get(premium.get_absolute_url()).content


def test_a_chargeback_revokes_too_and_is_logged(gateway, order, reader):
    settle(gateway, order)
    gateway.change(order.order_id, "chargeback")
    order.refresh_from_db()
    assert order.status == Order.Status.CHARGED_BACK
    assert not Entitlement.objects.active_for(reader).exists()
    assert "revoked" in Notification.objects.order_by("-pk").first().detail


def test_a_partial_refund_keeps_the_access(gateway, order, reader):
    settle(gateway, order)
    gateway.refund(order.order_id, {"amount": 10000})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.active_for(reader).exists()


def test_with_revoking_turned_off_a_refund_keeps_the_access(gateway, order, reader, settings):
    settings.PAYMENTS_REVOKE_ON_REFUND = False
    settle(gateway, order)
    gateway.refund(order.order_id, {})
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert Entitlement.objects.active_for(reader).exists()


def test_a_refund_before_settlement_has_nothing_to_revoke(gateway, order, client):
    body = signed(order.order_id, "refund")
    gateway.transactions[order.order_id].update(status="refund", transaction_id="t-1")
    assert post(client, body).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.pin_id is None
    assert AccessPin.objects.count() == 0
    assert "nothing to end" in Notification.objects.get().detail
    # a settlement reported after that issues nothing either
    gateway.transactions[order.order_id]["status"] = "settlement"
    post(client, signed(order.order_id, "settlement"))
    order.refresh_from_db()
    assert order.flag and AccessPin.objects.count() == 0


def test_a_reader_not_logged_in_gets_the_pin_held_for_their_address(gateway, premium, client):
    order = start_order(client, premium, email="Buyer@Example.com")
    settle(gateway, order)
    hold = HeldPin.objects.get()
    assert hold.email == "buyer@example.com" and hold.pin.use_count == 0
    assert hold.next_url == premium.get_absolute_url()
    assert Entitlement.objects.count() == 0


def test_the_handler_runs_a_fixed_number_of_queries(
    gateway, order, client, django_assert_num_queries
):
    """A first settlement: the order found, then locked (with its series and reader), the
    PIN issued, the lesson to land on, the PIN redeemed (its lock, the reader's grants, an
    earlier use, the use taken, the entitlement, the redemption log), the order saved, the
    notification logged; and the savepoints of the nested atomic blocks (6)."""
    gateway.post = lambda url, payload: None  # the gateway's own notification is not sent
    body = gateway.change(order.order_id, "settlement", payment_type="qris")
    with django_assert_num_queries(18):
        assert post(client, body).status_code == 200
    with django_assert_num_queries(6):  # a repeat: read, lock, unchanged, log
        assert post(client, body).status_code == 200


def test_the_receipt_is_in_the_language_the_reader_bought_in(
    gateway, premium, client, mailoutbox, django_capture_on_commit_callbacks
):
    order = start_order(client, premium, email="pembeli@example.com", language="id")
    with django_capture_on_commit_callbacks(execute=True):
        settle(gateway, order)
    receipt = mailoutbox[0]
    assert receipt.subject.startswith("[Lessons] PIN akses kamu untuk")
    assert "PIN akses kamu:" in receipt.body and "Rp149.000" in receipt.body
    assert "Daftar (atau masuk) dengan pembeli@example.com" in receipt.body


def test_a_receipt_the_mail_server_refuses_leaves_the_payment_applied(
    gateway, order, reader, django_capture_on_commit_callbacks, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("the mail server is away")

    monkeypatch.setattr("payments.emails.send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        settle(gateway, order)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and Entitlement.objects.get().user == reader


def test_a_nul_in_a_field_is_logged_without_it(gateway, client):
    """PostgreSQL's text holds no NUL: the log keeps the rest, and the answer is not a 500."""
    body = b'{"order_id": "sim-a\\u0000b", "status_code": "200", "gross_amount": "1.00",'
    body += b' "signature_key": "00", "transaction_status": "settle\\u0000ment"}'
    response = post(client, body)
    assert response.status_code == 403
    entry = Notification.objects.get()
    assert entry.sent_order_id == "sim-a\ufffdb" and entry.transaction_status == "settle\ufffdment"
