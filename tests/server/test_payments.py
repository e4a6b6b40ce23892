"""Payments: cash, card-present, bank transfer, cash on delivery, and a gateway charge settled
by an HMAC-signed webhook (a bad signature is refused and changes nothing)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.audit.models import AuditLog
from server.clock import FakeClock
from server.payments import gateway as gateways
from server.payments.models import Payment
from tests.server.commerce_helpers import place, seed_shipping, seed_variant
from tests.server.conftest import World, db_session

Auth = Callable[[str, str], dict[str, str]]
SECRET = "whsec_test_0123456789"


def _order(app: FastAPI, client: TestClient, world: World, auth: Auth,
           price: str = "20.00") -> dict[str, Any]:
    v = seed_variant(app, world.a.store_id, price=price)
    seed_shipping(app, world.a.store_id, cost="0.00")
    return place(client, auth("a", "owner"), (v, 1))


def _pay(client: TestClient, h: dict[str, str], order: dict[str, Any], **body: Any) -> Any:
    return client.post(f"/api/v1/orders/{order['id']}/payments", headers=h, json=body)


def test_cash_keeps_the_sale_and_records_the_change(app: FastAPI, client: TestClient,
                                                    world: World, auth: Auth) -> None:
    h = auth("a", "owner")
    order = _order(app, client, world, auth)
    r = _pay(client, h, order, method="CASH", amount="20.00", tendered_amount="50.00")
    assert r.status_code == 201, r.text
    cash = r.json()
    assert (cash["status"], cash["change_amount"], cash["tendered_amount"]) == (
        "CAPTURED", "30.00", "50.00")
    detail = client.get(f"/api/v1/orders/{order['id']}", headers=h).json()
    assert detail["payment_status"] == "PAID"
    r = _pay(client, h, order, method="CASH", amount="0.01")
    assert r.status_code == 422 and r.json()["code"] == "payment_exceeds_balance"
    r = _pay(client, h, order, method="CASH", amount="5.00", tendered_amount="4.00")
    assert r.status_code == 422


def test_card_present_needs_the_terminal_reference(app: FastAPI, client: TestClient,
                                                   world: World, auth: Auth) -> None:
    h = auth("a", "owner")
    order = _order(app, client, world, auth)
    r = _pay(client, h, order, method="CARD_PRESENT", amount="20.00")
    assert r.status_code == 422 and r.json()["code"] == "reference_required"
    r = _pay(client, h, order, method="CARD_PRESENT", amount="12.00", reference="TERM-884213")
    assert r.status_code == 201 and r.json()["reference"] == "TERM-884213"
    detail = client.get(f"/api/v1/orders/{order['id']}", headers=h).json()
    assert detail["payment_status"] == "PARTIALLY_PAID"


def test_bank_transfer_and_cod_are_paid_when_captured(app: FastAPI, client: TestClient,
                                                      world: World, auth: Auth) -> None:
    h = auth("a", "owner")
    order = _order(app, client, world, auth)
    transfer = _pay(client, h, order, method="BANK_TRANSFER", amount="15.00",
                    reference="IBAN-REF-1").json()
    cod = _pay(client, h, order, method="CASH_ON_DELIVERY", amount="5.00").json()
    assert (transfer["status"], cod["status"]) == ("PENDING", "PENDING")
    assert client.get(f"/api/v1/orders/{order['id']}", headers=h).json()[
        "payment_status"] == "PENDING"
    r = client.post(f"/api/v1/payments/{transfer['id']}/capture", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "CAPTURED"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=h).json()[
        "payment_status"] == "PARTIALLY_PAID"
    client.post(f"/api/v1/payments/{cod['id']}/capture", headers=h)
    assert client.get(f"/api/v1/orders/{order['id']}", headers=h).json()[
        "payment_status"] == "PAID"
    r = client.post(f"/api/v1/payments/{cod['id']}/void", headers=h)
    assert r.status_code == 409  # a captured payment is refunded, not voided
    listed = client.get(f"/api/v1/orders/{order['id']}/payments", headers=h).json()
    assert [p["method"] for p in listed] == ["BANK_TRANSFER", "CASH_ON_DELIVERY"]


def test_payments_need_the_permission_and_a_payable_order(
    app: FastAPI, client: TestClient, world: World, auth: Auth
) -> None:
    order = _order(app, client, world, auth)
    r = _pay(client, auth("a", "cashier"), order, method="CASH", amount="1.00")
    assert r.status_code == 403
    h = auth("a", "owner")
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=h, json={})
    r = _pay(client, h, order, method="CASH", amount="1.00")
    assert r.status_code == 409 and r.json()["code"] == "order_not_payable"


def _setup_gateway(client: TestClient, h: dict[str, str]) -> None:
    r = client.post("/api/v1/payment-gateways", headers=h, json={
        "gateway": "test", "secret_key": "sk_test_123456", "webhook_secret": SECRET})
    assert r.status_code == 200, r.text
    assert "whsec" not in r.text and r.json()["has_webhook_secret"] is True


def _deliver(client: TestClient, store_id: str) -> list[Any]:
    out = []
    for body, headers in gateways.TEST_GATEWAY.take_outbox():
        if json.loads(body)["account"] == store_id:
            out.append(client.post("/api/v1/payments/webhooks/test", content=body,
                                   headers=headers))
    return out


def test_gateway_charge_is_settled_by_a_signed_webhook(app: FastAPI, client: TestClient,
                                                       world: World, auth: Auth) -> None:
    h = auth("a", "owner")
    _setup_gateway(client, h)
    order = _order(app, client, world, auth)
    r = client.post(f"/api/v1/orders/{order['id']}/payments/online", headers=h,
                    json={"token": "tok_visa"})
    assert r.status_code == 201, r.text
    payment = r.json()
    assert payment["status"] == "PENDING" and payment["transaction_id"].startswith("ch_test_")
    responses = _deliver(client, world.a.store_id)
    assert [x.status_code for x in responses] == [200]
    assert responses[0].json()["applied"] is True
    detail = client.get(f"/api/v1/orders/{order['id']}", headers=h).json()
    assert detail["payment_status"] == "PAID"
    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "payment.webhook.charge.succeeded")) == 1


def test_a_replayed_webhook_changes_nothing(app: FastAPI, client: TestClient, world: World,
                                            auth: Auth) -> None:
    h = auth("a", "owner")
    _setup_gateway(client, h)
    order = _order(app, client, world, auth)
    client.post(f"/api/v1/orders/{order['id']}/payments/online", headers=h,
                json={"token": "tok_visa"})
    sent = [x for x in gateways.TEST_GATEWAY.take_outbox()
            if json.loads(x[0])["account"] == world.a.store_id]
    for expected in (True, False):
        r = client.post("/api/v1/payments/webhooks/test", content=sent[0][0], headers=sent[0][1])
        assert r.status_code == 200 and r.json()["applied"] is expected


def test_a_bad_signature_is_refused_and_changes_nothing(
    app: FastAPI, client: TestClient, world: World, auth: Auth, clock: FakeClock
) -> None:
    h = auth("a", "owner")
    _setup_gateway(client, h)
    order = _order(app, client, world, auth)
    payment = client.post(f"/api/v1/orders/{order['id']}/payments/online", headers=h,
                          json={"token": "tok_visa"}).json()
    body, headers = [x for x in gateways.TEST_GATEWAY.take_outbox()
                     if json.loads(x[0])["account"] == world.a.store_id][0]
    now = int(clock.now.timestamp())
    forged = [
        (body, {"StormCom-Signature": gateways.sign(body, "wrong-secret", now)}),
        (body.replace(b"charge.succeeded", b"charge.failed"), headers),  # tampered body
        (body, {}),  # unsigned
        (body, {"StormCom-Signature": gateways.sign(body, SECRET, now - 3600)}),  # stale
    ]
    for content, hdrs in forged:
        r = client.post("/api/v1/payments/webhooks/test", content=content, headers=hdrs)
        assert r.status_code == 400 and r.json()["code"] == "invalid_signature", r.text
    with db_session(app) as db:
        assert db.get(Payment, payment["id"]).status == "PENDING"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=h).json()[
        "payment_status"] == "PENDING"
    r = client.post("/api/v1/payments/webhooks/nope", content=body, headers=headers)
    assert r.status_code == 404


def test_declined_charge_fails_the_payment(app: FastAPI, client: TestClient, world: World,
                                           auth: Auth) -> None:
    h = auth("a", "owner")
    _setup_gateway(client, h)
    order = _order(app, client, world, auth)
    payment = client.post(f"/api/v1/orders/{order['id']}/payments/online", headers=h,
                          json={"token": gateways.FAILING_TOKEN}).json()
    _deliver(client, world.a.store_id)
    with db_session(app) as db:
        row = db.get(Payment, payment["id"])
        assert (row.status, row.error_message) == ("FAILED", "Your card was declined.")
    assert client.get(f"/api/v1/orders/{order['id']}", headers=h).json()[
        "payment_status"] == "FAILED"


def test_the_test_gateway_honours_idempotency_keys(clock: FakeClock) -> None:
    from decimal import Decimal

    gw = gateways.TestGateway()
    args = {"account": "s1", "amount": Decimal("9.99"), "currency": "USD", "token": "tok_visa",
            "webhook_secret": SECRET, "now": clock.now}
    first = gw.charge(idempotency_key="k1", **args)
    assert gw.charge(idempotency_key="k1", **args) == first
    assert len(gw.take_outbox()) == 1  # charged, and told, once
    assert gw.charge(idempotency_key="k2", **args).id != first.id
    try:
        gw.charge(idempotency_key="k1", **{**args, "amount": Decimal("1.00")})
    except gateways.GatewayError:
        pass
    else:
        raise AssertionError("a reused key with other parameters must be refused")
    refund = gw.refund(account="s1", charge_id=first.id, amount=Decimal("1.00"), currency="USD",
                       idempotency_key="r1")
    assert gw.refund(account="s1", charge_id=first.id, amount=Decimal("1.00"), currency="USD",
                     idempotency_key="r1") == refund


def test_a_client_retry_with_the_same_key_charges_once(app: FastAPI, client: TestClient,
                                                       world: World, auth: Auth) -> None:
    h = {**auth("a", "owner"), "Idempotency-Key": "charge-once-1"}
    _setup_gateway(client, auth("a", "owner"))
    order = _order(app, client, world, auth)
    url = f"/api/v1/orders/{order['id']}/payments/online"
    first = client.post(url, headers=h, json={"token": "tok_visa"})
    again = client.post(url, headers=h, json={"token": "tok_visa"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(Payment)) == 1
