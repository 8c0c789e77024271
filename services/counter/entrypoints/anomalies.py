"""Abuse detection at work: every `anomaly_check_s` the detector judges the rates it was
fed after each committed batch, the waves it finds are flagged in PostgreSQL, and the
gauge shows the flags of every counter process. `GET /v1/anomalies` lists them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from services.counter import metrics
from services.counter.adapters.pg_anomalies import PostgresAnomalies
from services.counter.domain.waves import KINDS, WaveDetector
from services.counter.entrypoints.views import timestamp


async def watch_waves(
    detector: WaveDetector,
    flags: PostgresAnomalies,
    every_s: float,
    keep_s: float,
    stop: asyncio.Event,
) -> None:
    """Judge, flag, and show the flags in the gauge, until `stop`."""
    forgotten: dict[tuple[str, str, str], datetime] = {}
    shown: set[tuple[str, str]] = set()
    while not stop.is_set():
        judged_at = datetime.now(UTC)
        resolved = await flags.resolved(keep_s)
        for key, when in resolved.items():
            if forgotten.get(key) != when:  # invalidated since: judge what comes anew
                detector.forget(*key)
        forgotten = resolved
        await flags.record(detector.waves(time.time()), judged_at)
        shown = show(await flags.active(keep_s), shown)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def show(active: list[dict[str, Any]], shown: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Set the gauge of every case and kind with flags, and to zero those `shown` before
    that have none now; the labels shown now."""
    counts: dict[tuple[str, str], int] = {}
    for flag in active:
        key = (flag["case_id"], flag["kind"])
        counts[key] = counts.get(key, 0) + 1
    for case_id, kind in shown | set(counts):
        metrics.ANOMALIES_ACTIVE.labels(case_id, kind).set(counts.get((case_id, kind), 0))
    return shown | set(counts)


def anomaly_routes(flags: PostgresAnomalies, keep_s: float) -> APIRouter:
    router = APIRouter()

    @router.get("/v1/anomalies")
    async def anomalies() -> Response:
        """Waves flagged and not resolved (README "Abuse detection"): hashes and counts
        only, never a network, a domain or an address."""
        body = {"kinds": list(KINDS), "anomalies": [_shown(f) for f in await flags.active(keep_s)]}
        return Response(orjson.dumps(body), media_type="application/json")

    return router


def _shown(flag: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": flag["case_id"],
        "kind": flag["kind"],
        "key": flag["key"],
        "window_actions": flag["window_actions"],
        "usual_actions": flag["usual_actions"],
        "peak_actions": flag["peak_actions"],
        "flagged_at": timestamp(flag["flagged_at"]),
        "last_seen_at": timestamp(flag["last_seen_at"]),
    }
