"""Real receivers for the alerts the tests send: a webhook (HTTP on 127.0.0.1) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebhookSink(http.server.ThreadingHTTPServer):
    """A webhook that keeps the JSON it was POSTed, in `received`."""

    def __init__(self):
        self.received: list[dict] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                sink.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class MailSink:
    """An SMTP server without authentication that keeps (recipients, parsed message) in `messages`; stop() it."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                sink.messages.append((list(envelope.rcpt_tos),
                                      email.message_from_bytes(envelope.content, policy=email.policy.default)))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for _, message in self.messages]

    @property
    def connection(self) -> str:
        """The alert_smtp connection (AIRFLOW_CONN_ALERT_SMTP) that reaches this server."""
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port,
                           "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.org"}})

    def stop(self) -> None:
        self.controller.stop()
