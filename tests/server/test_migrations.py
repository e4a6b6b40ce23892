"""The Alembic tree goes up and down on both backends, and matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server.db import migrate
from server.db.all_models import Base
from server.db.engine import make_engine


def test_upgrade_to_head_then_down_to_base(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migrate.current_revision(engine) is not None

    migrate.downgrade(engine, "base")
    left = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert left == set(), f"downgrade left tables behind: {sorted(left)}"
    assert migrate.current_revision(engine) is None
    engine.dispose()


def test_migrated_database_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": migrate.include_object}
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == [], f"autogenerate found differences: {diff}"
