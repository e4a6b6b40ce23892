"""Alembic environment: one tree for the server, batch mode on SQLite.

On SQLite the migrations run with foreign keys off (SQLite's procedure for schema changes,
checked with ``PRAGMA foreign_key_check`` before the commit): batch mode copies a table, drops
the original and renames the copy, and with foreign keys enforced that drop would run the
ON DELETE actions of every row referring to it (``user`` has many).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from server.config import Settings
from server.db import encrypted
from server.db.all_models import Base
from server.db.engine import make_engine
from server.db.migrate import include_object

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    with connection.begin():
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    if not encrypted.is_configured():  # 0008 encrypts the stored secrets with the data key
        url = engine.url.render_as_string(hide_password=False)
        encrypted.configure_from_settings(Settings(database_url=url))
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            _run(connection)
            return
        # Only outside a transaction does SQLite take this pragma.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            _run(connection)
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


run_migrations_online()
