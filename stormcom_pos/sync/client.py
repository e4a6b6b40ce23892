"""The terminal's HTTP client for the server: enrolment, device tokens, push, pull, snapshot.

Retries: a request that fails in transport (connection refused, reset, timeout) or answers
429/5xx is sent again, up to ``retries`` more times, after a full-jitter exponential backoff
(0.5 s base, doubling, capped). Only idempotent requests retry after the request may have
reached the server: a push is (op ids make it exactly-once), and its body is serialised once so
every retry sends the same bytes. Enrolment (a single-use code) and staff sign-in retry only
when the connection was never made.

Device tokens: the credential is traded for a short-lived access token (``POST
/api/v1/devices/token``) on first use; a 401 on any call refreshes it once and resends. A
credential the server no longer accepts, or a 403 ``device_revoked``, raises
:class:`DeviceRevoked`. 410 raises :class:`ResyncRequired`; other 4xx :class:`ServerRejected`;
exhausted retries :class:`Offline`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from stormcom_pos import __version__
from stormcom_pos.domain import sync_protocol as proto
from stormcom_pos.sync.credentials import DeviceCredential
from stormcom_pos.sync.errors import (
    DeviceRevoked,
    MfaRequired,
    NotEnrolled,
    Offline,
    ResyncRequired,
    ServerRejected,
    StaffLoginFailed,
)

log = logging.getLogger("stormcom.sync.client")

API = "/api/v1"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REVOKED_CODES = frozenset({"device_revoked", "device_unknown"})
TIME_HEADER = "X-Server-Time"


@dataclass(frozen=True)
class Backoff:
    """Full-jitter exponential backoff: attempt ``n`` waits uniform(0, min(cap, base * f**n))."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * self.factor ** attempt))


@dataclass(frozen=True)
class Enrolment:
    device_id: str
    store_id: str
    terminal_number: int
    name: str
    credential: str


@dataclass(frozen=True)
class StaffLogin:
    token: str
    user_id: str
    name: str
    email: str
    expires_at: datetime
    stores: list[dict[str, Any]]


def _problem(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return None, str(body)[:200]
    return body.get("code"), str(body.get("detail") or body.get("title") or "")


class ServerClient:
    """One server's API as the terminal uses it (thread-safe; one instance per till)."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, retries: int = 4,
                 backoff: Backoff = Backoff(), sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, app_version: str = __version__) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff, self.app_version = retries, backoff, app_version
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout,
                                  headers={"User-Agent": f"stormcom-pos/{app_version}"})
        self._credential: DeviceCredential | None = None
        self._token: str | None = None
        self._token_lock = threading.RLock()

    def close(self) -> None:
        self._http.close()

    # ---- device identity ---------------------------------------------------------------------

    def set_credential(self, credential: DeviceCredential | None) -> None:
        with self._token_lock:
            self._credential, self._token = credential, None

    @property
    def credential(self) -> DeviceCredential | None:
        return self._credential

    def enrol(self, pairing_code: str, name: str | None = None) -> Enrolment:
        """Pair this till with a code from the back office; the credential is set on this
        client (save it in a CredentialStore). The server names the till from the code;
        ``name`` (what the operator typed here) is only logged when it differs."""
        response = self._request("POST", f"{API}/devices/enrol", auth=False, idempotent=False,
                                 json={"pairing_code": pairing_code.strip(),
                                       "app_version": self.app_version})
        body = response.json()
        enrolment = Enrolment(device_id=body["device_id"], store_id=body["store_id"],
                              terminal_number=int(body["terminal_number"]), name=body["name"],
                              credential=body["credential"])
        if name and name != enrolment.name:
            log.info("paired as %r (the name on the pairing code), not %r", enrolment.name, name)
        self.set_credential(DeviceCredential(self.base_url, enrolment.device_id,
                                             enrolment.store_id, enrolment.credential))
        return enrolment

    def _refresh_token(self, stale: str | None) -> str:
        with self._token_lock:
            if self._token is not None and self._token != stale:
                return self._token  # another thread already refreshed it
            if self._credential is None:
                raise NotEnrolled("This till is not paired with a server yet: enter a pairing "
                                  "code from the back office.")
            response = self._request(
                "POST", f"{API}/devices/token", auth=False, idempotent=True,
                json={"credential": self._credential.credential, "app_version": self.app_version},
                credential_call=True)
            self._token = str(response.json()["access_token"])
            return self._token

    # ---- sync --------------------------------------------------------------------------------

    def push(self, request: proto.PushRequest) -> proto.PushResponse:
        body = request.model_dump_json().encode()  # one serialisation: retries send these bytes
        response = self._request("POST", f"{API}/sync/push", content=body,
                                 headers={"Content-Type": "application/json"})
        return proto.PushResponse.model_validate_json(response.content)

    def pull(self, cursor: str | None, limit: int = proto.DEFAULT_PULL_LIMIT
             ) -> proto.PullResponse:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = self._request("GET", f"{API}/sync/pull", params=params)
        return proto.PullResponse.model_validate_json(response.content)

    def snapshot(self, entity_type: str, after: str | None, as_of: int | None,
                 limit: int = proto.MAX_SNAPSHOT_LIMIT) -> proto.SnapshotPage:
        params: dict[str, Any] = {"entity_type": entity_type, "limit": limit}
        if after is not None:
            params["after"] = after
        if as_of is not None:
            params["as_of"] = as_of
        response = self._request("GET", f"{API}/sync/snapshot", params=params)
        return proto.SnapshotPage.model_validate_json(response.content)

    def server_time(self) -> datetime:
        """The server's clock (its ``X-Server-Time`` header on a one-row snapshot read)."""
        response = self._request("GET", f"{API}/sync/snapshot",
                                 params={"entity_type": "store", "limit": 1})
        return datetime.fromisoformat(response.headers[TIME_HEADER])

    # ---- staff -------------------------------------------------------------------------------

    def staff_login(self, email: str, password: str, totp_code: str | None = None
                    ) -> StaffLogin:
        """Sign a staff member in online (back-office screens); raises MfaRequired when the
        account has a second factor and no code was given."""
        response = self._request("POST", f"{API}/auth/login", auth=False, idempotent=False,
                                 json={"email": email, "password": password}, raise_4xx=False)
        code, detail = _problem(response) if response.status_code >= 400 else (None, "")
        if code == "mfa_required":
            if not totp_code:
                raise MfaRequired("This account needs a code from its authenticator app.")
            response = self._request(
                "POST", f"{API}/auth/mfa/challenge", auth=False, idempotent=False,
                json={"mfa_token": response.json()["mfa_token"], "code": totp_code},
                raise_4xx=False)
            code, detail = _problem(response) if response.status_code >= 400 else (None, "")
        if response.status_code >= 400:
            raise StaffLoginFailed(f"Sign-in refused by {self.base_url}: {detail} ({code})")
        body = response.json()
        user = body["user"]
        return StaffLogin(token=body["token"], user_id=user["id"], name=user["name"],
                          email=user["email"], expires_at=datetime.fromisoformat(
                              body["expires_at"]), stores=list(body["stores"]))

    # ---- the one request path ----------------------------------------------------------------

    def _request(self, method: str, path: str, *, auth: bool = True, idempotent: bool = True,
                 raise_4xx: bool = True, credential_call: bool = False,
                 headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        where = f"{method} {self.base_url}{path}"
        refreshed = False
        attempt = 0
        while True:
            sent_headers = dict(headers or {})
            token = None
            if auth:
                token = self._token or self._refresh_token(None)
                sent_headers["Authorization"] = f"Bearer {token}"
            failure: str
            try:
                response = self._http.request(method, path, headers=sent_headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = f"cannot connect ({exc or type(exc).__name__})"
            except httpx.TransportError as exc:
                if not idempotent:
                    raise Offline(f"{where} failed after the request was sent "
                                  f"({type(exc).__name__}: {exc}); it is not resent") from exc
                failure = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status == 401 and auth and not refreshed:
                    refreshed = True
                    self._refresh_token(token)
                    continue
                if status not in RETRY_STATUSES:
                    if raise_4xx:
                        self._raise_for(response, where, credential_call)
                    return response
                code, detail = _problem(response)
                failure = f"HTTP {status} {code or ''} {detail}".strip()
            if attempt >= self.retries:
                raise Offline(f"{where} failed after {attempt + 1} attempts: {failure}")
            delay = self.backoff.delay(attempt, self._rng)
            log.info("%s: %s; retrying in %.2f s", where, failure, delay)
            self._sleep(delay)
            attempt += 1

    def _raise_for(self, response: httpx.Response, where: str, credential_call: bool) -> None:
        code, detail = _problem(response)
        status = response.status_code
        if code in REVOKED_CODES or (credential_call and status == 401):
            with self._token_lock:
                self._token = None
            raise DeviceRevoked(f"{where}: the server no longer accepts this till ({detail}). "
                                f"Syncing has stopped; the unsynced sales are kept. Pair the "
                                f"till again from the back office.")
        if status == 410:
            epoch = None
            try:
                epoch = response.json().get("server_epoch")
            except ValueError:
                pass
            raise ResyncRequired(f"{where}: {detail}", server_epoch=epoch)
        raise ServerRejected(f"{where} refused: HTTP {status} {code or ''}: {detail}",
                             status=status, code=code)
