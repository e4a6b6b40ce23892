"""Serving the API: one process, or several worker processes sharing one port.

``uvicorn --workers`` shares one listening socket: whichever worker sits in ``accept()`` takes
the next connection. Tills keep their connection open (HTTP keep-alive), so the worker that was
idle when they connected keeps them all day: in ``bench/bench_ingest.py`` one of two workers
served 792 of 880 pushes, and the server went no faster than one process. Here every worker
binds its own socket with ``SO_REUSEPORT`` and the kernel spreads new connections over the
workers. A worker that dies is replaced; SIGTERM or SIGINT stops them all (each finishes its
requests: uvicorn's graceful shutdown).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType

from server.config import Settings

log = logging.getLogger("stormcom.serve")
BACKLOG = 2048  # uvicorn's default
MAX_RESTARTS, CRASH_WINDOW_S = 5, 30.0  # more than this is a crash loop, not a bad request


class ServeError(Exception):
    """The server cannot start as asked (a readable message)."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    workers: int = 1
    log_level: str = "info"
    access_log: bool = True


def serve(settings: Settings, listen: Listen) -> None:
    """Run the API until SIGTERM/SIGINT."""
    if listen.workers < 1:
        raise ServeError("--workers must be at least 1.")
    if listen.workers == 1:
        _run(settings, listen, sock=None)
        return
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ServeError("--workers above 1 needs SO_REUSEPORT (Linux, BSD or macOS); run one "
                         "process per port behind a load balancer instead.")
    _bind(listen).close()  # a taken port is one clear error here, not one per worker
    _supervise(settings, listen)


def _bind(listen: Listen) -> socket.socket:
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if listen.workers > 1:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((listen.host, listen.port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {listen.host}:{listen.port}: {exc.strerror}. Stop "
                         "what holds it or choose another --port.") from exc
    sock.listen(BACKLOG)
    return sock


def _run(settings: Settings, listen: Listen, sock: socket.socket | None) -> None:
    import uvicorn

    from server.app import create_app

    config = uvicorn.Config(create_app(settings), host=listen.host, port=listen.port,
                            log_level=listen.log_level, access_log=listen.access_log)
    server = uvicorn.Server(config)
    server.run(sockets=[sock] if sock is not None else None)


def _worker(settings: Settings, listen: Listen) -> None:
    _run(settings, listen, _bind(listen))


def _supervise(settings: Settings, listen: Listen) -> None:
    # fork: the workers inherit the parsed settings; the parent holds no database connection.
    context = multiprocessing.get_context("fork")
    stopping = False

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(settings, listen), name="stormcom-worker")
        process.start()
        return process

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    workers = [start() for _ in range(listen.workers)]
    restarts: list[float] = []
    log.warning("serving on %s:%d with %d worker processes", listen.host, listen.port,
                len(workers))
    try:
        while not stopping:
            for i, process in enumerate(workers):
                if not process.is_alive() and not stopping:
                    now = time.monotonic()
                    restarts = [t for t in restarts if now - t < CRASH_WINDOW_S] + [now]
                    if len(restarts) > MAX_RESTARTS:
                        raise ServeError(f"workers exited {len(restarts)} times in "
                                         f"{CRASH_WINDOW_S:.0f} s; see the log above.")
                    log.error("worker %s exited with %s; starting another", process.pid,
                              process.exitcode)
                    workers[i] = start()
            time.sleep(0.2)
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in workers:
            process.join(30)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
