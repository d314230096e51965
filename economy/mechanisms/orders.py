"""Order and fill values shared by the clearing mechanisms (integer units and base-unit prices)."""

from __future__ import annotations

from dataclasses import dataclass

from economy.mechanisms.errors import InvalidOrder

__all__ = ["Ask", "BidOrder", "Fill"]


def _check_id(what: str, field: str, v: object) -> None:
    if not isinstance(v, str) or not v:
        raise InvalidOrder(what, field, "a non-empty str id", v)


def _check_int(what: str, field: str, v: object, minimum: int) -> None:
    # bool is an int subclass; True units or a True price is always a bug
    if type(v) is not int or v < minimum:
        raise InvalidOrder(what, field, f"an int >= {minimum}", v)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ask:
    """A seller's offer: up to `qty` units at no less than `price` per unit.

    Args:
        seller: the seller's id.
        qty: units offered, int >= 1.
        price: the lowest price per unit the seller accepts, base units, int >= 0.
    """

    seller: str
    qty: int
    price: int

    def __post_init__(self) -> None:
        _check_id("Ask", "seller", self.seller)
        _check_int("Ask", "qty", self.qty, 1)
        _check_int("Ask", "price", self.price, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class BidOrder:
    """A buyer's order: up to `qty` units at no more than `price` per unit.

    Args:
        buyer: the buyer's id.
        qty: units wanted, int >= 1.
        price: the most the buyer pays per unit, base units, int >= 0.
    """

    buyer: str
    qty: int
    price: int

    def __post_init__(self) -> None:
        _check_id("BidOrder", "buyer", self.buyer)
        _check_int("BidOrder", "qty", self.qty, 1)
        _check_int("BidOrder", "price", self.price, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """`qty` units passed from `seller` to `buyer` at `price` per unit.

    The buyer pays and the seller receives exactly `qty * price` base units.
    """

    buyer: str
    seller: str
    qty: int
    price: int

    def __post_init__(self) -> None:
        _check_id("Fill", "buyer", self.buyer)
        _check_id("Fill", "seller", self.seller)
        _check_int("Fill", "qty", self.qty, 1)
        _check_int("Fill", "price", self.price, 0)

    @property
    def amount(self) -> int:
        """Base units paid by the buyer to the seller."""
        return self.qty * self.price
