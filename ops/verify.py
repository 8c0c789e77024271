"""The checks after a chaos run, from what the system shows: the counter's ledger and
totals, and the CSV files of the dossiers the delivery service cuts."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from ops.endpoints import Endpoints, local_infra
from ops.ledger import RequestLog
from ops.load import Outcome
from shared.topics import ACTIONS, spec_of
from tests.waiting import wait_until


@dataclass
class Verdict:
    requests: dict[str, int]
    faults_injected: int
    lost: int = 0
    duplicated: int = 0
    refused_counted: int = 0
    dossier_errors: list[str] = field(default_factory=list)
    fault_errors: list[str] = field(default_factory=list)  # a fault's own promise broken
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # every fault injected and every check made in time

    @property
    def clean(self) -> bool:
        violations = (
            self.lost
            or self.duplicated
            or self.refused_counted
            or self.dossier_errors
            or self.fault_errors
        )
        return self.complete and not violations

    def report(self) -> str:
        lines = [
            f"requests: {sum(self.requests.values()):,} ({_outcomes(self.requests)})",
            f"faults injected: {self.faults_injected}",
            *self.notes,
            f"lost: {self.lost}",
            f"duplicated: {self.duplicated}",
            f"refused but counted: {self.refused_counted}",
            f"dossier errors: {len(self.dossier_errors)}",
            *[f"  - {e}" for e in self.dossier_errors[:20]],
            f"fault errors: {len(self.fault_errors)}",
            *[f"  - {e}" for e in self.fault_errors],
            "verdict: " + ("CLEAN" if self.clean else "FAILED" if self.complete else "INCOMPLETE"),
        ]
        return "\n".join(lines)


def _outcomes(requests: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in requests.items())


async def caught_up(pool: asyncpg.Pool, schema: str, within: float = 180) -> None:
    """Until the service's stored positions reach the end of the actions topic."""
    infra = local_infra()
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(ACTIONS, p) for p in range(spec_of(ACTIONS).partitions)]
        end = sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()
    query = (
        f'SELECT coalesce(sum(next_offset), 0) FROM "{schema}".consumer_positions WHERE topic=$1'
    )
    await wait_until(lambda: pool.fetchval(query, ACTIONS), lambda done: done >= end, within)


async def verify(log: RequestLog, ends: Endpoints, delivery_key: str, verdict: Verdict) -> None:
    """Fill `verdict` from what the counter and delivery show of the run's actions."""
    pool = await asyncpg.create_pool(local_infra().database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await caught_up(pool, "counter")
        await caught_up(pool, "delivery")
        rows = await pool.fetch(
            "SELECT action_id::text AS id FROM counter.ledger "
            "WHERE case_id = $1 AND invalidated_at IS NULL",
            log.case_id,
        )
    finally:
        await pool.close()
    counted = {r["id"] for r in rows}
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(f"{ends.counter}/v1/cases/{log.case_id}/totals")
        total = answer.json()["total"]
        verdict.lost = len(log.ids(Outcome.OK) - counted)
        verdict.refused_counted = len(log.ids(Outcome.REFUSED) & counted)
        verdict.duplicated = max(0, total - len(counted))
        await check_dossiers(client, ends, delivery_key, log, verdict)


async def check_dossiers(
    client: httpx.AsyncClient, ends: Endpoints, key: str, log: RequestLog, verdict: Verdict
) -> None:
    headers = {"X-API-Key": key}
    cut = await client.post(f"{ends.delivery}/v1/cases/{log.case_id}/dossiers", headers=headers)
    if cut.status_code not in (200, 201):
        verdict.dossier_errors.append(f"cut answered HTTP {cut.status_code}")
        return
    listing = await client.get(
        f"{ends.delivery}/v1/dossiers", params={"case_id": log.case_id}, headers=headers
    )
    names_by_target: dict[str, Counter[str]] = {}
    for dossier in listing.json():
        if dossier.get("kind", "signatures") != "signatures":
            continue
        names = await dossier_names(client, ends, headers, dossier["id"])
        names_by_target.setdefault(dossier["target_id"], Counter()).update(names)
    for target in ("first-target", "second-target"):
        found = names_by_target.get(target, Counter())
        for sent in log.sent:
            seen = found.get(sent.name, 0)
            must = sent.consent and sent.outcome is Outcome.OK
            may = sent.consent and sent.outcome is Outcome.UNKNOWN
            if (must and seen != 1) or (may and seen > 1) or (not must and not may and seen):
                verdict.dossier_errors.append(
                    f"{target}: {sent.outcome.value} consent={sent.consent} found {seen}x"
                )


async def dossier_names(
    client: httpx.AsyncClient, ends: Endpoints, headers: dict[str, str], dossier_id: str
) -> list[str]:
    url = f"{ends.delivery}/v1/dossiers/{dossier_id}/signatures.csv"
    # Files are rendered in the background after the cut.
    answer = await wait_until(
        lambda: client.get(url, headers=headers), lambda got: got.status_code == 200, within=120
    )
    return [row["name"] for row in csv.DictReader(io.StringIO(answer.text))]
