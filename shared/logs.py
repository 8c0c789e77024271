"""JSON-lines logging. Log calls pass ids and counts only; never a name, email or key."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        line.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class RepeatLimiter(logging.Filter):
    """Lets the same message through at most once per `interval` seconds and says how many
    were held back. aiokafka logs every failed reconnect, thousands a second while Kafka
    is down, which would bury everything else in the log."""

    def __init__(
        self, interval: float = 10.0, loggers: tuple[str, ...] = ("aiokafka", "asyncpg")
    ) -> None:
        super().__init__()
        self.interval = interval
        self.loggers = loggers  # only these chatter; our own lines all go through
        self.seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.loggers):
            return True
        key = (record.name, record.levelno, str(record.msg))
        last, held = self.seen.get(key, (0.0, 0))
        if record.created - last < self.interval:
            self.seen[key] = (last, held + 1)
            return False
        if held:
            record.repeated = held  # shown as a field: how many were held back
        self.seen[key] = (record.created, 0)
        if len(self.seen) > 1_000:
            self.seen.clear()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RepeatLimiter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Traceable(Protocol):
    @property
    def action_id(self) -> Any: ...
    @property
    def case_id(self) -> str: ...
    @property
    def request_id(self) -> str | None: ...


def trace_fields(action: Traceable) -> dict[str, object]:
    """The ids that follow one action through intake, counter and delivery: never a name,
    an email or a message."""
    return {
        "request_id": action.request_id,
        "action_id": str(action.action_id),
        "case_id": action.case_id,
    }
