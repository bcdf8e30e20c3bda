"""An SMTP sink for the local stack: a real SMTP server that keeps every message it receives.

Messages are written as `.eml` files (any mail client opens them) to a folder, listed by
`python -m devstack mail` and over HTTP (`GET /messages`), so tests and developers read the
same store.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from devstack.ports import ensure_port_free, free_port


class StoredMail(BaseModel):
    """One received message, as listed."""

    id: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    received_at: datetime
    text: str


class MailStore:
    """A folder of `.eml` files, one per received message, named so they sort by arrival."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def save(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> str:
        """Store one message with its envelope; returns its id."""
        self.directory.mkdir(parents=True, exist_ok=True)
        received = datetime.now(UTC)
        mail_id = f"{received:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        # The envelope travels in headers of our own so one file holds everything.
        envelope = (
            f"X-Devstack-Mail-From: {mail_from}\r\n"
            f"X-Devstack-Rcpt-To: {', '.join(rcpt_tos)}\r\n"
            f"X-Devstack-Received-At: {received.isoformat()}\r\n"
        ).encode()
        path = self.directory / f"{mail_id}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(envelope + content)
        partial.replace(path)  # readers never see half a message
        return mail_id

    def list(self) -> list[StoredMail]:
        """Every stored message, oldest first."""
        if not self.directory.exists():
            return []
        return [self._read(path) for path in sorted(self.directory.glob("*.eml"))]

    def get(self, mail_id: str) -> StoredMail | None:
        """One message by id, or None."""
        path = self.directory / f"{Path(mail_id).name}.eml"
        return self._read(path) if path.exists() else None

    def clear(self) -> int:
        """Delete every stored message; returns how many there were."""
        paths = list(self.directory.glob("*.eml")) if self.directory.exists() else []
        for path in paths:
            path.unlink(missing_ok=True)
        return len(paths)

    @staticmethod
    def _read(path: Path) -> StoredMail:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain", "html"))
        return StoredMail(
            id=path.stem,
            mail_from=str(message["X-Devstack-Mail-From"] or ""),
            rcpt_tos=[r.strip() for r in str(message["X-Devstack-Rcpt-To"] or "").split(",") if r],
            subject=str(message["Subject"] or ""),
            received_at=datetime.fromisoformat(str(message["X-Devstack-Received-At"])),
            text=body.get_content() if body is not None else "",
        )


class _StoringHandler:
    """aiosmtpd handler: accept every message and hand it to the store."""

    def __init__(self, store: MailStore) -> None:
        self._store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        self._store.save(envelope.mail_from, list(envelope.rcpt_tos), bytes(content))
        return "250 Message accepted for delivery"


class SmtpSink:
    """The SMTP server (aiosmtpd) on `host:port`, storing into `store`."""

    def __init__(self, store: MailStore, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.store = store
        self.host = host
        self.port = port
        self._controller: Any = None

    def start(self) -> SmtpSink:
        """Serve from aiosmtpd's own thread; returns once it answers."""
        from aiosmtpd.controller import Controller

        ensure_port_free(self.host, self.port, "smtp")
        if self.port == 0:
            # aiosmtpd checks readiness by connecting to its port, so it needs a real one.
            self.port = free_port(self.host)
        self._controller = Controller(
            _StoringHandler(self.store), hostname=self.host, port=self.port
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop serving; stored messages stay on disk."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def create_mail_api(store: MailStore) -> web.Application:
    """HTTP listing of the sink: GET /messages, GET /messages/{id}, DELETE /messages."""

    async def list_messages(request: web.Request) -> web.Response:
        return web.json_response([m.model_dump(mode="json") for m in store.list()])

    async def get_message(request: web.Request) -> web.Response:
        mail = store.get(request.match_info["mail_id"])
        if mail is None:
            return web.json_response({"error": "no such message"}, status=404)
        return web.json_response(mail.model_dump(mode="json"))

    async def clear_messages(request: web.Request) -> web.Response:
        return web.json_response({"deleted": store.clear()})

    app = web.Application()
    app.router.add_get("/messages", list_messages)
    app.router.add_get("/messages/{mail_id}", get_message)
    app.router.add_delete("/messages", clear_messages)
    return app
