"""Permission strings and the system roles (product-decisions §2).

A permission is ``<area>.<action>``, the seed's style (``orders.read``). The seed's Role table
is global, so the system roles are global rows (``is_system``) that ``seed-demo`` and
``create-store`` ensure exist; staff get one role per store through ``user_store``.
"""

from __future__ import annotations

from enum import StrEnum


class SystemRole(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    CASHIER = "CASHIER"
    STAFF = "STAFF"
    VIEWER = "VIEWER"


READ = [
    "products.read",
    "inventory.read",
    "customers.read",
    "orders.read",
    "reports.read",
    "settings.read",
    "staff.read",
    "promotions.read",
    "content.read",
    "audit.read",
]
CATALOG_WRITE = ["products.write", "inventory.write", "inventory.count"]
BACK_OFFICE = [
    *CATALOG_WRITE,
    "customers.write",
    "orders.write",
    "refunds.create",
    "refunds.approve",
    "payments.write",
    "promotions.write",
    "content.write",
    "shipping.write",
    "tax.write",
]
POS_BASIC = ["pos.sell", "pos.open_drawer_session", "pos.refund_request"]
# Actions a cashier may do only with a manager's approval on the spot.
POS_APPROVALS = [
    "pos.discount_override",
    "pos.price_override",
    "pos.no_sale",
    "pos.refund",
    "pos.cash_movement",
    "pos.close_till",
    "pos.void",
]
STORE_ADMIN = ["settings.write", "staff.write", "devices.manage", "integrations.manage"]
OWNER_ONLY = ["billing.manage", "store.delete", "store.transfer"]

ALL_PERMISSIONS: frozenset[str] = frozenset(
    READ + BACK_OFFICE + POS_BASIC + POS_APPROVALS + STORE_ADMIN + OWNER_ONLY
)

SYSTEM_ROLE_PERMISSIONS: dict[SystemRole, list[str]] = {
    SystemRole.OWNER: sorted(ALL_PERMISSIONS),
    SystemRole.ADMIN: sorted(ALL_PERMISSIONS - set(OWNER_ONLY)),
    SystemRole.MANAGER: sorted(
        set(READ + BACK_OFFICE + POS_BASIC + POS_APPROVALS + ["devices.manage"])
    ),
    # Sells, refunds only with approval, no back office.
    SystemRole.CASHIER: sorted(POS_BASIC + ["products.read", "customers.read", "customers.write"]),
    SystemRole.STAFF: sorted(set(READ + CATALOG_WRITE + ["customers.write"]) - {"audit.read"}),
    SystemRole.VIEWER: sorted(READ),
}

SYSTEM_ROLE_DESCRIPTIONS: dict[SystemRole, str] = {
    SystemRole.OWNER: "Owns the store: everything, billing included.",
    SystemRole.ADMIN: "Runs the store: everything but billing and ownership.",
    SystemRole.MANAGER: "Back office and approvals at the till.",
    SystemRole.CASHIER: "Sells at the till; refunds and overrides need a manager's approval.",
    SystemRole.STAFF: "Catalog and stock work.",
    SystemRole.VIEWER: "Reads everything, changes nothing.",
}
