"""Declarative base, column types and mixins shared by every server model.

Conventions (one place, so every domain's ``models.py`` looks the same):

- table names are singular snake_case of the model name (``OrderItem`` -> ``order_item``);
- ids are cuid2 strings minted in Python, so terminals can mint them offline too;
- every row has ``created_at``/``updated_at`` (UTC, timezone-aware);
- money is ``Money`` (NUMERIC on PostgreSQL, exact decimal text on SQLite);
- JSON is JSONB on PostgreSQL;
- enums are stored as their string value in a VARCHAR (no native PG enum types, which
  make every new member a migration with a table lock);
- constraints follow ``NAMING_CONVENTION`` so Alembic can name, find and drop them.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cuid2 import create_id
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    MetaData,
    Numeric,
    String,
    TypeDecorator,
    event,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 32  # cuid2 default is 24; leave room for longer ids minted by terminals


def new_id() -> str:
    """A fresh cuid2 id."""
    return create_id()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact decimal money: NUMERIC(19, 4) on PostgreSQL, canonical text on SQLite.

    SQLite has no decimal type; SQLAlchemy's Numeric there goes through float and can
    lose cents, so we store the decimal's string and read it back exactly.
    """

    impl = Numeric(19, 4)
    cache_ok = True

    def __init__(self, precision: int = 19, scale: int = 4) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale
        self.impl = Numeric(precision, scale, asdecimal=True)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        value = Decimal(value)
        if dialect.name == "sqlite":
            return str(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)) if dialect.name == "sqlite" else Decimal(value)


class Rate(Money):
    """A tax rate or percentage as an exact fraction: NUMERIC(7, 6) (product-decisions §2)."""

    cache_ok = True  # SQLAlchemy reads this from each class's own __dict__

    def __init__(self, precision: int = 7, scale: int = 6) -> None:
        super().__init__(precision, scale)


JsonType = JSON().with_variant(JSONB(), "postgresql")


def enum_column(enum_cls: type[enum.Enum]) -> SAEnum:
    """Store an enum's value in a VARCHAR, no native type, validated on the way in."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=max(32, max(len(m.value) for m in enum_cls)),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z][a-z])", r"_\1\2", name).lower()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        Decimal: Money(),
        datetime: DateTime(timezone=True),
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }

    @declared_attr.directive
    def __tablename__(cls) -> str:  # noqa: N805 - SQLAlchemy passes the class
        return _snake(cls.__name__)


class IdMixin:
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)


@event.listens_for(IdMixin, "init", propagate=True)
def _mint_id(_target: Any, _args: Any, kwargs: dict[str, Any]) -> None:
    # The id is minted when the object is made, not left to the column default at flush: a
    # flush that knows every primary key sends a table's rows as one pipelined executemany
    # of a short statement; without them it builds one multi-row INSERT, which psycopg
    # re-parses on every push (it caches only short statements).
    if not kwargs.get("id"):
        kwargs["id"] = new_id()


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class StoreOwnedMixin:
    """Tenancy: every store-owned row carries its store (product-decisions §2)."""

    @declared_attr
    def store_id(cls) -> Mapped[str]:  # noqa: N805
        return mapped_column(
            String(ID_LENGTH), ForeignKey("store.id", ondelete="CASCADE"), index=True
        )


class Entity(IdMixin, TimestampMixin, Base):
    """A row with a cuid2 id and timestamps."""

    __abstract__ = True


def fk(target: str, *, ondelete: str | None = None) -> ForeignKey:
    """A foreign key to ``<table>.id`` with the house id length implied by the column."""
    return ForeignKey(f"{target}.id", ondelete=ondelete)
