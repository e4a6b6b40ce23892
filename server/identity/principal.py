"""Who is acting: a staff user (through a session token) or an enrolled device.

``Principal`` is framework-free so services and the audit log can take it as ``actor``.
Permissions are resolved per request from the role the user holds in the current store, so a
role change applies on the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["user", "device", "system"]

READ_SUFFIX = ".read"


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Where a request came from, for the audit log and the session list."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated actor of a request.

    - ``kind``: ``user`` (staff session), ``device`` (an enrolled terminal) or ``system`` (jobs).
    - ``store_id``: the store this request works in (None when it needs none, e.g. /auth/me).
    - ``permissions``: what the actor may do *in that store*.
    - ``is_super_admin`` with ``cross_store`` True: a platform admin looking at a store they are
      not staff of; they get every ``*.read`` permission and nothing else.
    """

    kind: PrincipalKind
    user_id: str | None = None
    device_id: str | None = None
    store_id: str | None = None
    permissions: frozenset[str] = frozenset()
    is_super_admin: bool = False
    cross_store: bool = False
    email: str | None = None
    session_id: str | None = None
    role: str | None = None
    store_ids: tuple[str, ...] = field(default_factory=tuple)
    rate_limit: int | None = None  # requests per minute from the store's plan

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def label(self) -> str:
        """What the audit log stores as the actor (survives the user's deletion)."""
        if self.kind == "user":
            return self.email or f"user:{self.user_id}"
        if self.kind == "device":
            return f"device:{self.device_id}"
        return "system"

    @property
    def rate_key(self) -> str:
        if self.kind == "device":
            return f"device:{self.device_id}"
        return f"user:{self.user_id}"


Actor = Principal

SYSTEM = Principal(kind="system")
