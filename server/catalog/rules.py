"""Catalog rules shared by its services: slugs, field errors, barcodes, prices, conflicts.

No FastAPI here. Errors are ``server.errors`` types; a 422 that concerns one input field
carries ``errors=[{"location", "field", "message", "type"}]`` like a validation error does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.base import new_id
from server.errors import Conflict, Invalid
from stormcom_pos.domain.barcodes import Barcode, InvalidBarcode, classify
from stormcom_pos.domain.money import round_money

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def field_error(field: str, message: str, *, code: str = "invalid_field",
                location: str = "body") -> Invalid:
    """A 422 naming one input field (dotted path, list indexes included: ``variants.0.sku``)."""
    return Invalid(
        f"{field}: {message}", code=code,
        errors=[{"location": [location, *field.split(".")], "field": field,
                 "message": message, "type": code}],
    )


def slugify(name: str) -> str:
    """ASCII kebab-case of a name ('Café Crème' -> 'cafe-creme'); '' when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")[:100]


def unique_slug(
    session: Session, model: Any, *, name: str, wanted: str | None, exclude_id: str | None = None
) -> str:
    """``wanted`` if given and free (409 if taken), else a free slug made from ``name``.

    Soft-deleted rows keep their slug (the unique key covers them), so they count as taken.
    """
    def taken(slug: str) -> bool:
        stmt = select(model.id).where(model.slug == slug)
        if exclude_id:
            stmt = stmt.where(model.id != exclude_id)
        return session.scalar(stmt.limit(1)) is not None

    if wanted:
        if taken(wanted):
            raise Conflict(f"The slug '{wanted}' is already used by another "
                           f"{model.__tablename__.replace('_', ' ')}.", code="slug_taken",
                           field="slug", slug=wanted)
        return wanted
    base = slugify(name) or f"item-{new_id()[:8]}"
    if not taken(base):
        return base
    for n in range(2, 50):
        if not taken(f"{base}-{n}"):
            return f"{base}-{n}"
    return f"{base}-{new_id()[:8]}"


def check_barcode(code: str | None, field: str) -> Barcode | None:
    """Validate a retail barcode (EAN-13, EAN-8, UPC-A, UPC-E) or raise a 422 saying what is
    wrong with it (length, non-digits, or the check digit it should have)."""
    if code is None:
        return None
    try:
        return classify(code)
    except InvalidBarcode as exc:
        raise Invalid(
            f"{field}: {exc.message}", code="invalid_barcode", reason=exc.reason,
            expected_check_digit=exc.expected_check,
            errors=[{"location": ["body", *field.split(".")], "field": field,
                     "message": exc.message, "type": f"invalid_barcode.{exc.reason}"}],
        ) from None


def check_money(value: Decimal | None, currency: str, field: str) -> Decimal | None:
    """The amount at the currency's precision; 422 if it has more decimals than allowed."""
    if value is None:
        return None
    exact = round_money(value, currency)
    if exact != value:
        raise field_error(field, f"{value} has more decimal places than {currency} allows",
                          code="invalid_amount")
    return exact


def flush_or_conflict(session: Session, conflict: Callable[[IntegrityError], Conflict]) -> None:
    """Flush; a unique-key race (a concurrent request took the SKU or slug between our check
    and our flush) becomes the given 409 instead of a 500. The request's owner rolls back."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise conflict(exc) from None


def slug_race(slug: str) -> Callable[[IntegrityError], Conflict]:
    """The 409 for a slug taken by a concurrent request between our check and our flush."""
    return lambda _: Conflict(f"The slug '{slug}' was just taken.", code="slug_taken",
                              field="slug", slug=slug)


def reject_nulls(changes: dict[str, Any], names: Sequence[str]) -> None:
    """422 when an update sends null for a field that cannot be empty."""
    for name in names:
        if name in changes and changes[name] is None:
            raise field_error(name, "cannot be null")


def paged(session: Session, stmt: Select[Any], order: Sequence[Any], page: int,
          page_size: int) -> tuple[Sequence[Any], int]:
    """One page of an ORM select and the total it matches."""
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(*order).offset((page - 1) * page_size)
                           .limit(page_size)).all()
    return rows, int(total)
