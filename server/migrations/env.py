"""Alembic environment: one tree for the server, batch mode on SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from server.db.all_models import Base
from server.db.engine import make_engine
from server.db.migrate import include_object

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        context.run_migrations()


run_migrations_online()
