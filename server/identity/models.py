"""Staff identity, store membership, roles, auth sessions and GDPR requests.

Seed models implemented (data-model.md §4-9, §41): ``User`` (+ ``UserStatus``),
``PasswordHistory``, ``UserStore``, ``Role``, ``Account``, ``Session``, ``VerificationToken``
and ``DSARRequest`` (+ ``DSARType``, ``DSARStatus``).

Deviations from the seed, and why:

- ``User.is_super_admin`` (product-decisions §2, FR-004A): platform-level view-everything flag.
- ``User.pos_pin_hash``: the cashier's hashed PIN that unlocks an idle-locked till (§3).
- ``User.failed_login_count`` / ``failed_login_window_start`` / ``locked_until``: not in the seed,
  but §4's lockout (5 failures in 15 minutes locks for 15 minutes, per account) needs them.
- ``User.mfa_last_totp_step``: not in the seed; "a TOTP code is never accepted twice" (§4) needs
  the last accepted time step.
- ``User.mfa_backup_codes`` is JSON (a list of ``{"code": hash, "used": bool, "usedAt": ...}``)
  instead of the seed's string holding JSON text.
- ``Role`` stays platform-wide (no ``store_id``), as in the seed. The system roles of §2
  (CASHIER included) are ``Role`` rows with ``is_system`` set; their names and permission
  strings are in ``server.identity.permissions``.
- ``User.email``, ``Role.slug``: the seed's ``@unique`` plus ``@@index`` on the same column become
  one unique index each.
- ``Session`` gains ``last_active_at``, ``ip_address`` and ``user_agent``: the active-sessions list
  (FR-090H) shows them and the 7-day idle timeout (§3) is measured from ``last_active_at``.
- ``Session``, ``VerificationToken`` and ``PasswordHistory`` get the house id and timestamps; the
  seed had no ``id`` on VerificationToken and no ``updatedAt`` on these.
- ``DSARRequest.customer_id`` (nullable, indexed): most data subjects are a store's customers,
  not its staff; the seed could only point at a ``User``.
- Every foreign-key column leads an index (``user_store.role_id``, ``dsar_request.user_id`` were
  not indexed in the seed).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import (
    ID_LENGTH,
    Entity,
    JsonType,
    SoftDeleteMixin,
    StoreOwnedMixin,
    enum_column,
)
from server.db.encrypted import EncryptedString

if TYPE_CHECKING:
    from server.stores.models import Store


class UserStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    SUSPENDED = "SUSPENDED"


class DSARType(enum.StrEnum):
    ACCESS = "ACCESS"
    ERASURE = "ERASURE"
    PORTABILITY = "PORTABILITY"


class DSARStatus(enum.StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"


def _user_fk(ondelete: str | None = "CASCADE") -> ForeignKey:
    return ForeignKey("user.id", ondelete=ondelete)


class User(SoftDeleteMixin, Entity):
    """A staff member or platform admin (not a storefront customer)."""

    # Authentication
    name: Mapped[str | None]
    email: Mapped[str] = mapped_column(unique=True, index=True)
    email_verified: Mapped[datetime | None]
    image: Mapped[str | None]
    password: Mapped[str]  # bcrypt hash, cost 12

    # MFA
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    mfa_secret: Mapped[str | None] = mapped_column(EncryptedString())  # TOTP secret
    mfa_backup_codes: Mapped[list[Any] | None]  # [{"code": hash, "used": false, "usedAt": null}]
    mfa_backup_codes_generated_at: Mapped[datetime | None]  # codes expire after a year
    mfa_last_totp_step: Mapped[int | None]  # replay guard
    sms_phone_number: Mapped[str | None]  # E.164
    sms_enabled: Mapped[bool] = mapped_column(default=False)

    # Preferences
    language: Mapped[str] = mapped_column(default="en")
    timezone: Mapped[str] = mapped_column(default="UTC")

    # Status
    status: Mapped[UserStatus] = mapped_column(
        enum_column(UserStatus), default=UserStatus.ACTIVE, index=True
    )
    last_login_at: Mapped[datetime | None]
    last_login_ip: Mapped[str | None]

    # Platform and POS additions
    is_super_admin: Mapped[bool] = mapped_column(default=False)
    pos_pin_hash: Mapped[str | None]

    # Lockout
    failed_login_count: Mapped[int] = mapped_column(default=0)
    failed_login_window_start: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]

    memberships: Mapped[list[UserStore]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    sessions: Mapped[list[Session]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    accounts: Mapped[list[Account]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    password_history: Mapped[list[PasswordHistory]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PasswordHistory.created_at.desc()",
    )


class PasswordHistory(Entity):
    """A previous password hash (the last 5 may not be reused; purged after 2 years)."""

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), _user_fk())
    password_hash: Mapped[str]  # bcrypt, cost 12

    user: Mapped[User] = relationship(back_populates="password_history")

    __table_args__ = (Index("ix_password_history_user_id_created_at", "user_id", "created_at"),)


class Role(Entity):
    """A named set of permission strings such as ``"products.create"``."""

    name: Mapped[str] = mapped_column(unique=True)  # OWNER, ADMIN, MANAGER, CASHIER, ...
    slug: Mapped[str] = mapped_column(unique=True, index=True)
    description: Mapped[str | None]
    permissions: Mapped[list[str]] = mapped_column(JsonType, default=list)
    is_system: Mapped[bool] = mapped_column(default=False)  # cannot be deleted

    memberships: Mapped[list[UserStore]] = relationship(back_populates="role")


class UserStore(StoreOwnedMixin, Entity):
    """A user's membership of a store, with the role they hold there."""

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), _user_fk())
    role_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("role.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    store: Mapped[Store] = relationship(back_populates="memberships")
    role: Mapped[Role] = relationship(back_populates="memberships")

    __table_args__ = (
        UniqueConstraint("user_id", "store_id"),
        Index("ix_user_store_store_id_is_active", "store_id", "is_active"),
    )


class Account(Entity):
    """An OAuth / OIDC / SAML identity linked to a user."""

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), _user_fk(), index=True)
    type: Mapped[str]  # oauth, oidc, saml
    provider: Mapped[str]  # google, azure-ad, okta
    provider_account_id: Mapped[str]
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[int | None]
    token_type: Mapped[str | None]
    scope: Mapped[str | None]
    id_token: Mapped[str | None] = mapped_column(Text)
    session_state: Mapped[str | None]

    user: Mapped[User] = relationship(back_populates="accounts")

    __table_args__ = (UniqueConstraint("provider", "provider_account_id"),)


class Session(Entity):
    """A signed-in back-office session (7 days idle, 30 days absolute)."""

    session_token: Mapped[str] = mapped_column(unique=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), _user_fk(), index=True)
    expires: Mapped[datetime]  # absolute expiry
    last_active_at: Mapped[datetime | None]
    ip_address: Mapped[str | None]
    user_agent: Mapped[str | None]

    user: Mapped[User] = relationship(back_populates="sessions")


class VerificationToken(Entity):
    """An email-verification or password-reset token."""

    identifier: Mapped[str]
    token: Mapped[str] = mapped_column(unique=True)
    expires: Mapped[datetime]

    __table_args__ = (UniqueConstraint("identifier", "token"),)


class DSARRequest(StoreOwnedMixin, Entity):
    """A data-subject access, erasure or portability request (GDPR, due within 48 hours)."""

    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), _user_fk("SET NULL"), index=True)
    customer_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("customer.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[DSARType] = mapped_column(enum_column(DSARType))
    status: Mapped[DSARStatus] = mapped_column(enum_column(DSARStatus), default=DSARStatus.PENDING)
    requested_by_email: Mapped[str]
    processed_at: Mapped[datetime | None]
    notes: Mapped[str | None]

    __table_args__ = (Index("ix_dsar_request_type_status", "type", "status"),)
