"""The till's one SQLite file: a disposable cache of server data and a precious ledger.

- ``database``: the connection rules (WAL, synchronous=FULL, explicit BEGIN IMMEDIATE writes),
  the ledger's Alembic upgrade with a backup first, and the cache's version check.
- ``outbox``, ``sync_state`` and ``ledger_repo``: what this till recorded and must push.
- ``cache_apply`` and ``catalog_repo``: the mirror of the server's rows and the till's reads.
"""
