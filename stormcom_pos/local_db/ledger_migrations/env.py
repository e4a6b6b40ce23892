"""Alembic environment of the till's ledger (not the server's tree).

It runs only on the connection that ``ledger_schema.upgrade`` hands it (``attributes
["connection"]``); there is no URL-driven mode. The version table is ``ledger_version`` so it
can never be mistaken for a server database's ``alembic_version``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table="ledger_version",
    render_as_batch=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
