"""What the ledger refuses, as exceptions the services can show to a person."""

from __future__ import annotations


class LedgerError(Exception):
    code = "ledger_error"


class DrawerAlreadyOpen(LedgerError):
    code = "drawer_already_open"


class DrawerNotOpen(LedgerError):
    code = "drawer_not_open"


class UnsyncedLedger(LedgerError):
    code = "unsynced_ledger"
