"""Wire building blocks shared by the catalog, inventory and customer schemas (no FastAPI).

- Text types refuse NUL characters (PostgreSQL text cannot hold them) and bound every length.
- Money is ``Decimal`` with two places and ten digits (the columns' ``Money(10, 2)``); it is
  serialized as a string, so no client ever sees a float.
- ``Page[T]`` is every list's envelope: ``items``, ``total``, ``page``, ``page_size``
  (20 by default, 100 at most).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field, StringConstraints

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000
NO_NUL = r"^[^\x00]*$"

T = TypeVar("T")


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                        pattern=NO_NUL)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500,
                                             pattern=NO_NUL)]
LongText = Annotated[str, StringConstraints(max_length=20_000, pattern=NO_NUL)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120,
                                        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500,
                                       pattern=r"^(https?://|/)[^\s\x00]*$")]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                        pattern=r"^[^\s\x00]+$")]
Ident = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
Quantity = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
Threshold = Annotated[int, Field(ge=0, le=1_000_000)]
Order = Annotated[int, Field(ge=0, le=1_000_000)]

MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
Measure = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(description="How many items match, over all pages")
    page: int
    page_size: int


def offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size
