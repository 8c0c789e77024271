"""Reading a request the careful way: content type first, then the body, refused as soon
as it passes its size limit (never buffered whole before checking)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from shared.http import problem

SINGLE_LIMIT = 64 * 1024
BATCH_LIMIT = 4 * 1024 * 1024


class Problem(Exception):
    """Raised anywhere while answering a request; becomes its problem+json answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise Problem(problem(415, "Unsupported media type", "send application/json"))


async def read_body(request: Request, limit: int) -> bytes:
    too_large = problem(413, "Body too large", f"at most {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(too_large)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's own cache: a second read (see refusals) gets it again
    return body
