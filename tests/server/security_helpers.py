"""Helpers shared by the MFA, token, approval, device and RLS tests (plain functions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.engine import make_engine
from server.db.tenancy import make_tenant_session_factory
from server.identity.hashing import hash_password
from server.identity.models import User
from tests.server.conftest import TEST_BCRYPT_COST, bearer

API = "/api/v1"


@contextmanager
def service_session(url: str, store_id: str | None = None) -> Iterator[Session]:
    """A tenancy-filtered session like a request's; the caller commits."""
    engine = make_engine(url)
    try:
        with make_tenant_session_factory(engine)() as db:
            if store_id:
                db.info["store_id"] = store_id
            yield db
    finally:
        engine.dispose()


def totp_now(secret: str, now: datetime, *, steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(now) + steps)


def user_by_email(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def set_pin(app: FastAPI, email: str, pin: str) -> None:
    """Give a user a POS PIN directly in the database."""
    from tests.server.conftest import db_session

    with db_session(app) as db:
        user_by_email(db, email).pos_pin_hash = hash_password(pin, cost=TEST_BCRYPT_COST)
        db.commit()


def pair_terminal(client: TestClient, manager_headers: dict[str, str],
                  name: str = "Till 9") -> dict[str, str]:
    """Pair a terminal through the API; returns the ids, credential and an access token."""
    r = client.post(f"{API}/devices/pairing-codes", json={"name": name}, headers=manager_headers)
    assert r.status_code == 201, r.text
    code = r.json()["pairing_code"]
    r = client.post(f"{API}/devices/enrol", json={"pairing_code": code, "app_version": "1.0"})
    assert r.status_code == 201, r.text
    enrolled = r.json()
    r = client.post(f"{API}/devices/token", json={"credential": enrolled["credential"]})
    assert r.status_code == 200, r.text
    return {"device_id": enrolled["device_id"], "credential": enrolled["credential"],
            "token": r.json()["access_token"], "code": code}


def device_headers(token: str) -> dict[str, str]:
    return bearer(token)
