"""JSON bodies of the read API, rendered once per change and served from memory."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from services.counter.adapters.snapshot import Snapshot
from shared.contracts.totals import CaseTotals


def timestamp(moment: datetime | None) -> str | None:
    """`2025-12-10T09:00:01.250Z`, the contract's form."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# What the read API shows of a case's totals: all but the message's envelope
# (`schema_version`) and `revision` (the ETag and the stream's event id carry it).
BODY_FIELDS = set(CaseTotals.model_fields) - {"schema_version", "revision"}


def totals_body(totals: CaseTotals) -> dict[str, Any]:
    body = totals.model_dump(include=BODY_FIELDS)
    body["updated_at"] = timestamp(totals.updated_at)  # the contract's form, to the ms
    return body


class Views:
    """Rendered bodies with their ETags, cached until a revision or the catalogue changes."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._cases: dict[str, tuple[int, bytes, str]] = {}
        self._all: tuple[object, bytes, str] | None = None
        self._events: dict[str, tuple[int, bytes]] = {}

    def case(self, case_id: str) -> tuple[bytes, str]:
        totals = self.snapshot.cases.get(case_id) or CaseTotals.zero(case_id)
        cached = self._cases.get(case_id)
        if cached is None or cached[0] != totals.revision:
            body = orjson.dumps(totals_body(totals))
            cached = (totals.revision, body, _etag(body))
            self._cases[case_id] = cached
        return cached[1], cached[2]

    def event(self, case_id: str) -> tuple[int, bytes]:
        """The case's latest totals as one Server-Sent Event and their revision: rendered
        once per revision for every open stream."""
        body, _ = self.case(case_id)
        revision = self._cases[case_id][0]
        cached = self._events.get(case_id)
        if cached is None or cached[0] != revision:
            head = b"event: totals\nid: %s.%d\ndata: " % (case_id.encode(), revision)
            cached = (revision, head + body + b"\n\n")
            self._events[case_id] = cached
        return cached

    def everything(self, known: Iterable[str]) -> tuple[bytes, str]:
        cases = sorted(set(known) | set(self.snapshot.cases))
        version = (self.snapshot.generation, tuple(cases))
        if self._all is None or self._all[0] != version:
            items = [totals_body(self.snapshot.cases.get(c) or CaseTotals.zero(c)) for c in cases]
            grand = sum(item["total"] for item in items)
            body = orjson.dumps({"total": grand, "cases": items})
            self._all = (version, body, _etag(body))
        return self._all[1], self._all[2]


def _etag(body: bytes) -> str:
    return f'"{zlib.crc32(body):08x}{len(body):x}"'
