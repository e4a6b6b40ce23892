"""Ringing up a sale: scan, search results added, quantities, discounts, overrides, coupons,
customers, parking, and completing it with its tenders.

Completing a sale commits it and its outbox entry in ONE local transaction first; only after
the commit does the receipt print and (for cash) the drawer open. A printer failure puts the
receipt in the reprint queue and comes back as a warning; the sale is never lost or blocked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from stormcom_pos.domain.barcodes import (
    EmbeddedKind,
    InvalidBarcode,
    classify,
    is_receipt_barcode,
    parse_embedded,
)
from stormcom_pos.domain.cash import denominations_for
from stormcom_pos.domain.discounts import ManualDiscount, ManualDiscountKind
from stormcom_pos.domain.money import ZERO, format_money, round_money
from stormcom_pos.domain.pricing import PricedCart
from stormcom_pos.local_db import catalog_repo
from stormcom_pos.services import cart_state, checkout, customers_parking, permissions
from stormcom_pos.services.auth import Approval, AuthService
from stormcom_pos.services.cart_state import CartState, Line
from stormcom_pos.services.cart_views import (
    CartView,
    CustomerView,
    ParkedView,
    SaleResult,
    ScanResult,
    cart_view,
    stock_warning,
)
from stormcom_pos.services.errors import CouponRefused, InvalidInput, UnknownBarcode
from stormcom_pos.services.ids import new_id
from stormcom_pos.services.printing import Printing
from stormcom_pos.services.runtime import TillRuntime
from stormcom_pos.services.sale_record import Tender

_HUNDRED = Decimal(100)


class SaleService:
    """The sale in progress at this till (one at a time; park to start another)."""

    def __init__(self, runtime: TillRuntime, auth: AuthService, printing: Printing,
                 open_session: Callable[[], str]) -> None:
        self._runtime = runtime
        self._auth = auth
        self._printing = printing
        self._open_session = open_session
        self._state = CartState()
        self._priced: PricedCart | None = None
        self._lock = threading.RLock()
        self.last_receipt_number: str | None = None

    # ---- reading -------------------------------------------------------------------------

    def _price(self) -> PricedCart:
        if self._priced is None:
            with self._runtime.db.read() as conn:
                self._priced = cart_state.price(self._state, self._runtime.rules(),
                                                self._runtime.tax_rates(), conn,
                                                self._runtime.now())
        return self._priced

    def _changed(self) -> None:
        self._priced = None

    def cart(self) -> CartView:
        with self._lock:
            return cart_view(self._state, self._price())

    def _line(self, line_id: str) -> Line:
        line = self._state.line(line_id)
        if line is None:
            raise InvalidInput("line_id", "That line is no longer in the cart.")
        return line

    # ---- adding --------------------------------------------------------------------------

    def _add(self, hit: Any, quantity: Decimal, *, weighed: bool = False,
             label_price: Decimal | None = None) -> ScanResult:
        if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
            raise InvalidInput("quantity", "The quantity must be more than zero.")
        self._auth.require_cashier()
        with self._lock:
            line = None
            if not weighed and label_price is None and not getattr(hit, "weighed", False):
                line = next((ln for ln in self._state.lines if ln.hit.variant_id == hit.variant_id
                             and ln.label_price is None and ln.override_price is None
                             and ln.discount is None), None)
            if line is not None:
                line.quantity += quantity
            else:
                line = Line(new_id(), hit, quantity, weighed=weighed or bool(
                    getattr(hit, "weighed", False)), label_price=label_price)
                self._state.lines.append(line)
            self._changed()
            return ScanResult(line.line_id, f"Added {hit.name}",
                              stock_warning(self._state, hit.variant_id))

    def add_variant(self, variant_id: str, quantity: Decimal = Decimal(1)) -> ScanResult:
        with self._runtime.db.read() as conn:
            hit = catalog_repo.by_variant_id(conn, variant_id)
        if hit is None:
            raise InvalidInput("variant_id", "That product is no longer in the catalog.")
        return self._add(hit, quantity)

    def scan(self, code: str) -> ScanResult:
        """Add the product a scanned code names (weighed and priced scale labels included)."""
        code = (code or "").strip()
        if not code:
            raise UnknownBarcode(code, "Nothing was scanned.")
        if is_receipt_barcode(code):
            return ScanResult(None, f"That is a receipt ({code}); open Returns to refund it.")
        with self._runtime.db.read() as conn:
            hit = catalog_repo.by_barcode(conn, code) or catalog_repo.by_sku(conn, code)
            if hit is not None:
                return self._add(hit, Decimal(1))
            if not code.isdigit():
                raise UnknownBarcode(code)
            try:
                classify(code)
                label = parse_embedded(code)
            except InvalidBarcode as exc:
                raise UnknownBarcode(code, f"Unknown barcode {code}: {exc}") from exc
            if label is None:
                raise UnknownBarcode(code)
            hit = catalog_repo.by_plu(conn, label.item_code)
        if hit is None:
            raise UnknownBarcode(code, f"Unknown barcode {code}: no item has PLU "
                                       f"{label.item_code}")
        if label.kind is EmbeddedKind.WEIGHT and label.weight_kg:
            return self._add(hit, label.weight_kg, weighed=True)
        if label.price is not None:
            return self._add(hit, Decimal(1), weighed=True, label_price=label.price)
        raise UnknownBarcode(code, f"Unknown barcode {code}: the label has no weight or price")

    # ---- editing -------------------------------------------------------------------------

    def set_quantity(self, line_id: str, quantity: Decimal) -> None:
        if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
            raise InvalidInput("quantity", "The quantity must be more than zero; "
                                           "remove the line instead.")
        with self._lock:
            self._line(line_id).quantity = quantity
            self._changed()

    def remove_line(self, line_id: str) -> None:
        with self._lock:
            self._state.lines.remove(self._line(line_id))
            self._changed()

    def _manual(self, base: Decimal, percent: Decimal | None, amount: Decimal | None,
                reason: str, approval: Approval | None) -> ManualDiscount | None:
        if (percent is None) == (amount is None):
            raise InvalidInput("discount", "Give either a percentage or an amount.")
        value = percent if percent is not None else amount
        assert value is not None
        if not value.is_finite() or value < 0 or (percent is not None and value > _HUNDRED):
            raise InvalidInput("discount", "A discount must be between 0 and 100% "
                                           "or a positive amount.")
        if value == 0:
            return None
        share = value if percent is not None else (value * _HUNDRED / base if base else _HUNDRED)
        approved_by = None
        if share > self._runtime.config.cashier_discount_limit_percent:
            approved_by = self._auth.authorize(permissions.DISCOUNT_OVERRIDE, approval)
        if not reason.strip():
            raise InvalidInput("reason", "Give a reason for the discount.")
        kind = ManualDiscountKind.PERCENT if percent is not None else ManualDiscountKind.AMOUNT
        return ManualDiscount(kind, value, reason.strip(), approved_by)

    def discount_line(self, line_id: str, *, percent: Decimal | None = None,
                      amount: Decimal | None = None, reason: str = "",
                      approval: Approval | None = None) -> None:
        with self._lock:
            line = self._line(line_id)
            gross = round_money(line.unit_price * line.quantity, self._runtime.rules().currency)
            line.discount = self._manual(gross, percent, amount, reason, approval)
            self._changed()

    def discount_order(self, *, percent: Decimal | None = None, amount: Decimal | None = None,
                       reason: str = "", approval: Approval | None = None) -> None:
        with self._lock:
            self._state.order_discount = self._manual(self._price().net, percent, amount,
                                                      reason, approval)
            self._changed()

    def override_price(self, line_id: str, price: Decimal, reason: str,
                       approval: Approval | None = None) -> None:
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            raise InvalidInput("price", "The price must be zero or more.")
        currency = self._runtime.rules().currency
        if round_money(price, currency) != price:
            raise InvalidInput("price", f"{price} has more decimals than {currency} allows.")
        if not reason.strip():
            raise InvalidInput("reason", "Give a reason for the price change.")
        with self._lock:
            line = self._line(line_id)
            approved_by = self._auth.authorize(permissions.PRICE_OVERRIDE, approval)
            line.override_price, line.override_reason = price, reason.strip()
            line.override_approved_by = approved_by or self._auth.require_cashier().user_id
            self._changed()

    # ---- coupons and customers -----------------------------------------------------------

    def apply_coupon(self, code: str) -> str:
        """Add a coupon; raise CouponRefused with the shared rules' reason if it does not apply."""
        code = (code or "").strip().upper()
        if not code:
            raise CouponRefused("Enter a coupon code.")
        with self._lock:
            if code in self._state.coupon_codes:
                raise CouponRefused(f"Coupon {code} is already on this sale.")
            self._state.coupon_codes.append(code)
            self._changed()
            priced = self._price()
            refusal = next((r for r in priced.rejected_coupons
                            if r.coupon_code.upper() == code), None)
            if refusal is not None:
                self._state.coupon_codes.remove(code)
                self._changed()
                raise CouponRefused(refusal.reason)
            taken = next((c.amount for c in priced.applied_coupons if c.code.upper() == code),
                         ZERO)
        rules = self._runtime.rules()
        return f"Coupon {code}: {format_money(taken, rules.currency, rules.locale)} off"

    def remove_coupon(self, code: str) -> None:
        with self._lock:
            wanted = (code or "").strip().upper()
            self._state.coupon_codes = [c for c in self._state.coupon_codes if c != wanted]
            self._changed()

    def attach_customer(self, customer_id: str | None) -> None:
        with self._lock:
            if customer_id is None:
                self._state.customer_id = self._state.customer_name = None
            else:
                view = customers_parking.customer_view(self._runtime, customer_id)
                self._state.customer_id, self._state.customer_name = view.id, view.name
            self._changed()

    def create_customer(self, first_name: str, last_name: str | None = None,
                        phone: str | None = None, email: str | None = None) -> str:
        """Create a customer offline (pushed like a sale) and put them on this sale."""
        cashier = self._auth.require_cashier()
        customer_id = customers_parking.create_customer(
            self._runtime, cashier.user_id, first_name, last_name, phone, email)
        self.attach_customer(customer_id)
        return customer_id

    def find_customers(self, text: str) -> list[CustomerView]:
        return customers_parking.find_customers(self._runtime, text)

    # ---- parking -------------------------------------------------------------------------

    def park(self, label: str) -> str:
        with self._lock:
            if not self._state.lines:
                raise InvalidInput("cart", "There is nothing to park.")
            park_id = customers_parking.park(self._runtime, self._state, self._price().total,
                                             label)
            self.clear()
            return park_id

    def parked(self) -> list[ParkedView]:
        return customers_parking.parked(self._runtime)

    def recall(self, park_id: str) -> None:
        with self._lock:
            if self._state.lines:
                raise InvalidInput("cart", "Park or finish the current sale first.")
            self._state = customers_parking.recall(self._runtime, park_id)
            self._changed()

    def clear(self) -> None:
        with self._lock:
            self._state = CartState()
            self._changed()

    # ---- paying --------------------------------------------------------------------------

    def quick_amounts(self) -> list[Decimal]:
        """Cash amounts to offer: the exact (cash-rounded) total, then round-ups in notes."""
        rules = self._runtime.rules()
        due = checkout.cash_due_now(self._price().total, rules)
        amounts = [due]
        try:
            notes = sorted(denominations_for(rules.currency).notes)
        except Exception:  # a currency without a denomination table: exact amount only
            return amounts
        for note in notes:
            up = (due / note).to_integral_value(rounding="ROUND_CEILING") * note
            if up > amounts[-1] and up not in amounts:
                amounts.append(up)
            if len(amounts) >= 5:
                break
        return amounts

    def complete(self, tenders: list[Tender]) -> SaleResult:
        """Record the sale durably, then print and open the drawer; then ask sync to push."""
        cashier = self._auth.require_cashier()
        self._auth.authorize(permissions.SELL, None)
        with self._lock:
            if not self._state.lines:
                raise InvalidInput("cart", "The cart is empty.")
            session_id = self._open_session()
            result = checkout.complete_sale(
                self._runtime, self._printing, self._auth, state=self._state,
                priced=self._price(), tenders=tenders, session_id=session_id,
                cashier=cashier)
            self.last_receipt_number = result.receipt_number
            self.clear()
        return result
