"""Starlette's CORS for the configured origins, with a refused preflight answered as
problem+json like every other error (Starlette answers it in plain text), and requests
without an Origin (servers, partners' scripts: most of a peak's traffic) passed through with
only the `Vary: Origin` Starlette would add, without its per-request header parsing (a few %
of a single POST's CPU in intake's profile)."""

from __future__ import annotations

from functools import partial

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from shared.http import problem

DROPPED = {"content-type", "content-length"}  # the plain text answer's own


class ProblemCORSMiddleware(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _has_origin(scope):
            await self.app(scope, receive, partial(_varying_by_origin, send))
            return
        await super().__call__(scope, receive, send)

    async def start_answer(self, scope: Scope, start: Message, send: Send) -> None:
        """Send the start of an answer to a request other than a preflight, with the headers
        this layer adds to it: for an app in front of this layer that answers some requests
        itself (intake's fast path)."""
        if _has_origin(scope):
            await self.send(start, send, Headers(scope=scope))
            return
        vary_by_origin(start.setdefault("headers", []))
        await send(start)

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        headers = {k: v for k, v in answer.headers.items() if k not in DROPPED}
        detail = bytes(answer.body).decode()  # "Disallowed CORS origin, method"
        return problem(answer.status_code, "CORS preflight refused", detail, headers=headers)


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])


async def _varying_by_origin(send: Send, message: Message) -> None:
    if message["type"] == "http.response.start":
        message["headers"] = list(message.get("headers", []))
        vary_by_origin(message["headers"])
    await send(message)


def vary_by_origin(headers: list[tuple[bytes, bytes]]) -> None:
    """`Origin` added to an answer's Vary as Starlette's CORS does it: the values of every
    Vary header joined into the first, the others dropped."""
    at = [i for i, (name, _) in enumerate(headers) if name == b"vary"]
    joined = b", ".join([*(headers[i][1] for i in at), b"Origin"])
    if at:
        headers[at[0]] = (headers[at[0]][0], joined)
        for i in reversed(at[1:]):
            del headers[i]
    else:
        headers.append((b"vary", joined))
