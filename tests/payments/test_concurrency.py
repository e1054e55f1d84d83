"""Twenty identical settlement notifications at the same moment issue exactly one PIN."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from access.models import AccessPin, Entitlement, RedemptionAttempt
from payments.models import Notification, Order
from tests.payments.flows import notify_url, start_order
from tests.postgres import require_postgres

PARALLEL = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_settlements_issue_one_pin(gateway, premium, reader_client):
    require_postgres()
    order = start_order(reader_client, premium)
    gateway.post = lambda url, payload: None  # the notifications are sent below, all at once
    body = json.dumps(gateway.change(order.order_id, "settlement", payment_type="qris"))
    barrier = threading.Barrier(PARALLEL)
    statuses, errors = [], []

    def send():
        try:
            client = Client()
            barrier.wait()
            response = client.post(notify_url(), body, content_type="application/json")
            statuses.append(response.status_code)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and statuses == [200] * PARALLEL
    assert AccessPin.objects.count() == 1 and Entitlement.objects.count() == 1
    assert RedemptionAttempt.objects.count() == 1
    assert Order.objects.get().status == Order.Status.PAID
    outcomes = list(Notification.objects.values_list("outcome", flat=True))
    assert outcomes.count("applied") == 1 and outcomes.count("unchanged") == PARALLEL - 1
