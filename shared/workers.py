"""Several processes serving one port, each with a listening socket of its own
(SO_REUSEPORT): the kernel spreads new connections across them by hash. With uvicorn's
workers sharing one socket, whichever process wakes first accepts a whole burst of
connections, and a few keep-alive clients can all land on one process (measured: batch
throughput with two workers swung between 37,000 and 66,000 actions/s from run to run)."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, NoReturn

import uvicorn

from shared.logs import configure_logging

log = logging.getLogger(__name__)
STOP_GRACE_S = 10.0
_PR_SET_PDEATHSIG = 1


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    # A worker whose supervisor was killed (kill -9) must not keep serving the port
    # beside the supervisor's replacement.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _worker(factory: str, host: str, port: int, options: dict[str, Any]) -> None:
    _die_with_parent()
    config = uvicorn.Config(factory, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


# Run by the lean supervisor (see serve_workers): the path first, as spawn gives it to its
# children, then this module alone.
_LEAN_SUPERVISOR = (
    "import sys; sys.path[:] = sys.argv[2:]; "
    "from shared.workers import supervise_planned; supervise_planned(sys.argv[1])"
)


@dataclass(frozen=True)
class Plan:
    """What the supervisor needs: the workers' app `factory`, where they listen, how many,
    their uvicorn options, and its own logging."""

    factory: str
    host: str
    port: int
    count: int
    options: dict[str, Any]
    service: str
    log_level: str


def serve_workers(plan: Plan) -> NoReturn:
    """Run `plan.count` workers of the app `plan.factory` builds; stop them all on
    SIGTERM/SIGINT, and exit with the code of the first one that ends on its own.

    This process goes on as a new interpreter (same pid) importing this module alone: it
    only starts, watches and stops the workers, each a new interpreter building its own
    app, yet `plume serve` had imported the whole service into it (~50 MB of the three
    processes' summed memory)."""
    # Bound here first so that a port in use fails the supervisor at once, not each worker.
    listening_socket(plan.host, plan.port).close()
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-c", _LEAN_SUPERVISOR, pickle.dumps(plan).hex(), *sys.path]
    os.execv(sys.executable, argv)


def supervise_planned(plan_hex: str) -> None:
    plan: Plan = pickle.loads(bytes.fromhex(plan_hex))  # our own bytes, from serve_workers
    configure_logging(plan.service, plan.log_level)
    # prometheus_client's multiprocess mode: each worker writes its samples to files here
    # and /metrics sums them, so a scrape does not depend on which worker answers. The
    # workers are new interpreters: they read the variable before creating any metric.
    metrics_dir = tempfile.mkdtemp(prefix="plume-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _supervise(plan)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _supervise(plan: Plan) -> None:
    spawn = multiprocessing.get_context("spawn")
    args = (plan.factory, plan.host, plan.port, plan.options)
    workers = [
        spawn.Process(target=_worker, args=args, name=f"worker-{i}") for i in range(plan.count)
    ]
    for worker in workers:
        worker.start()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        wait([w.sentinel for w in workers])  # returns when the first worker ends
        code = _first_exit_code(workers)
    except _Stop:
        code = 0
    _stop_all(workers)
    sys.exit(code)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _first_exit_code(workers: Sequence[BaseProcess]) -> int:
    ended = [w for w in workers if not w.is_alive()]
    log.error("a worker ended; stopping the others", extra={"exit_code": ended[0].exitcode})
    return ended[0].exitcode or 1


def _stop_all(workers: Sequence[BaseProcess]) -> None:
    for worker in workers:
        if worker.is_alive():
            worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    deadline = time.monotonic() + STOP_GRACE_S
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            worker.kill()
            worker.join()
