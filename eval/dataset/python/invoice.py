"""Invoice totals for the billing service."""

from dataclasses import dataclass


@dataclass
class Line:
    description: str
    unit_price: float
    quantity: int


VAT_RATE = 0.2


def invoice_total(lines: list[Line]) -> float:
    net = 0.0
    for line in lines:
        net += line.unit_price * line.quantity
    vat = round(net * VAT_RATE, 2)
    return net + vat
