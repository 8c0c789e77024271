"""A delivery service with one case cut into three rendered manual dossiers (one per
target), and keys to read and to write: what the console's tests start from."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from services.delivery.settings import DeliverySettings
from shared.apikeys import Scope
from tests.integration.delivery.helpers import case, new_key, publish, serving, signature, stored
from tests.waiting import wait_until

TARGETS = [
    {
        "id": f"target-{n}",
        "name": f"Minister {n}",
        "country": "TN",
        "language": "fr",
        "delivery": {"channel": "manual"},
    }
    for n in (1, 2, 3)
]
SIGNERS = [("Awa Diallo", "SN"), ("Иван Петров", "RU"), ("Léa Martin", "FR")]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class ConsoleStack:
    client: httpx.AsyncClient
    settings: DeliverySettings
    case_id: str
    writer: str  # a key with dossiers:read and dossiers:write
    reader: str  # dossiers:read only
    dossier_ids: list[str]  # oldest first

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF token in the page"
    return found.group(1)


@contextlib.asynccontextmanager
async def console_stack(settings: DeliverySettings) -> AsyncIterator[ConsoleStack]:
    case_id = "case-" + settings.db_schema[-10:]
    actions = [signature(case_id, f"k{i}", n, c) for i, (n, c) in enumerate(SIGNERS)]
    await publish(settings, [case(case_id, TARGETS)], actions)
    writer = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    reader = await new_key(settings, {Scope.DOSSIERS_READ})
    async with serving(settings) as client:
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == len(SIGNERS))
        headers = {"X-API-Key": writer}
        cut = await client.post(f"/v1/cases/{case_id}/dossiers", headers=headers)
        assert cut.status_code == 201, cut.text

        async def rendered() -> list[str]:
            listing = await client.get("/v1/dossiers", params={"case_id": case_id}, headers=headers)
            return [d["id"] for d in listing.json() if "signatures.csv" in d["sha256"]]

        ids = await wait_until(rendered, lambda ids: len(ids) == len(TARGETS), within=60)
        yield ConsoleStack(client, settings, case_id, writer, reader, ids)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    """The sign-in form as a browser fills it: its CSRF token, then the key in the body."""
    form = await client.get("/console/")
    return await client.post("/console/sign-in", data={"csrf": csrf_of(form.text), "key": key})
