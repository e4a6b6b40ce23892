"""Wire schemas of the stock ledger, adjustments, stock counts and the low-stock list."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Ident, Page, ShortText
from server.inventory.models import AdjustmentReason


class ManualReason(enum.StrEnum):
    """Reasons staff may give; ORDER_PLACED and ORDER_CANCELED belong to orders."""

    RESTOCK = "RESTOCK"
    DAMAGE = "DAMAGE"
    THEFT = "THEFT"
    CORRECTION = "CORRECTION"
    RETURN = "RETURN"
    MANUAL = "MANUAL"


class AdjustmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variant_id: Ident
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000,
                                description="Signed change: +12 received, -2 damaged")]
    reason: ManualReason
    note: ShortText | None = None

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0: a movement changes stock")
        return value


class MovementRead(BaseModel):
    id: str
    variant_id: str
    quantity_change: int
    new_quantity: int = Field(description="Stock right after this movement")
    reason: AdjustmentReason
    notes: str | None
    user_id: str | None
    order_id: str | None
    created_at: UtcDateTime


MovementPage = Page[MovementRead]


class CountLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variant_id: Ident
    counted: Annotated[int, Field(ge=0, le=10_000_000)]
    seen: Annotated[int, Field(ge=-10_000_000, le=10_000_000)] | None = Field(
        default=None,
        description="On-hand figure the counter was shown when counting. When sent, the "
                    "movement is counted - seen, so sales made during the count are kept; "
                    "otherwise stock is set to counted.")


class StockCountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[CountLine] = Field(min_length=1, max_length=500)
    note: ShortText | None = None


class CountResultLine(BaseModel):
    variant_id: str
    sku: str
    on_hand_before: int
    counted: int
    delta: int
    new_quantity: int
    movement_id: str


class StockCountRead(BaseModel):
    items: list[CountResultLine]


class LowStockItem(BaseModel):
    variant_id: str
    product_id: str
    product_name: str
    sku: str
    barcode: str | None
    stock_quantity: int
    low_stock_threshold: int


LowStockPage = Page[LowStockItem]
