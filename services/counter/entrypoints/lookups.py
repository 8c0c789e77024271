"""`GET /v1/actions/{action_id}` (contract v2): a partner asks what became of one of its
own actions. Keys are checked as intake checks them (shared.listening_keys: held in
memory, revocations followed); an action that is not the caller's reads as `unknown`,
exactly like one never seen (domain/lookups.py), so the answer reveals nothing else."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
import orjson
from fastapi import APIRouter, Header
from starlette.responses import Response

from services.counter.adapters.pg_ledger import PostgresLedger
from services.counter.entrypoints.views import timestamp
from services.counter.service import look_up_action
from shared.apikeys import Scope
from shared.http import problem
from shared.listening_keys import ListeningKeyStore

UNAVAILABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)
RETRY_AFTER_S = 1


def lookup_routes(pool: asyncpg.Pool, schema: str, keys: ListeningKeyStore) -> APIRouter:
    router = APIRouter()

    @router.get("/v1/actions/{action_id}")
    async def action_status(
        action_id: UUID, x_api_key: Annotated[str | None, Header()] = None
    ) -> Response:
        """What became of an action sent through this key: `counted`, `duplicate` (a
        supporter's second signature of the case), `invalidated`, or `unknown`."""
        if not x_api_key:
            return problem(401, "API key required", "send it in the X-API-Key header")
        try:
            key = await keys.find(x_api_key)
            if key is None:
                return problem(401, "Unknown or revoked API key")
            if not key.allows(Scope.ACTIONS_WRITE):
                return problem(403, "Missing scope", "this needs a key with actions:write")
            async with pool.acquire(timeout=2) as conn:
                found = await look_up_action(PostgresLedger(conn, schema), action_id, key.name)
        except UNAVAILABLE:
            return problem(503, "PostgreSQL cannot answer now", retry_after=RETRY_AFTER_S)
        body = {
            "action_id": str(found.action_id),
            "case_id": found.case_id,
            "status": found.status.value,
            "counted_at": timestamp(found.counted_at),
        }
        # one key's answer: never kept by a shared cache
        return Response(
            orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
        )

    return router
