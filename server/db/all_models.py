"""Import every domain's models so the metadata is complete (Alembic, tests, create_all)."""

from server.audit import models as audit_models  # noqa: F401
from server.catalog import models as catalog_models  # noqa: F401
from server.content import models as content_models  # noqa: F401
from server.customers import models as customers_models  # noqa: F401
from server.db.base import Base
from server.idempotency import models as idempotency_models  # noqa: F401
from server.identity import models as identity_models  # noqa: F401
from server.integrations import models as integrations_models  # noqa: F401
from server.inventory import models as inventory_models  # noqa: F401
from server.orders import models as orders_models  # noqa: F401
from server.payments import models as payments_models  # noqa: F401
from server.pos import anomaly_models as pos_anomaly_models  # noqa: F401
from server.pos import models as pos_models  # noqa: F401
from server.promotions import models as promotions_models  # noqa: F401
from server.ratelimit import models as ratelimit_models  # noqa: F401
from server.shipping import models as shipping_models  # noqa: F401
from server.stores import models as stores_models  # noqa: F401
from server.sync import changes as sync_changes  # noqa: F401 - registers change capture
from server.sync import models as sync_models  # noqa: F401
from server.tax import models as tax_models  # noqa: F401

__all__ = ["Base"]
