"""Background loops of the delivery service. Each runs on its own, so a slow send or
render never holds up consuming or cutting; each survives errors and retries."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from services.delivery import handlers
from services.delivery.adapters import statuses
from services.delivery.adapters.rendering import Renderer
from services.delivery.bootstrap import Delivery
from services.delivery.handlers import Sender
from shared.loops import repeat

log = logging.getLogger(__name__)


def start_workers(d: Delivery, renderer: Renderer, senders: dict[str, Sender]) -> None:
    s = d.settings

    async def cut() -> int:
        if not d.catalog.loaded.is_set():
            return 0  # an open/closed status read halfway through the catalogue may be stale
        return len(await handlers.cut_due_cases(d.pool, d.cutter, d.catalog, d.policy))

    async def render() -> int:
        jobs = await renderer.unrendered()
        for job in jobs:
            await renderer.render(job)
        return len(jobs)

    async def send() -> int:
        lease = timedelta(seconds=s.send_lease_seconds)
        retry = (s.retry_base_seconds, s.retry_cap_seconds)
        return await handlers.transmit_due(d.ledger, senders, s.dossier_dir, lease, retry)

    async def publish() -> int:
        return await handlers.publish_events(d.ledger, d.producer, s.dossiers_topic)

    async def count_statuses() -> int:
        async with d.pool.acquire() as conn:
            statuses.export(await statuses.read_statuses(conn, s.db_schema))
        return 0

    loops = {
        "cut": (cut, s.cut_check_seconds),
        "render": (render, 0.2),
        "send": (send, s.send_check_seconds),
        "publish": (publish, 0.2),
        "statuses": (count_statuses, 5.0),
    }
    for name, (step, every) in loops.items():
        d.tasks.append(asyncio.create_task(repeat(name, step, every, d.stop), name=name))
