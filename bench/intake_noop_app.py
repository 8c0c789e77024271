"""The floor of the HTTP benchmarks: an ASGI app that reads the body and answers what
intake answers, doing nothing else; served by the same uvicorn settings as intake."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

ANSWER = b'{"action_id":"2b0f6c0e-5d1e-4a7a-9a51-0d6c2f1f9c11","status":"accepted"}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(ANSWER)).encode()),
    ]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": ANSWER})
