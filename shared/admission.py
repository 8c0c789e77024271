"""Past `limit` requests in flight, more are refused at once with 503 and Retry-After:
beyond a peak the service can absorb, shedding keeps every answer quick (clients retry,
action ids make retries count once) instead of queueing without bound.

Requests without an API key may take only part of the limit: a crowd of anonymous callers
(or one client opening many slow requests) fills its share, and partners with keys still
get in. A request counts as keyed when it carries `X-API-Key`; a wrong key is refused
(401) before its body is read, so pretending to have one does not hold a keyed slot.

A service may add fields to the 503 it sheds with (`name_shed`): intake names the refused
actions' ids there, as every 503 of its action routes must (contract v2)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.http import problem

OPERATIONAL = ("/healthz", "/readyz", "/metrics")
# The fields a service adds to the body of a shed request's 503 (read from the request).
ShedFields = Callable[[Scope, Receive], Awaitable[dict[str, Any]]]


async def no_fields(scope: Scope, receive: Receive) -> dict[str, Any]:
    return {}


class Admission:
    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        keyed_share: float,
        retry_after_s: int = 1,
        exempt: Collection[str] = OPERATIONAL,
        on_shed: Callable[[], None] = lambda: None,
        exempt_endings: tuple[str, ...] = (),
        name_shed: ShedFields = no_fields,
    ) -> None:
        self.app = app
        self.limit = limit  # 0 = no cap
        self.anonymous_limit = limit - math.ceil(limit * keyed_share)
        self.retry_after_s = retry_after_s
        self.exempt = frozenset(exempt)  # paths never refused here: health, long streams
        self.exempt_endings = exempt_endings  # paths with an id inside: per-case streams
        self.on_shed = on_shed
        self.name_shed = name_shed
        self.in_flight = 0
        self.anonymous = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not self.limit
            or path in self.exempt
            or path.endswith(self.exempt_endings)
        ):
            await self.app(scope, receive, send)
            return
        keyed = is_keyed(scope)
        if not self.admit(keyed):
            await self.shed(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.release(keyed)

    def admit(self, keyed: bool) -> bool:
        """Take a slot for a request (keyed: it carries X-API-Key); False when it is to be
        shed. Every admitted request is released once answered."""
        if self.limit and (
            self.in_flight >= self.limit or (not keyed and self.anonymous >= self.anonymous_limit)
        ):
            return False
        self.in_flight += 1
        self.anonymous += not keyed
        return True

    def release(self, keyed: bool) -> None:
        self.in_flight -= 1
        self.anonymous -= not keyed

    async def shed(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.on_shed()
        fields = await self.name_shed(scope, receive)
        shed = problem(
            503, "Overloaded", "nothing was accepted", retry_after=self.retry_after_s, **fields
        )
        await shed(scope, receive, send)


def is_keyed(scope: Scope) -> bool:
    return any(name == b"x-api-key" for name, _ in scope["headers"])
