"""Wire schemas of the identity API (sign-in, sessions, staff, roles)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime

Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+$")]
Password = Annotated[str, Field(min_length=1, max_length=200)]
RoleName = Annotated[
    str, StringConstraints(pattern=r"^(OWNER|ADMIN|MANAGER|CASHIER|STAFF|VIEWER)$")
]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    password: Password


class StoreAccess(BaseModel):
    id: str
    name: str
    slug: str
    role: str
    permissions: list[str]


class UserRead(BaseModel):
    id: str
    email: str
    name: str | None
    is_super_admin: bool


class TokenRead(BaseModel):
    token: str = Field(description="Opaque bearer token; send as 'Authorization: Bearer <token>'")
    token_type: str = "bearer"
    session_id: str
    expires_at: UtcDateTime = Field(description="Absolute expiry (30 days after sign-in)")
    idle_expires_at: UtcDateTime = Field(description="Expiry if unused (7 days after last use)")


class LoginRead(TokenRead):
    user: UserRead
    stores: list[StoreAccess]


class MeRead(BaseModel):
    user: UserRead
    stores: list[StoreAccess]
    current_store_id: str | None
    role: str | None
    permissions: list[str]
    read_only: bool


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Password
    new_password: Password


class SessionRead(BaseModel):
    id: str
    user_agent: str | None
    ip_address: str | None
    created_at: UtcDateTime
    last_active_at: UtcDateTime | None
    expires_at: UtcDateTime
    current: bool


class RevokedRead(BaseModel):
    revoked: int


class StaffRead(BaseModel):
    user_id: str
    email: str
    name: str | None
    role: str
    is_active: bool
    joined_at: UtcDateTime


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    role: RoleName
    password: Password | None = Field(
        default=None, description="Initial password for a new user (ignored for existing users)"
    )


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleName | None = None
    is_active: bool | None = None


class StaffCreated(StaffRead):
    plan_warning: str | None = Field(default=None, description="Set at 80% of the plan's limit")


class RoleRead(BaseModel):
    name: str
    description: str | None
    permissions: list[str]
