"""A fault-injecting httpx transport in front of the real server app (sync-anchors §3.2).

Rules match a method and a path fragment and fire ``times`` times, in the order added:

- ``drop_request``: the request never reaches the server (``ConnectError``; F1);
- ``drop_response``: the server handles and commits the request, then the answer is lost
  (``ReadError``; F2/F3, the Odoo duplicate);
- ``duplicate``: the request reaches the server twice; the client sees the second answer (F4);
- ``status``: the server is not reached; the client gets ``status`` (503 by default);
- ``delay``: the request goes through after ``seconds`` (no test asserts on time);
- ``kill``: raise :class:`Killed`, a BaseException nothing in the client catches: the till
  "dies" there, before (``after=False``) or after (``after=True``) the server handled it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

import httpx

Action = Literal["drop_request", "drop_response", "duplicate", "status", "delay", "kill"]


class Killed(BaseException):  # noqa: N818 - the till process "dies" here
    """The simulated SIGKILL of the till."""


@dataclass
class Rule:
    action: Action
    method: str | None = None
    path: str | None = None
    times: int = 1
    skip: int = 0  # let this many matching requests through first
    status: int = 503
    seconds: float = 0.01
    after: bool = False

    def matches(self, request: httpx.Request) -> bool:
        return ((self.method is None or request.method == self.method)
                and (self.path is None or self.path in request.url.path))


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    params: dict[str, str]
    outcome: str  # "<status>" or the injected fault
    body: bytes = b""


class FaultTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.rules: list[Rule] = []
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def add(self, action: Action, method: str | None = None, path: str | None = None,
            **options: object) -> Rule:
        rule = Rule(action, method, path, **options)  # type: ignore[arg-type]
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _take(self, request: httpx.Request) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and rule.matches(request):
                    if rule.skip > 0:
                        rule.skip -= 1
                        return None
                    rule.times -= 1
                    return rule
        return None

    def _record(self, request: httpx.Request, outcome: str) -> None:
        self.sent.append(Sent(request.method, request.url.path, dict(request.url.params),
                              outcome, request.read()))

    def calls(self, path: str) -> list[Sent]:
        return [s for s in self.sent if path in s.path]

    def _forward(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        rule = self._take(request)
        if rule is None:
            response = self._forward(request)
            self._record(request, str(response.status_code))
            return response
        self._record(request, rule.action)
        if rule.action == "drop_request":
            raise httpx.ConnectError("injected: dropped before the server", request=request)
        if rule.action == "status":
            return httpx.Response(rule.status, request=request, json={
                "code": "unavailable", "detail": "injected outage", "status": rule.status})
        if rule.action == "kill":
            if rule.after:
                self._forward(request)
            raise Killed(f"killed at {request.method} {request.url.path}")
        if rule.action == "delay":
            time.sleep(rule.seconds)
            return self._forward(request)
        if rule.action == "duplicate":
            self._forward(request)
            return self._forward(request)
        self._forward(request)  # drop_response: the server committed; the answer is lost
        raise httpx.ReadError("injected: response lost after the server committed",
                              request=request)
