"""Payment gateways: the interface the server talks to, webhook signatures, and a test gateway.

A gateway charges and refunds on the merchant's behalf and reports outcomes later through
webhooks. Two things make that safe to retry:

- **Idempotency keys.** Every call carries a key; a gateway returns the first result for a
  key it has seen instead of charging twice (and refuses the key with other parameters).
- **Signed webhooks.** The body is signed with HMAC-SHA256 over ``"<timestamp>.<raw body>"``
  using the store's webhook secret, sent as ``StormCom-Signature: t=<unix>,v1=<hex>``
  (Stripe's scheme). The receiver verifies on the *raw* bytes, in constant time, and refuses
  timestamps more than :data:`TOLERANCE` away (a replayed old event).

:class:`TestGateway` stands in for a card processor in development and tests: it honours
idempotency keys and queues signed webhooks (``charge.succeeded`` or, for the token
``tok_fail``, ``charge.failed``) in :attr:`TestGateway.outbox`, which a test or a dev tool
delivers to ``POST /api/v1/payments/webhooks/test``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from server.errors import ServiceError

SIGNATURE_HEADER = "StormCom-Signature"
TOLERANCE = timedelta(minutes=5)
FAILING_TOKEN = "tok_fail"


class GatewayError(ServiceError):
    status = 502
    default_code = "gateway_error"
    default_title = "Payment gateway error"


class InvalidSignature(ServiceError):
    status = 400
    default_code = "invalid_signature"
    default_title = "Invalid webhook signature"


@dataclass(frozen=True, slots=True)
class GatewayCharge:
    id: str
    amount: Decimal
    currency: str
    status: str  # "pending" until the webhook says succeeded or failed


@dataclass(frozen=True, slots=True)
class GatewayRefund:
    id: str
    charge_id: str
    amount: Decimal
    status: str  # "succeeded"


class PaymentGateway(Protocol):
    """What the server needs from a payment gateway."""

    name: str

    def charge(self, *, account: str, amount: Decimal, currency: str, token: str,
               idempotency_key: str, webhook_secret: str, now: datetime) -> GatewayCharge: ...

    def refund(self, *, account: str, charge_id: str, amount: Decimal, currency: str,
               idempotency_key: str) -> GatewayRefund: ...


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``StormCom-Signature`` header value for a body."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(payload: bytes, header: str | None, secret: str, now: datetime) -> None:
    """Raise :class:`InvalidSignature` unless ``header`` signs ``payload`` with ``secret``."""
    if not header:
        raise InvalidSignature(f"The {SIGNATURE_HEADER} header is missing.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise InvalidSignature("The signature has no valid timestamp.") from None
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        raise InvalidSignature("The signature timestamp is too old or in the future.")
    expected = sign(payload, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise InvalidSignature("The signature does not match the body.")


@dataclass
class TestGateway:
    """An in-memory card processor for development and tests (see the module docstring)."""

    __test__ = False  # not a pytest test class
    name: str = "test"
    outbox: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    _charges: dict[tuple[str, str], tuple[GatewayCharge, str]] = field(default_factory=dict)
    _refunds: dict[tuple[str, str], GatewayRefund] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, *, account: str, amount: Decimal, currency: str, token: str,
               idempotency_key: str, webhook_secret: str, now: datetime) -> GatewayCharge:
        with self._lock:
            seen = self._charges.get((account, idempotency_key))
            if seen is not None:
                charge, seen_token = seen
                if (charge.amount, charge.currency, seen_token) != (amount, currency, token):
                    raise GatewayError("The gateway refused an idempotency key reused with "
                                       "different parameters.")
                return charge
            charge = GatewayCharge(f"ch_test_{secrets.token_hex(8)}", amount, currency,
                                   "pending")
            self._charges[(account, idempotency_key)] = (charge, token)
            failed = token == FAILING_TOKEN
            self._send(account, "charge.failed" if failed else "charge.succeeded", {
                "charge_id": charge.id, "amount": str(amount), "currency": currency,
                "failure_message": "Your card was declined." if failed else None,
            }, webhook_secret, now)
            return charge

    def refund(self, *, account: str, charge_id: str, amount: Decimal, currency: str,
               idempotency_key: str) -> GatewayRefund:
        with self._lock:
            seen = self._refunds.get((account, idempotency_key))
            if seen is not None:
                return seen
            known = {c.id: c for (acct, _), (c, _) in self._charges.items() if acct == account}
            if charge_id not in known:
                raise GatewayError(f"The gateway knows no charge {charge_id}.")
            refund = GatewayRefund(f"re_test_{secrets.token_hex(8)}", charge_id, amount,
                                   "succeeded")
            self._refunds[(account, idempotency_key)] = refund
            return refund

    def _send(self, account: str, kind: str, data: dict[str, Any], secret: str,
              now: datetime) -> None:
        body = json.dumps({"id": f"evt_{secrets.token_hex(8)}", "type": kind,
                           "account": account, "data": data}).encode()
        self.outbox.append((body, {SIGNATURE_HEADER: sign(body, secret, int(now.timestamp())),
                                   "Content-Type": "application/json"}))

    def take_outbox(self) -> list[tuple[bytes, dict[str, str]]]:
        """The queued webhooks, oldest first, emptying the queue."""
        with self._lock:
            sent, self.outbox[:] = list(self.outbox), []
        return sent


TEST_GATEWAY = TestGateway()
GATEWAYS: dict[str, PaymentGateway] = {TEST_GATEWAY.name: TEST_GATEWAY}


def get_gateway(name: str) -> PaymentGateway | None:
    """The registered gateway of that name (``test`` out of the box)."""
    return GATEWAYS.get(name)
