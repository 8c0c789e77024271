"""Starlette's CORS for the configured origins, with a refused preflight answered as
problem+json like every other error (Starlette answers it in plain text)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from shared.http import problem

DROPPED = {"content-type", "content-length"}  # the plain text answer's own


class ProblemCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        headers = {k: v for k, v in answer.headers.items() if k not in DROPPED}
        detail = bytes(answer.body).decode()  # "Disallowed CORS origin, method"
        return problem(answer.status_code, "CORS preflight refused", detail, headers=headers)
