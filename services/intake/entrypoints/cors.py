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
        if scope["type"] == "http" and all(name != b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, partial(_varying_by_origin, send))
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        headers = {k: v for k, v in answer.headers.items() if k not in DROPPED}
        detail = bytes(answer.body).decode()  # "Disallowed CORS origin, method"
        return problem(answer.status_code, "CORS preflight refused", detail, headers=headers)


async def _varying_by_origin(send: Send, message: Message) -> None:
    """`send`, with `Origin` added to the answer's Vary as Starlette's CORS does it: the
    values of every Vary header joined into the first, the others dropped."""
    if message["type"] == "http.response.start":
        headers = message["headers"] = list(message.get("headers", []))
        at = [i for i, (name, _) in enumerate(headers) if name == b"vary"]
        joined = b", ".join([*(headers[i][1] for i in at), b"Origin"])
        if at:
            headers[at[0]] = (headers[at[0]][0], joined)
            for i in reversed(at[1:]):
                del headers[i]
        else:
            headers.append((b"vary", joined))
    await send(message)
