"""The ``Idempotency-Key`` header for views (see :mod:`server.idempotency.service`).

A view that moves money or stock takes :data:`IdempotencyDep` as its **first** parameter
(so it is set up before the request's session and torn down after its commit, and sees a
failed commit) and wraps its work::

    return idem.run(db, actor, body, 201, lambda: OrderRead(...))

Without the header the work simply runs. With it, the claim is committed first (the one early
commit of such a request, so that a concurrent retry sees the key in flight), the work runs,
and its JSON outcome is stored in the same transaction as its effects. A stored outcome is
replayed with the header ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.api.errors import problem_body
from server.db.tenancy import set_current_store
from server.errors import ServiceError
from server.idempotency import service
from server.identity.principal import Principal
from stormcom_pos.domain.errors import DomainError

log = logging.getLogger("stormcom.idempotency")

REPLAYED_HEADER = "Idempotent-Replayed"


class Idempotency:
    """One request's Idempotency-Key handling."""

    def __init__(self, key: str | None, request: Request) -> None:
        self.key = key
        self._request = request
        self._claim_id: str | None = None
        self._store_id: str | None = None

    def _now(self) -> Any:
        return self._request.app.state.clock()

    def run(
        self,
        db: Session,
        actor: Principal,
        body: BaseModel | dict[str, Any] | None,
        status_code: int,
        work: Callable[[], BaseModel],
    ) -> Any:
        """Run ``work`` at most once per key; return its result or the stored one."""
        if self.key is None or actor.store_id is None:
            return work()
        payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        request = self._request
        outcome = service.claim(
            db, store_id=actor.store_id, principal=actor.rate_key, key=self.key,
            request_hash=service.fingerprint(request.method, request.url.path, payload),
            method=request.method, path=request.url.path, now=self._now(),
        )
        if isinstance(outcome, service.Replay):
            return JSONResponse(outcome.body, status_code=outcome.status,
                                headers={REPLAYED_HEADER: "true"})
        db.commit()  # publish the claim: a concurrent retry now answers 409
        self._claim_id, self._store_id = outcome, actor.store_id
        result = work().model_dump(mode="json")
        service.complete(db, claim_id=outcome, status=status_code, body=result, now=self._now())
        return JSONResponse(result, status_code=status_code)

    def failed(self, exc: BaseException) -> None:
        """The work (or its commit) failed: store a 4xx outcome, release the key otherwise."""
        if self._claim_id is None or self._store_id is None:
            return
        claim_id, self._claim_id = self._claim_id, None
        status, body = _outcome(exc, self._request.url.path)
        factory = self._request.app.state.session_factory
        try:
            with factory() as db:
                set_current_store(db, self._store_id)
                if status >= 500:
                    service.release(db, claim_id=claim_id)
                else:
                    service.complete(db, claim_id=claim_id, status=status, body=body,
                                     now=self._now())
                db.commit()
        except Exception:  # the original error matters more; the claim goes stale instead
            log.exception("could not settle idempotency claim %s", claim_id)


def _outcome(exc: BaseException, path: str) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, ServiceError):
        return exc.status, problem_body(exc.status, exc.code, exc.title, exc.detail, path,
                                        **exc.extra)
    if isinstance(exc, DomainError):
        return 422, problem_body(422, exc.code, "Business rule", exc.message, path)
    return 500, {}


def idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[!-~]+$",
               description="A unique key per operation (e.g. a UUID): a retry with the same "
                           "key and body returns the first outcome instead of acting twice"),
    ] = None,
) -> Iterator[Idempotency]:
    handle = Idempotency(idempotency_key, request)
    try:
        yield handle
    except BaseException as exc:
        handle.failed(exc)
        raise


IdempotencyDep = Annotated[Idempotency, Depends(idempotency, scope="function")]
