"""Transmission channels: email (SMTP, files attached) and webhook (HTTP POST, body
signed with HMAC-SHA256). Both carry the dossier id as an idempotency key
(Message-ID / Idempotency-Key) so a receiver can drop a repeat after a crash."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
from email.message import EmailMessage
from pathlib import Path

import httpx

from services.delivery.domain.ports import Outgoing, SendFailed

SIGNATURE_HEADER = "X-Plume-Signature"
MEDIA = {".csv": ("text", "csv"), ".pdf": ("application", "pdf")}


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class EmailSender:
    def __init__(self, host: str, port: int, sender: str, timeout: float) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    async def send(self, item: Outgoing, files: dict[str, Path]) -> None:
        # Reading the files and talking SMTP both block: done off the event loop.
        await asyncio.to_thread(self._send, item, files)

    def _send(self, item: Outgoing, files: dict[str, Path]) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = item.destination
        message["Subject"] = f"Dossier {item.case_id} ({item.kind}, {item.dossier_id})"
        message["Message-ID"] = f"<{item.dossier_id}@plume>"
        message.set_content(
            f"Dossier {item.dossier_id} for {item.target_id}. Files: {', '.join(files)}."
        )
        for name, path in files.items():
            maintype, subtype = MEDIA[path.suffix]
            message.add_attachment(
                path.read_bytes(), maintype=maintype, subtype=subtype, filename=name
            )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"smtp: {type(exc).__name__}") from exc


class WebhookSender:
    """`secret` None: every send fails (bootstrap refuses to start with webhook targets
    and no secret; a target added later fails here, visibly, until one is set)."""

    def __init__(self, secret: bytes | None, timeout: float) -> None:
        self.secret = secret
        self.client = httpx.AsyncClient(timeout=timeout)

    async def send(self, item: Outgoing, files: dict[str, Path]) -> None:
        if self.secret is None:
            raise SendFailed("webhook: PLUME_DELIVERY_WEBHOOK_SECRET is not set")
        request = self.client.build_request(
            "POST",
            item.destination,
            data={
                "dossier_id": str(item.dossier_id),
                "case_id": item.case_id,
                "target_id": item.target_id,
                "kind": item.kind,
            },
            files={name: (name, path.read_bytes()) for name, path in files.items()},
        )
        body = request.read()
        request.headers[SIGNATURE_HEADER] = sign(self.secret, body)
        request.headers["Idempotency-Key"] = str(item.dossier_id)
        try:
            response = await self.client.send(request)
        except httpx.HTTPError as exc:
            raise SendFailed(f"webhook: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise SendFailed(f"webhook: HTTP {response.status_code}")

    async def close(self) -> None:
        await self.client.aclose()
