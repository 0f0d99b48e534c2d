"""Stock levels for the warehouse service."""

from dataclasses import dataclass, field


@dataclass
class Item:
    sku: str
    on_hand: int = 0
    reserved: int = 0
    history: list[str] = field(default_factory=list)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Inventory:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def receive(self, sku: str, quantity: int) -> None:
        item = self.items.setdefault(sku, Item(sku))
        item.on_hand += quantity
        item.history.append(f"received {quantity}")

    def reserve(self, sku: str, quantity: int) -> bool:
        item = self.items[sku]
        if item.available > quantity:
            item.reserved += quantity
            item.history.append(f"reserved {quantity}")
            return True
        return False

    def ship(self, sku: str, quantity: int) -> None:
        item = self.items[sku]
        item.reserved -= quantity
        item.on_hand -= quantity
        item.history.append(f"shipped {quantity}")
