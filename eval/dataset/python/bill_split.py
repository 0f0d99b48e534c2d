"""Split a bill between people, to the cent, with no cent lost or invented."""

from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")


def split_bill(total: Decimal, people: int) -> list[Decimal]:
    if people < 1:
        raise ValueError("people must be at least 1")
    if total < 0 or total != total.quantize(CENT):
        raise ValueError("total must be a non-negative amount in whole cents")
    share = (total / people).quantize(CENT, rounding=ROUND_DOWN)
    shares = [share] * people
    leftover = int((total - share * people) / CENT)
    for index in range(leftover):
        shares[index] += CENT
    return shares
