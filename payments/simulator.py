"""A stand-in for Midtrans that speaks the part of its HTTP API this site uses, for development
and tests: nothing here imports Django, and it is reached over real HTTP by the real client.

- POST {snap}/transactions (Snap's create transaction): Basic auth with the server key, as
  Midtrans checks it; answers 201 with `token` and `redirect_url`.
- GET the `redirect_url`: a payment page with "Pay by QRIS", "Pay by GoPay", "Fail" and "Let
  it expire" buttons. Each sends the signed HTTP notification (SHA512 of order_id, status_code,
  gross_amount and the server key) to the address given in X-Override-Notification, then
  returns the reader to `callbacks.finish` with ?order_id=…&status_code=…&transaction_status=….
- GET {api}/v2/<order_id>/status: the transaction as Midtrans' status API answers (404 while
  no payment was chosen, as Snap does).
- POST {api}/v2/<order_id>/refund, /cancel and /expire; GET / lists the transactions, with
  refund and chargeback buttons for the paid ones (what Midtrans' dashboard does).

Status codes follow Midtrans: 200 settled (and refunds, cancels), 201 pending, 202 denied,
407 expired. Run it with `manage.py simulate_gateway` (make run does), or in-process with
`Simulator(server_key).serve(port)`.
"""

import base64
import hashlib
import hmac
import html
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ORDER_ID = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")  # Midtrans' allowed symbols, 50 at most
STATUS_CODES = {
    "settlement": "200",
    "capture": "200",
    "refund": "200",
    "partial_refund": "200",
    "chargeback": "200",
    "cancel": "200",
    "pending": "201",
    "deny": "202",
    "expire": "407",
}
MAX_BODY = 64 * 1024
NOTIFY_TIMEOUT = 15  # Midtrans waits this long for a notification's answer


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    text = f"{order_id}{status_code}{gross_amount}{server_key}"
    return hashlib.sha512(text.encode()).hexdigest()


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


class Simulator:
    """The transactions, and the notifications sent about them. `retry_delays`: how long to
    wait before sending a notification again when the site did not answer 2xx (Midtrans waits
    minutes; these are seconds). `post(url, payload)`: how a notification is sent and the HTTP
    status it got (None: no answer); by default an HTTP POST."""

    def __init__(self, server_key: str, *, retry_delays=(2, 10, 30), post=None):
        self.server_key = server_key
        self.retry_delays = tuple(retry_delays)
        self.post = post or self.http_post
        self.lock = threading.Lock()
        self.transactions: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}
        self.sent: list[tuple[str, dict, int | None]] = []  # (url, body, HTTP status)
        self.server: ThreadingHTTPServer | None = None

    # Serving -------------------------------------------------------------------------------
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
        """Start answering on host:port (0: a free one) in a thread; returns the server."""
        handler = type("Handler", (_Handler,), {"simulator": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # The API ---------------------------------------------------------------------------------
    def create(self, body: dict, notify_urls: list[str], base: str) -> tuple[int, dict]:
        details = body.get("transaction_details") if isinstance(body, dict) else None
        if not isinstance(details, dict):
            return 400, {"error_messages": ["transaction_details is required"]}
        order_id, amount = details.get("order_id"), details.get("gross_amount")
        errors = []
        if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
            errors.append("transaction_details.order_id is invalid")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
            errors.append("transaction_details.gross_amount must be a whole number above 0")
        if errors:
            return 400, {"error_messages": errors}
        with self.lock:
            if order_id in self.transactions:
                return 400, {"error_messages": ["transaction_details.order_id has been taken"]}
            token = str(uuid.uuid4())
            items = body.get("item_details") or [{}]
            expiry = body.get("expiry") or {}
            self.transactions[order_id] = {
                "order_id": order_id,
                "gross_amount": f"{amount}.00",
                "amount": amount,
                "currency": "IDR",
                "token": token,
                "name": str(items[0].get("name", ""))[:50],
                "email": str((body.get("customer_details") or {}).get("email", "")),
                "finish": str((body.get("callbacks") or {}).get("finish", "")),
                "notify": notify_urls,
                "minutes": int(expiry.get("duration") or 24 * 60),
                "created": time.time(),
                "status": None,  # no payment chosen yet
            }
            self.tokens[token] = order_id
        return 201, {"token": token, "redirect_url": f"{base}/snap/v2/vtweb/{token}"}

    def status(self, order_id: str) -> tuple[int, dict]:
        with self.lock:
            txn = self.transactions.get(order_id)
            if txn is None or txn["status"] is None:
                return 404, {"status_code": "404", "status_message": "Transaction doesn't exist."}
            return 200, {**self._payload(txn), "status_message": "Success, transaction is found"}

    def pay(self, order_id: str, action: str) -> dict:
        """The reader's choice on the payment page: qris, gopay, fail or expire."""
        payment_type = {"qris": "qris", "gopay": "gopay"}.get(action, "qris")
        status = {"fail": "deny", "expire": "expire"}.get(action, "settlement")
        return self.change(order_id, status, payment_type=payment_type)

    def change(self, order_id: str, status: str, *, payment_type: str | None = None, **extra):
        """Set a transaction's status and notify the site, as Midtrans does on every change."""
        with self.lock:
            txn = self.transactions[order_id]
            txn["status"] = status
            txn.setdefault("transaction_id", str(uuid.uuid4()))
            txn.setdefault("transaction_time", now_text())
            if payment_type:
                txn["payment_type"] = payment_type
            if status == "settlement":
                txn["settlement_time"] = now_text()
            txn.update(extra)
            payload = self._payload(txn)
        self.notify(txn["notify"], payload)
        return payload

    def refund(self, order_id: str, body: dict) -> tuple[int, dict]:
        with self.lock:
            txn = self.transactions.get(order_id)
            if txn is None or txn["status"] is None:
                return 404, {"status_code": "404", "status_message": "Transaction doesn't exist."}
            if txn["status"] not in ("settlement", "partial_refund"):
                return 412, {
                    "status_code": "412",
                    "status_message": "Merchant cannot modify the status of the transaction",
                }
            amount = body.get("amount", txn["amount"]) if isinstance(body, dict) else txn["amount"]
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                return 400, {"status_code": "400", "status_message": "amount is invalid"}
        status = "refund" if amount >= txn["amount"] else "partial_refund"
        payload = self.change(
            order_id,
            status,
            refund_amount=f"{amount}.00",
            refund_key=str((body or {}).get("refund_key", uuid.uuid4())),
        )
        return 200, {**payload, "status_message": "Success, refund request is approved"}

    def cancel_or_expire(self, order_id: str, status: str) -> tuple[int, dict]:
        with self.lock:
            txn = self.transactions.get(order_id)
            if txn is None:
                return 404, {"status_code": "404", "status_message": "Transaction doesn't exist."}
            if txn["status"] not in (None, "pending"):
                return 412, {
                    "status_code": "412",
                    "status_message": "Merchant cannot modify the status of the transaction",
                }
        return 200, self.change(order_id, status)

    def _payload(self, txn: dict) -> dict:
        """The transaction as notifications and the status API carry it (lock held)."""
        status = txn["status"]
        code = STATUS_CODES.get(status, "200")
        payload = {
            "transaction_time": txn.get("transaction_time", now_text()),
            "transaction_status": status,
            "transaction_id": txn.get("transaction_id", ""),
            "status_message": "midtrans payment notification",
            "status_code": code,
            "signature_key": signature(txn["order_id"], code, txn["gross_amount"], self.server_key),
            "payment_type": txn.get("payment_type", "qris"),
            "order_id": txn["order_id"],
            "merchant_id": "G-SIMULATOR",
            "gross_amount": txn["gross_amount"],
            "fraud_status": "accept",
            "currency": txn["currency"],
        }
        if payload["payment_type"] == "qris":
            payload.update({"transaction_type": "on-us", "issuer": "gopay", "acquirer": "gopay"})
        for key in ("settlement_time", "refund_amount", "refund_key"):
            if key in txn:
                payload[key] = txn[key]
        return payload

    # Notifications -----------------------------------------------------------------------------
    def notify(self, urls: list[str], payload: dict) -> None:
        """POST the notification to each address now; those not answering 2xx get it again
        after each of `retry_delays`, in the background."""
        for url in urls:
            if not self._send(url, payload) and self.retry_delays:
                threading.Thread(target=self._retry, args=(url, payload), daemon=True).start()

    def _retry(self, url: str, payload: dict) -> None:
        for delay in self.retry_delays:
            time.sleep(delay)
            if self._send(url, payload):
                return

    def _send(self, url: str, payload: dict) -> bool:
        status = self.post(url, payload)
        with self.lock:
            self.sent.append((url, payload, status))
        return status is not None and 200 <= status < 300

    @staticmethod
    def http_post(url: str, payload: dict) -> int | None:
        request = urllib.request.Request(  # noqa: S310 (the site's own address, http or https)
            url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "User-Agent": "Veritrans"},
            method="POST",
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError):
            status = None
        return status


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    server_version = "MidtransSimulator/1"

    def log_message(self, format, *args):  # quiet: the site's own log says what happened
        pass

    # Plumbing ------------------------------------------------------------------------------
    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _html(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY))

    def _authorised(self) -> bool:
        """Basic auth: the server key as the user name, no password (as Midtrans checks)."""
        expected = base64.b64encode(f"{self.simulator.server_key}:".encode()).decode()
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Basic {expected}".encode()):
            return True
        self._json(401, {"status_code": "401", "error_messages": [
            "Access denied due to unauthorized transaction, please check client or server key"
        ]})  # fmt: skip
        return False

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{self.headers.get('Host') or f'{host}:{port}'}"

    # Routes ----------------------------------------------------------------------------------
    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if match := re.fullmatch(r"/v2/([^/]+)/status", path):
            if self._authorised():
                self._json(*self.simulator.status(urllib.parse.unquote(match[1])))
        elif match := re.fullmatch(r"/snap/v2/vtweb/([0-9a-f-]+)", path):
            self._payment_page(match[1])
        elif path == "/":
            self._dashboard()
        else:
            self._json(404, {"status_code": "404", "status_message": "Not found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/snap/v1/transactions":
            if self._authorised():
                self._create()
        elif match := re.fullmatch(r"/v2/([^/]+)/(refund|cancel|expire)", path):
            if self._authorised():
                self._action(urllib.parse.unquote(match[1]), match[2])
        elif match := re.fullmatch(r"/snap/v2/vtweb/([0-9a-f-]+)", path):
            self._paid(match[1])
        elif match := re.fullmatch(r"/dashboard/([^/]+)/(refund|chargeback)", path):
            self._dashboard_action(urllib.parse.unquote(match[1]), match[2])
        else:
            self._json(404, {"status_code": "404", "status_message": "Not found"})

    def _create(self):
        try:
            body = json.loads(self._body() or b"{}")
        except ValueError:
            self._json(400, {"error_messages": ["the body is not JSON"]})
            return
        notify = self.headers.get("X-Override-Notification", "")
        urls = [u.strip() for u in notify.split(",") if u.strip()][:3]
        self._json(*self.simulator.create(body, urls, self._base()))

    def _action(self, order_id: str, action: str):
        if action == "refund":
            try:
                body = json.loads(self._body() or b"{}")
            except ValueError:
                body = {}
            self._json(*self.simulator.refund(order_id, body))
        else:
            self._json(*self.simulator.cancel_or_expire(order_id, action))

    def _transaction_for(self, token: str) -> dict | None:
        with self.simulator.lock:
            order_id = self.simulator.tokens.get(token)
            return dict(self.simulator.transactions[order_id]) if order_id else None

    def _payment_page(self, token: str):
        txn = self._transaction_for(token)
        if txn is None:
            self._html(404, _page("Not found", "<p>This payment page does not exist.</p>"))
            return
        if txn["status"] not in (None, "pending"):
            self._html(200, _page("Payment", f"<p>This payment is {html.escape(txn['status'])}."
                                  f"</p>{_back(txn)}"))  # fmt: skip
            return
        buttons = "".join(
            f'<button name="action" value="{value}" class="{style}">{label}</button>'
            for value, label, style in (
                ("qris", "Pay by QRIS", "primary"),
                ("gopay", "Pay by GoPay", ""),
                ("fail", "Fail (payment denied)", ""),
                ("expire", "Let it expire", ""),
            )
        )
        body = (
            f"<p class=item>{html.escape(txn['name'])}</p>"
            f"<p class=amount>{rupiah(txn['amount'])}</p>"
            f"<p class=meta>Order {html.escape(txn['order_id'])}<br>{html.escape(txn['email'])}"
            f"<br>Can be paid for {txn['minutes']} minutes</p>"
            f'<form method="post">{buttons}</form>'
        )
        self._html(200, _page("Pay", body))

    def _paid(self, token: str):
        txn = self._transaction_for(token)
        if txn is None or txn["status"] not in (None, "pending"):
            self._html(409, _page("Payment", "<p>This payment cannot be changed.</p>"))
            return
        form = urllib.parse.parse_qs(self._body().decode("utf-8", "replace"))
        action = (form.get("action") or ["qris"])[0]
        payload = self.simulator.pay(txn["order_id"], action)
        if txn["finish"]:
            query = urllib.parse.urlencode({
                "order_id": txn["order_id"],
                "status_code": payload["status_code"],
                "transaction_status": payload["transaction_status"],
            })  # fmt: skip
            separator = "&" if "?" in txn["finish"] else "?"
            self._redirect(f"{txn['finish']}{separator}{query}")
        else:
            self._html(200, _page("Payment", f"<p>{html.escape(payload['transaction_status'])}"))

    def _dashboard(self):
        with self.simulator.lock:
            rows = [dict(t) for t in self.simulator.transactions.values()]
        items = "".join(
            f'<li><a href="/snap/v2/vtweb/{t["token"]}">{html.escape(t["order_id"])}</a> '
            f"{rupiah(t['amount'])} · {html.escape(t['status'] or 'no payment chosen')}"
            + (
                "".join(
                    f'<form method="post" action="/dashboard/{html.escape(t["order_id"])}/{a}">'
                    f"<button>{a.capitalize()}</button></form>"
                    for a in ("refund", "chargeback")
                )
                if t["status"] == "settlement"
                else ""
            )
            + "</li>"
            for t in reversed(rows)
        )
        self._html(200, _page("Transactions", f"<ul>{items or '<li>None yet.</li>'}</ul>"))

    def _dashboard_action(self, order_id: str, action: str):
        with self.simulator.lock:
            known = self.simulator.transactions.get(order_id, {}).get("status") == "settlement"
        if known:
            if action == "refund":
                self.simulator.refund(order_id, {})
            else:
                self.simulator.change(order_id, "chargeback")
        self._redirect("/")


def _back(txn: dict) -> str:
    if not txn["finish"]:
        return ""
    return f'<p><a href="{html.escape(txn["finish"])}">Back to the shop</a></p>'


def _page(title: str, body: str) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>{html.escape(title)} · Payment simulator</title><style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}}
main{{max-width:26rem;margin:0 auto;padding:1.25rem}}
.banner{{background:#fff3cd;border:1px solid #e0c46c;border-radius:.5rem;padding:.5rem .75rem;
font-size:.875rem}}
.card{{background:#fff;border-radius:.75rem;padding:1.25rem;margin-top:1rem;
box-shadow:0 1px 3px #0002}}
.item{{margin:0;color:#4a5263}}.amount{{font-size:2rem;font-weight:700;margin:.25rem 0}}
.meta{{font-size:.875rem;color:#4a5263;word-break:break-all}}
button{{display:block;width:100%;min-height:48px;margin-top:.75rem;font:inherit;
border-radius:.5rem;border:1px solid #9aa3b5;background:#fff;color:inherit}}
button.primary{{background:#0b5fff;border-color:#0b5fff;color:#fff;font-weight:600}}
@media (prefers-color-scheme:dark){{body{{background:#14171d;color:#e8eaf0}}
.card{{background:#1f232b}}.item,.meta{{color:#b4bac7}}
button{{background:#1f232b;border-color:#5a6274}}.banner{{background:#3d3418;border-color:#7a6a2c}}}}
</style></head><body><main><p class="banner">Payment simulator: no money moves.
It answers as Midtrans would.</p><div class="card">{body}</div></main></body></html>"""
