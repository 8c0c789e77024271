"""Reading a request the careful way: content type first, then the body, refused as soon
as it passes its size limit (never buffered whole before checking); and `Refusal`, how
any step refuses a request."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shared.http import problem

SINGLE_LIMIT = 64 * 1024
BATCH_LIMIT = 4 * 1024 * 1024


class Refusal(Exception):
    """Raised anywhere while answering a request: it is answered with this problem+json
    (shared.http.problem's arguments; `extra` may still gain fields, e.g. the action id)."""

    def __init__(self, status: int, title: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(status, title)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra

    def response(self) -> Response:
        return problem(self.status, self.title, self.detail, **self.extra)

    def naming(
        self, action_id: object = None, action_ids: list[str | None] | None = None
    ) -> Refusal:
        """This refusal naming the ids of the actions it refuses, the one way every 503
        does (contract v2): the client retries with them and each counts once."""
        if action_id is not None:  # a single action's (the client's, or one assigned)
            self.extra["action_id"] = str(action_id)
        if action_ids is not None:  # a batch's, item by item (None: no id for that item)
            self.extra["action_ids"] = action_ids
        return self

    @property
    def names_actions(self) -> bool:
        return "action_id" in self.extra or "action_ids" in self.extra


def require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise Refusal(415, "Unsupported media type", "send application/json")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's own cache: a second read (see refusals) gets it again
    return body


def announced_size(request: Request, limit: int) -> int:
    """The body's size as its Content-Length says (capped at `limit`), or `limit`."""
    declared = request.headers.get("content-length", "")
    return min(int(declared), limit) if declared.isdigit() else limit


def _too_large(limit: int) -> Refusal:
    return Refusal(413, "Body too large", f"at most {limit} bytes")
