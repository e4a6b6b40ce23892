"""Password, PIN and token hashing. bcrypt (cost 12) for secrets people choose; SHA-256 for
long random tokens, which need no key stretching and must be looked up by hash."""

from __future__ import annotations

import hashlib
import secrets

import bcrypt

BCRYPT_COST = 12


def hash_password(password: str, *, cost: int = BCRYPT_COST) -> str:
    """bcrypt hash of a password or PIN (cost 12 by default)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=cost)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """True if ``password`` matches the bcrypt ``hashed``; False for malformed hashes."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except ValueError:
        return False


def hash_token(token: str) -> str:
    """SHA-256 hex of a high-entropy random token (sessions, pairing codes, credentials)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
