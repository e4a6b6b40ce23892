"""MFA: TOTP enrolment and replay, backup codes, SMS fallback, disabling, the sign-in challenge."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit.models import AuditLog
from server.clock import FakeClock
from server.errors import Conflict
from server.identity import mfa_login, mfa_service
from server.identity.hashing import verify_password
from server.identity.models import Session as AuthSession
from server.identity.models import User, VerificationToken
from server.identity.sms import LoggingSmsProvider
from tests.server.conftest import PASSWORD, World, bearer, db_session, login
from tests.server.security_helpers import (
    API,
    service_session,
    totp_now,
    user_by_email,
)

MFA = f"{API}/auth/mfa"


def _enable(url: str, email: str, clock: FakeClock) -> tuple[str, list[str]]:
    """Turn MFA on for ``email`` through the service; returns (secret, backup codes)."""
    with service_session(url) as db:
        user = user_by_email(db, email)
        enrolment = mfa_service.begin_totp_enrolment(db, user=user)
        codes = mfa_service.confirm_totp(db, user=user, code=totp_now(enrolment.secret,
                                                                       clock.now),
                                         now=clock.now, bcrypt_cost=4)
        db.commit()
        return enrolment.secret, codes


# ---- service level --------------------------------------------------------------------------


def test_enrolment_gives_uri_and_png_and_the_first_code_turns_mfa_on(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    with service_session(url) as db:
        user = user_by_email(db, world.a.emails["cashier"])
        enrolment = mfa_service.begin_totp_enrolment(db, user=user)
        assert enrolment.provisioning_uri.startswith("otpauth://totp/")
        assert "issuer=StormCom%20POS" in enrolment.provisioning_uri
        assert enrolment.qr_png.startswith(b"\x89PNG\r\n")
        assert base64.b64decode(enrolment.qr_png_base64) == enrolment.qr_png
        assert not user.mfa_enabled and mfa_service.status(user, now=clock.now).enrolment_pending
        with pytest.raises(mfa_service.SecondFactorFailed):
            mfa_service.confirm_totp(db, user=user, code="000000", now=clock.now, bcrypt_cost=4)
        codes = mfa_service.confirm_totp(db, user=user, code=totp_now(user.mfa_secret or "",
                                                                      clock.now),
                                         now=clock.now, bcrypt_cost=4)
        assert user.mfa_enabled
        assert len(codes) == 10 == len(set(codes))
        assert all(re.fullmatch(r"[a-z2-9]{8}", c) for c in codes)
        stored = user.mfa_backup_codes or []
        assert all(e["code"].startswith("$2b$") and e["code"] not in codes for e in stored)
        assert mfa_service.status(user, now=clock.now).backup_codes_remaining == 10
        with pytest.raises(Conflict):
            mfa_service.begin_totp_enrolment(db, user=user)


def test_a_totp_code_is_accepted_once_only(world_db: tuple[str, World], clock: FakeClock) -> None:
    url, world = world_db
    email = world.a.emails["manager"]
    secret, _ = _enable(url, email, clock)
    clock.advance(seconds=60)
    with service_session(url) as db:
        user = user_by_email(db, email)
        code = totp_now(secret, clock.now)
        assert mfa_service.verify_second_factor(db, user, code, clock.now)
        assert not mfa_service.verify_second_factor(db, user, code, clock.now)  # replay
        # One step of drift either side is allowed, but never a step at or before the last used.
        assert not mfa_service.verify_second_factor(db, user, totp_now(secret, clock.now,
                                                                       steps=-1), clock.now)
        assert mfa_service.verify_second_factor(db, user, totp_now(secret, clock.now, steps=1),
                                                clock.now)
        assert not mfa_service.verify_second_factor(db, user, totp_now(secret, clock.now,
                                                                       steps=2), clock.now)
        db.commit()
        step = user.mfa_last_totp_step
    with service_session(url) as db:
        assert user_by_email(db, email).mfa_last_totp_step == step


def test_two_concurrent_uses_of_one_code_cannot_both_pass(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    email = world.a.emails["owner"]
    secret, _ = _enable(url, email, clock)
    clock.advance(seconds=90)
    code = totp_now(secret, clock.now)
    with service_session(url) as first, service_session(url) as second:
        u1, u2 = user_by_email(first, email), user_by_email(second, email)  # both read step N
        assert mfa_service.verify_second_factor(first, u1, code, clock.now)
        first.commit()
        assert not mfa_service.verify_second_factor(second, u2, code, clock.now)


def test_backup_codes_are_single_use_and_expire_after_a_year(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    email = world.b.emails["cashier"]
    secret, codes = _enable(url, email, clock)
    with service_session(url) as db:
        user = user_by_email(db, email)
        assert mfa_service.verify_second_factor(db, user, codes[0].upper(), clock.now)
        assert not mfa_service.verify_second_factor(db, user, codes[0], clock.now)  # reuse
        assert not mfa_service.verify_second_factor(db, user, "zzzzzzzz", clock.now)
        db.commit()
    with service_session(url) as db:
        user = user_by_email(db, email)
        assert mfa_service.status(user, now=clock.now).backup_codes_remaining == 9
        assert not mfa_service.verify_second_factor(db, user, codes[0], clock.now)
        later = clock.now + timedelta(days=366)
        assert mfa_service.status(user, now=later).backup_codes_remaining == 0
        assert not mfa_service.verify_second_factor(db, user, codes[1], later)
        # Regenerating needs a code and replaces every old code.
        clock.advance(seconds=60)
        with pytest.raises(mfa_service.SecondFactorFailed):
            mfa_service.regenerate_backup_codes(db, user=user, code="123456", now=clock.now,
                                                bcrypt_cost=4)
        fresh = mfa_service.regenerate_backup_codes(
            db, user=user, code=totp_now(secret, clock.now), now=clock.now, bcrypt_cost=4)
        assert not mfa_service.verify_second_factor(db, user, codes[1], clock.now)
        assert mfa_service.verify_second_factor(db, user, fresh[0], clock.now)


def test_sms_fallback_sends_a_code_that_works_once_and_expires(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    email = world.a.emails["cashier"]
    _enable(url, email, clock)
    sms = LoggingSmsProvider()
    with service_session(url) as db:
        user = user_by_email(db, email)
        with pytest.raises(mfa_service.Invalid):
            mfa_service.start_sms(db, user=user, phone="12345", provider=sms, now=clock.now,
                                  bcrypt_cost=4)
        mfa_service.start_sms(db, user=user, phone="+880 1712-345678", provider=sms,
                              now=clock.now, bcrypt_cost=4)
        assert sms.sent[-1].to == "+8801712345678"
        code = re.search(r"\b(\d{6})\b", sms.sent[-1].body)
        assert code is not None
        mfa_service.confirm_sms(db, user=user, code=code.group(1), now=clock.now)
        assert user.sms_enabled
        assert mfa_service.send_sms_code(db, user=user, provider=sms, now=clock.now,
                                         bcrypt_cost=4)
        code = re.search(r"\b(\d{6})\b", sms.sent[-1].body)
        assert code is not None
        stored = db.scalars(select(VerificationToken.token)).all()
        assert code.group(1) not in stored  # hashed
        assert mfa_service.verify_second_factor(db, user, code.group(1), clock.now)
        assert not mfa_service.verify_second_factor(db, user, code.group(1), clock.now)
        mfa_service.send_sms_code(db, user=user, provider=sms, now=clock.now, bcrypt_cost=4)
        late = re.search(r"\b(\d{6})\b", sms.sent[-1].body)
        assert late is not None
        assert not mfa_service.verify_second_factor(
            db, user, late.group(1), clock.now + timedelta(minutes=5, seconds=1))


def test_disabling_needs_the_password_and_a_code(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    email = world.a.emails["manager"]
    secret, codes = _enable(url, email, clock)
    clock.advance(seconds=60)
    with service_session(url) as db:
        user = user_by_email(db, email)
        with pytest.raises(mfa_service.PasswordIncorrect):
            mfa_service.disable(db, user=user, password="nope", code=totp_now(secret, clock.now),
                                now=clock.now)
        with pytest.raises(mfa_service.SecondFactorFailed):
            mfa_service.disable(db, user=user, password=PASSWORD, code="000000", now=clock.now)
        mfa_service.disable(db, user=user, password=PASSWORD, code=codes[3], now=clock.now)
        assert not user.mfa_enabled and user.mfa_secret is None
        assert user.mfa_backup_codes is None
        assert not mfa_service.verify_second_factor(db, user, codes[4], clock.now)


# ---- HTTP -----------------------------------------------------------------------------------


def test_enrol_confirm_regenerate_and_disable_over_http(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    headers = bearer(login(client, world.a.emails["cashier"]))
    assert client.get(MFA, headers=headers).json()["enabled"] is False
    r = client.post(f"{MFA}/totp", headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["provisioning_uri"].startswith("otpauth://totp/")
    png = client.get(body["qr_png_url"], headers=headers)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content == base64.b64decode(body["qr_png_base64"])
    assert client.post(f"{MFA}/totp/confirm", json={"code": "000000"},
                       headers=headers).status_code == 403
    r = client.post(f"{MFA}/totp/confirm", json={"code": totp_now(body["secret"], clock.now)},
                    headers=headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["backup_codes"]) == 10
    status = client.get(MFA, headers=headers).json()
    assert status["enabled"] and status["backup_codes_remaining"] == 10
    clock.advance(seconds=60)
    r = client.post(f"{MFA}/backup-codes", json={"code": totp_now(body["secret"], clock.now)},
                    headers=headers)
    assert r.status_code == 200 and len(r.json()["backup_codes"]) == 10
    new_code = r.json()["backup_codes"][0]
    r = client.post(f"{MFA}/disable", json={"password": "wrong", "code": new_code},
                    headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "password_incorrect"
    r = client.post(f"{MFA}/disable", json={"password": PASSWORD, "code": new_code},
                    headers=headers)
    assert r.status_code == 204
    assert client.get(MFA, headers=headers).json()["enabled"] is False
    with db_session(app) as db:
        actions = set(db.scalars(select(AuditLog.action).where(AuditLog.entity_type == "user")))
    assert {"mfa.enrol.start", "mfa.enable", "mfa.backup_codes.regenerate",
            "mfa.disable"} <= actions


def test_sms_enrolment_over_http_uses_the_app_provider(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    email = world.a.emails["manager"]
    headers = bearer(login(client, email))
    _enable(str(app.state.settings.database_url), email, clock)
    sms = LoggingSmsProvider()
    app.state.sms_provider = sms
    r = client.post(f"{MFA}/sms", json={"phone_number": "+15551234567"}, headers=headers)
    assert r.status_code == 202, r.text
    code = re.search(r"\b(\d{6})\b", sms.sent[-1].body)
    assert code is not None
    assert client.post(f"{MFA}/sms/confirm", json={"code": code.group(1)},
                       headers=headers).status_code == 204
    assert client.get(MFA, headers=headers).json()["sms_phone_hint"] == "+15•••67"


def _challenge(app: FastAPI, email: str, clock: FakeClock) -> str:
    with db_session(app) as db:
        token = mfa_login.start_challenge(db, user=user_by_email(db, email), now=clock.now)
        db.commit()
    return token


def test_sign_in_second_step_with_totp_backup_or_sms(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    email = world.b.emails["owner"]
    secret, codes = _enable(str(app.state.settings.database_url), email, clock)
    clock.advance(seconds=60)
    token = _challenge(app, email, clock)
    r = client.post(f"{MFA}/challenge", json={"mfa_token": token,
                                              "code": totp_now(secret, clock.now)})
    assert r.status_code == 200, r.text
    assert r.json()["stores"][0]["id"] == world.b.store_id
    session_token = r.json()["token"]
    assert client.get(f"{API}/auth/me", headers=bearer(session_token)).status_code == 200
    # The challenge is single use.
    assert client.post(f"{MFA}/challenge", json={"mfa_token": token, "code": codes[0]}
                       ).status_code == 401
    token = _challenge(app, email, clock)
    assert client.post(f"{MFA}/challenge", json={"mfa_token": token, "code": codes[0]}
                       ).status_code == 200
    # SMS: the challenge can text a code when a phone is confirmed.
    sms = LoggingSmsProvider()
    app.state.sms_provider = sms
    with db_session(app) as db:
        user = user_by_email(db, email)
        user.sms_phone_number, user.sms_enabled = "+15550000001", True
        db.commit()
    token = _challenge(app, email, clock)
    assert client.post(f"{MFA}/challenge/sms", json={"mfa_token": token}).status_code == 202
    code = re.search(r"\b(\d{6})\b", sms.sent[-1].body)
    assert code is not None
    assert client.post(f"{MFA}/challenge", json={"mfa_token": token, "code": code.group(1)}
                       ).status_code == 200
    # An expired challenge is refused.
    token = _challenge(app, email, clock)
    clock.advance(minutes=6)
    assert client.post(f"{MFA}/challenge", json={"mfa_token": token, "code": codes[1]}
                       ).status_code == 401


def test_wrong_second_factor_codes_lock_the_account(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    email = world.a.emails["owner"]
    secret, _ = _enable(str(app.state.settings.database_url), email, clock)
    token = _challenge(app, email, clock)
    for _ in range(5):
        r = client.post(f"{MFA}/challenge", json={"mfa_token": token, "code": "000000"})
        assert r.status_code == 401 and r.json()["code"] == "mfa_failed"
    with db_session(app) as db:
        user = db.scalar(select(User).where(User.email == email))
        assert user is not None and user.locked_until is not None
        assert db.scalar(select(VerificationToken).where(
            VerificationToken.identifier == f"mfa-login:{user.id}")) is None
        failures = db.scalars(select(AuditLog).where(AuditLog.action == "login.mfa_failed")).all()
        assert len(failures) == 5
    clock.advance(seconds=60)
    token = _challenge(app, email, clock)
    r = client.post(f"{MFA}/challenge", json={"mfa_token": token,
                                              "code": totp_now(secret, clock.now)})
    assert r.status_code == 401  # locked for 15 minutes, even with the right code


def test_backup_code_hashes_verify_only_their_code(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    _, codes = _enable(url, world.b.emails["manager"], clock)
    with service_session(url) as db:
        stored = user_by_email(db, world.b.emails["manager"]).mfa_backup_codes or []
    assert verify_password(codes[2], stored[2]["code"])
    assert not verify_password(codes[2], stored[3]["code"])


def test_with_mfa_on_the_password_alone_opens_no_session(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    email = world.a.emails["cashier"]
    secret, _ = _enable(str(app.state.settings.database_url), email, clock)
    clock.advance(seconds=60)
    r = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 401
    body = r.json()
    assert body["code"] == "mfa_required" and "token" not in body
    with db_session(app) as db:
        user = user_by_email(db, email)
        assert db.scalars(select(AuthSession).where(AuthSession.user_id == user.id)).all() == []
    # The challenge token from the answer completes sign-in with a TOTP code.
    r = client.post(f"{MFA}/challenge", json={"mfa_token": body["mfa_token"],
                                              "code": totp_now(secret, clock.now)})
    assert r.status_code == 200, r.text
    assert client.get(f"{API}/auth/me", headers=bearer(r.json()["token"])).status_code == 200
    # A wrong password with MFA on is still the plain, uninformative failure.
    r = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD + "x"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
