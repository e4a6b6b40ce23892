"""Every model of data-model.md, plus the product-decisions additions, is a server table."""

from __future__ import annotations

import re
from pathlib import Path

from server.db.all_models import Base
from server.db.base import _snake

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "data-model.md"
ADDITIONS = {"device", "pos_cash_movement", "change_log", "push_inbox"}


def spec_model_names() -> set[str]:
    text = SPEC.read_text(encoding="utf-8")
    return set(re.findall(r"^model\s+(\w+)\s*\{", text, flags=re.MULTILINE))


def test_spec_is_readable_and_lists_the_models() -> None:
    names = spec_model_names()
    assert {"Store", "Order", "PosSession", "DSARRequest", "TaxExemption"} <= names
    assert len(names) >= 40


def test_every_spec_model_has_a_table() -> None:
    tables = set(Base.metadata.tables)
    missing = sorted(_snake(n) for n in spec_model_names() if _snake(n) not in tables)
    assert missing == [], f"models of data-model.md with no table: {missing}"


def test_product_decision_tables_exist() -> None:
    assert ADDITIONS <= set(Base.metadata.tables)


def test_store_owned_tables_carry_store_id() -> None:
    # product-decisions §2 names these child tables explicitly.
    for table in [
        "variant",
        "order_item",
        "payment",
        "shipment",
        "refund",
        "address",
        "media",
        "inventory_adjustment",
        "pos_session",
        "cart",
        "sync_queue",
        "pos_cash_movement",
        "device",
        "change_log",
        "push_inbox",
    ]:
        assert "store_id" in Base.metadata.tables[table].c, f"{table} lacks store_id"


def test_per_store_uniqueness() -> None:
    def unique_sets(table: str) -> list[set[str]]:
        t = Base.metadata.tables[table]
        sets = [
            set(c.name for c in con.columns)
            for con in t.constraints
            if con.__class__.__name__ == "UniqueConstraint"
        ]
        sets += [set(c.name for c in ix.columns) for ix in t.indexes if ix.unique]
        return sets

    assert {"store_id", "sku"} in unique_sets("variant")
    assert {"store_id", "order_number"} in unique_sets("order")
    assert {"store_id", "transaction_id"} in unique_sets("payment")


def test_money_and_rates_are_exact_decimals() -> None:
    from server.db.base import Money

    rate = Base.metadata.tables["tax_rate"].c.rate.type
    assert isinstance(rate, Money) and (rate.precision, rate.scale) == (7, 6)
    for table, col in [("order", "total"), ("payment", "amount"), ("variant", "price")]:
        assert isinstance(Base.metadata.tables[table].c[col].type, Money), f"{table}.{col}"
