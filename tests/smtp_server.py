"""A small SMTP server on 127.0.0.1 for tests and `make faults`: it keeps what it is sent, and
can be taken down (connections refused), hung (connections accepted, never answered) and
restored, as a real mail server or the path to it can be.

Enough SMTP for Django's backend without TLS: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
"""

import contextlib
import email
import email.policy
import socket
import socketserver
import threading
import time


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        owner: SMTPServer = self.server.owner
        if owner.mode == "hang":
            owner.held.append(self.connection)
            while owner.mode == "hang" and not owner.closed:
                time.sleep(0.05)
            return
        self.reply("220 test ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250-test" if verb == "EHLO" else "250 test")
                if verb == "EHLO":
                    self.reply("250 8BITMIME")
            elif verb == "MAIL":
                sender, recipients = command.partition(":")[2].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.partition(":")[2].strip(" <>")
                if address in owner.refused:
                    self.reply("550 No such mailbox")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                owner.messages.append((sender, recipients, self._data()))
                self.reply("250 OK: queued")
            elif verb in {"RSET", "NOOP"}:
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in {b".\r\n", b".\n", b""}:
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SMTPServer:
    """mode: "up" answers; `down()` closes the port (connections refused); `hang()` accepts
    connections and never answers; `restore()` answers again. `messages`: (sender,
    recipients, bytes as received) for every message accepted; `refused`: addresses answered
    550."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refused: set[str] = set()
        self.held: list[socket.socket] = []
        self.mode = "up"
        self.closed = False
        self._server = None
        self.port = 0
        self._start()

    def _start(self):
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def down(self):
        self.mode = "down"
        self._stop()

    def hang(self):
        self.mode = "hang"

    def restore(self):
        if self.mode == "down":
            self.mode = "up"
            self._start()
        self.mode = "up"
        held, self.held = self.held, []
        for connection in held:
            with contextlib.suppress(OSError):
                connection.close()

    def close(self):
        self.closed = True
        self._stop()

    def mailer(self, timeout: float = 2) -> dict:
        """MAILERS["default"] for Django's SMTP backend talking to this server."""
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": self.port,
                "use_tls": False,
                "timeout": timeout,
            },
        }

    def parsed(self) -> list[email.message.Message]:
        """Every message received, parsed by the standard library as written on the wire
        (headers exactly as sent, nothing decoded)."""
        return [
            email.message_from_bytes(data, policy=email.policy.compat32)
            for _, _, data in self.messages
        ]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
