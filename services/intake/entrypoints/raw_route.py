"""A FastAPI route that is documented like any other (schemas, responses in /openapi.json)
but answered by its endpoint directly: the endpoint reads the raw request itself, so the
per-request dependency solving FastAPI would do for it is skipped on the hot path."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class RawRoute(APIRoute):
    def get_route_handler(self) -> Endpoint:
        return cast(Endpoint, self.endpoint)
