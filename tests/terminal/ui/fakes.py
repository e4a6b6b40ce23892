"""An in-memory stand-in for ``PosContext`` with the services contract's names, so the UI can
be driven without a database or a server. Value types (fake_values.py) are duck-typed twins
of the services' own.

The arithmetic here is deliberately crude (one flat tax, simple percentages): these tests check
what the UI does with the services' answers, not the pricing rules (tests/domain does that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.money import round_money
from stormcom_pos.services.errors import (
    ApprovalRefused,
    ApprovalRequired,
    CouponRefused,
    InvalidInput,
    LoginFailed,
    NoOpenDrawer,
    RefundRefused,
    SetupError,
    UnknownBarcode,
)
from tests.terminal.ui.fake_till import (
    FakeCatalog,
    FakeDrawer,
    FakeReceipts,
    FakeSettings,
    FakeStatus,
)
from tests.terminal.ui.fake_values import (
    CASHIER_DISCOUNT_LIMIT,
    NOW,
    PRODUCTS,
    STAFF,
    TAX_RATE,
    Approval,
    CartLineView,
    CartView,
    Cashier,
    CustomerView,
    FakeHit,
    ParkedView,
    RefundResult,
    ReturnLineView,
    SaleResult,
    SaleView,
    ScanResult,
    SetupProgress,
    StaffChoice,
)

__all__ = ["FakePos", "SetupProgress"]


class FakeSetup:
    def __init__(self, pos: FakePos) -> None:
        self.pos = pos
        self.fail_next_bootstrap = False
        self.enrolled_with: tuple[str, str, str] | None = None

    def enrol(self, server_url: str, pairing_code: str, terminal_name: str) -> None:
        if pairing_code != "PAIR-1234":
            raise SetupError("The server does not know this pairing code (or it was used).")
        self.enrolled_with = (server_url, pairing_code, terminal_name)

    def bootstrap(self, progress: Any) -> None:
        total = 4
        for loaded in range(1, total + 1):
            progress(SetupProgress("Products", loaded * 50, total * 50, loaded / total,
                                   (total - loaded) * 1.5, loaded >= 2, False))
            if self.fail_next_bootstrap and loaded == 2:
                self.fail_next_bootstrap = False
                raise SetupError("The server stopped answering during the first sync.")
        progress(SetupProgress("Done", 200, 200, 1.0, 0.0, True, True))
        self.pos.needs_setup = False


class FakeAuth:
    def __init__(self, pos: FakePos) -> None:
        self.pos = pos
        self.current: Cashier | None = None
        self.locked = False
        self.idle_timeout_s = 300
        self.approvals: list[Approval] = []

    def staff(self) -> list[StaffChoice]:
        return [StaffChoice(uid, name, role) for uid, (name, role, _, _) in STAFF.items()]

    def pin_login(self, user_id: str, pin: str) -> Cashier:
        name, role, real_pin, perms = STAFF.get(user_id, ("", "", None, frozenset()))
        if pin != real_pin:
            raise LoginFailed("Wrong PIN, or this person may not use the till. Try again.")
        self.current, self.locked = Cashier(user_id, name, role, perms), False
        return self.current

    def password_login(self, email: str, password: str, totp: str | None) -> Cashier:
        if not self.pos.status.online:
            raise LoginFailed("Password sign-in needs the server; use your PIN while offline.")
        raise LoginFailed("Wrong email or password.")

    def lock(self) -> None:
        self.locked = self.current is not None

    def logout(self) -> None:
        self.current, self.locked = None, False

    def can(self, permission: str) -> bool:
        return bool(self.current and not self.locked and permission in self.current.permissions)

    def approve(self, permission: str, approver_user_id: str, secret: str, reason: str) -> Approval:
        name, _, pin, perms = STAFF[approver_user_id]
        if secret != pin or permission not in perms:
            raise ApprovalRefused("Approval refused: the approver or PIN is not right.")
        approval = Approval(approver_user_id, name, permission, reason, NOW)
        self.approvals.append(approval)
        return approval

    def authorize(self, permission: str, approval: Approval | None, what: str) -> None:
        if self.can(permission):
            return
        if approval is None or approval.permission != permission:
            raise ApprovalRequired(permission, True, f"{what} needs a manager's approval.")


@dataclass
class _Line:
    line_id: str
    hit: FakeHit
    quantity: Decimal
    price: Decimal
    percent: Decimal = Decimal(0)


@dataclass
class _Sale:
    order_id: str
    receipt_number: str
    lines: list[tuple[str, str, Decimal, Decimal]]  # item id, name, qty, unit total
    total: Decimal
    tenders: list[Any]
    refunded: dict[str, Decimal] = field(default_factory=dict)


class FakeSales:
    def __init__(self, pos: FakePos) -> None:
        self.pos = pos
        self.lines: list[_Line] = []
        self.order_percent = Decimal(0)
        self.coupons: list[str] = []
        self.customer: str | None = None
        self.parked_sales: dict[str, tuple[str, list[_Line], Decimal]] = {}
        self.customers: dict[str, CustomerView] = {
            "c-1": CustomerView("c-1", "Rahim Uddin", "01711000000", None)}
        self.completed: list[_Sale] = []
        self._ids = 0

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{self._ids}"

    def _line_total(self, line: _Line) -> tuple[Decimal, Decimal]:
        gross = round_money(line.price * line.quantity, "USD")
        discount = round_money(gross * (line.percent + self.order_percent) / 100, "USD")
        return gross - discount, discount

    def cart(self) -> CartView:
        views, subtotal, discounts = [], Decimal(0), Decimal(0)
        for line in self.lines:
            total, discount = self._line_total(line)
            subtotal += total + discount
            discounts += discount
            short = line.quantity > line.hit.stock_on_hand
            views.append(CartLineView(line.line_id, line.hit.variant_id, line.hit.name,
                                      line.hit.sku, line.quantity, line.price, discount, total,
                                      f"Only {line.hit.stock_on_hand} in stock" if short else None))
        net = subtotal - discounts
        tax = round_money(net * TAX_RATE, "USD")
        taxes = [("Sales tax", TAX_RATE, tax)] if self.lines else []
        name = self.customers[self.customer].name if self.customer else None
        count = sum((line.quantity for line in self.lines), Decimal(0))
        return CartView(views, subtotal, discounts, taxes, net + tax, name, list(self.coupons),
                        count)

    def _need_drawer(self) -> None:
        if self.pos.drawer.session is None:
            raise NoOpenDrawer()

    def add_variant(self, variant_id: str, quantity: Decimal = Decimal(1)) -> ScanResult:
        self._need_drawer()
        hit = next(p for p in PRODUCTS if p.variant_id == variant_id)
        for line in self.lines:
            if line.hit is hit:
                line.quantity += quantity
                break
        else:
            line = _Line(self._id("line"), hit, quantity, hit.price)
            self.lines.append(line)
        warning = f"Only {hit.stock_on_hand} in stock" if line.quantity > hit.stock_on_hand \
            else None
        return ScanResult(line.line_id, f"Added {hit.name}", warning)

    def scan(self, code: str) -> ScanResult:
        hit = next((p for p in PRODUCTS if code in (p.barcode, p.sku)), None)
        if hit is None:
            raise UnknownBarcode(code)
        return self.add_variant(hit.variant_id)

    def _line(self, line_id: str) -> _Line:
        return next(line for line in self.lines if line.line_id == line_id)

    def set_quantity(self, line_id: str, quantity: Decimal) -> None:
        if quantity <= 0:
            raise InvalidInput("quantity", "Quantity must be above zero.")
        self._line(line_id).quantity = quantity

    def remove_line(self, line_id: str) -> None:
        self.lines.remove(self._line(line_id))

    def discount_line(self, line_id: str, *, percent: Decimal | None = None,
                      amount: Decimal | None = None, reason: str = "",
                      approval: Approval | None = None) -> None:
        if (percent or Decimal(0)) > CASHIER_DISCOUNT_LIMIT:
            self.pos.auth.authorize("pos.discount.override", approval, "A discount over 10%")
        self._line(line_id).percent = percent or Decimal(0)

    def discount_order(self, *, percent: Decimal | None = None, amount: Decimal | None = None,
                       reason: str = "", approval: Approval | None = None) -> None:
        if (percent or Decimal(0)) > CASHIER_DISCOUNT_LIMIT:
            self.pos.auth.authorize("pos.discount.override", approval, "A discount over 10%")
        self.order_percent = percent or Decimal(0)

    def override_price(self, line_id: str, price: Decimal, reason: str,
                       approval: Approval | None = None) -> None:
        self.pos.auth.authorize("pos.price.override", approval, "Changing a price")
        self._line(line_id).price = price

    def apply_coupon(self, code: str) -> str:
        code = code.strip().upper()
        if code == "EXPIRED5":
            raise CouponRefused("Coupon EXPIRED5 expired on 30 Nov 2026.")
        if code != "WELCOME10":
            raise CouponRefused(f"There is no coupon {code}.")
        self.coupons.append(code)
        return "WELCOME10: 10% off the order"

    def remove_coupon(self, code: str) -> None:
        self.coupons.remove(code)

    def attach_customer(self, customer_id: str | None) -> None:
        self.customer = customer_id

    def create_customer(self, first_name: str, last_name: str | None = None,
                        phone: str | None = None, email: str | None = None) -> str:
        cid = self._id("c")
        name = " ".join(part for part in (first_name, last_name) if part)
        self.customers[cid] = CustomerView(cid, name, phone, email)
        return cid

    def find_customers(self, text: str) -> list[CustomerView]:
        return [c for c in self.customers.values() if text.lower() in c.name.lower()]

    def park(self, label: str) -> str:
        park_id = self._id("park")
        self.parked_sales[park_id] = (label, self.lines, self.cart().total)
        self.clear()
        return park_id

    def parked(self) -> list[ParkedView]:
        return [ParkedView(pid, label, total, NOW) for pid, (label, _, total)
                in self.parked_sales.items()]

    def recall(self, park_id: str) -> None:
        _, self.lines, _ = self.parked_sales.pop(park_id)

    def clear(self) -> None:
        self.lines, self.order_percent, self.coupons, self.customer = [], Decimal(0), [], None

    def quick_amounts(self) -> list[Decimal]:
        total = self.cart().total
        exact = round_money(total, "USD")
        return [exact] + [Decimal(n) for n in (5, 10, 20, 50, 100) if n > exact][:3]

    def complete(self, tenders: list[Any]) -> SaleResult:
        self._need_drawer()
        total = self.cart().total
        paid = sum((t.amount for t in tenders), Decimal(0))
        if paid < total:
            raise InvalidInput("tenders", "The payments do not cover the total yet.")
        number = f"DEMO-1-{len(self.completed) + 1:06d}"
        lines = []
        for line in self.lines:
            line_total, _ = self._line_total(line)
            unit = round_money(line_total * (1 + TAX_RATE) / line.quantity, "USD")
            lines.append((line.line_id, line.hit.name, line.quantity, unit))
        sale = _Sale(self._id("order"), number, lines, total, list(tenders))
        self.completed.append(sale)
        self.pos.status.record_fact()
        cash = sum((t.amount for t in tenders if t.method == PaymentMethod.CASH), Decimal(0))
        change = paid - total if cash else Decimal(0)
        self.pos.drawer.cash_in += cash - change
        warning = self.pos.receipts.print_receipt(number)
        self.clear()
        return SaleResult(sale.order_id, number, total, change, Decimal(0), warning)


class FakeReturns:
    def __init__(self, pos: FakePos) -> None:
        self.pos = pos

    def _view(self, sale: _Sale) -> SaleView:
        lines = [ReturnLineView(item_id, name, qty, qty - sale.refunded.get(item_id, Decimal(0)),
                                unit) for item_id, name, qty, unit in sale.lines]
        methods = [str(t.method).replace("_", " ").title() for t in sale.tenders]
        return SaleView(sale.order_id, sale.receipt_number, NOW, sale.total, lines, methods)

    def find_sale(self, text: str) -> SaleView | None:
        sale = next((s for s in self.pos.sales.completed if s.receipt_number == text.strip()), None)
        return self._view(sale) if sale else None

    def search_sales(self, text: str) -> list[SaleView]:
        return [self._view(s) for s in self.pos.sales.completed if text in s.receipt_number]

    def refund(self, order_id: str, quantities: dict[str, Decimal], *, to: str, reason: Any,
               restock: bool = True, approval: Approval | None = None) -> RefundResult:
        self.pos.auth.authorize("pos.refund", approval, "A refund")
        sale = next(s for s in self.pos.sales.completed if s.order_id == order_id)
        amount = Decimal(0)
        for item_id, name, qty, unit in sale.lines:
            wanted = quantities.get(item_id, Decimal(0))
            if wanted > qty - sale.refunded.get(item_id, Decimal(0)):
                raise RefundRefused(f"Only {qty} of {name} can come back.")
            sale.refunded[item_id] = sale.refunded.get(item_id, Decimal(0)) + wanted
            amount += unit * wanted
        if to == "cash":
            self.pos.drawer.cash_in -= amount
        self.pos.status.record_fact()
        return RefundResult(f"r-{order_id}", amount, f"{sale.receipt_number}-R1")


class FakePos:
    """The contract's PosContext attributes, in memory."""

    currency = "USD"

    def __init__(self, *, needs_setup: bool = False) -> None:
        self.needs_setup = needs_setup
        self.selling_ready = not needs_setup
        self.settings = FakeSettings()
        self.receipts = FakeReceipts(self)
        self.status = FakeStatus(self)
        self.setup = FakeSetup(self)
        self.auth = FakeAuth(self)
        self.drawer = FakeDrawer(self)
        self.sales = FakeSales(self)
        self.returns = FakeReturns(self)
        self.catalog = FakeCatalog()

    def close(self) -> None:
        pass
