"""A real HTTP receiver (uvicorn) and a real SMTP server (aiosmtpd) for transmission tests."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.message
import email.policy
import hashlib
import hmac
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.delivery.helpers import free_port, start_uvicorn


@dataclass
class WebhookReceiver:
    secret: bytes
    fail_first: int = 0
    hold: asyncio.Event | None = None  # when set up, requests wait for it before answering
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-plume-signature", ""), expected):
            self.bad_signatures += 1
            return Response(status_code=401)
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_first > 0:
            self.fail_first -= 1
            return Response(status_code=503)
        form, files = parse_multipart(request.headers["content-type"], body)
        self.deliveries.append(
            {"key": request.headers["idempotency-key"], "form": form, "files": files}
        )
        return Response(status_code=204)

    def distinct(self) -> dict[str, dict[str, Any]]:
        """What a receiver that honours Idempotency-Key keeps: one per dossier."""
        return {d["key"]: d for d in self.deliveries}


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Fields and files of a multipart/form-data body (the stdlib MIME parser reads it)."""
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    message = email.message_from_bytes(raw, policy=email.policy.HTTP)
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        if part.get_filename():
            files[name] = payload
        else:
            form[name] = payload.decode()
    return form, files


@contextlib.asynccontextmanager
async def webhook_receiver(secret: bytes, **options: Any) -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret, **options)
    port = free_port()
    receiver.url = f"http://127.0.0.1:{port}/dossiers"
    app = Starlette(routes=[Route("/dossiers", receiver.handle, methods=["POST"])])
    server, task = await start_uvicorn(app, port)
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.should_exit = True
        await task


class Mailbox:
    """Keeps every message; with `hold`, answers DATA only once the test releases it
    (the server runs in its own thread, hence threading events)."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.hold = hold
        self.arrived = threading.Event()
        self.data_calls = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        self.arrived.set()
        if self.hold is not None:
            await asyncio.to_thread(self.hold.wait)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.messages.append(message)
        return "250 OK"


@contextlib.contextmanager
def smtp_server(hold: threading.Event | None = None) -> Any:
    mailbox = Mailbox(hold)
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        if hold is not None:
            hold.set()
        controller.stop()
