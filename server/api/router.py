"""Mounts every domain's router under ``/api/v1``. The only module that imports ``views``."""

from __future__ import annotations

from fastapi import APIRouter

from server.audit import views as audit_views
from server.catalog import media_views, products_views, taxonomy_views
from server.customers import views as customers_views
from server.identity import approvals_views, mfa_views, staff_views, tokens_views
from server.identity import views as identity_views
from server.inventory import views as inventory_views
from server.orders import views as orders_views
from server.payments import refunds_views
from server.payments import views as payments_views
from server.pos import anomalies_views, devices_views, sessions_views
from server.promotions import views as promotions_views
from server.shipping import views as shipping_views
from server.stores import views as stores_views
from server.sync import views as sync_views
from server.tax import views as tax_views

API_PREFIX = "/api/v1"


def build_api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX)
    # Routes are matched in order, one by one: the sync routes every till calls all day come
    # first (matching ~280 routes before them cost a push ~3 ms).
    api.include_router(sync_views.router)
    api.include_router(identity_views.router)
    api.include_router(staff_views.router)
    api.include_router(stores_views.router)
    api.include_router(audit_views.router)
    api.include_router(mfa_views.router)
    api.include_router(tokens_views.router)
    api.include_router(approvals_views.router)
    api.include_router(approvals_views.pin_router)
    api.include_router(devices_views.router)
    api.include_router(products_views.router)
    api.include_router(taxonomy_views.router)
    api.include_router(media_views.router)
    api.include_router(inventory_views.router)
    api.include_router(customers_views.router)
    api.include_router(orders_views.router)
    api.include_router(payments_views.router)
    api.include_router(refunds_views.router)
    api.include_router(sessions_views.router)
    api.include_router(tax_views.router)
    api.include_router(shipping_views.router)
    api.include_router(promotions_views.router)
    api.include_router(anomalies_views.router)
    return api
