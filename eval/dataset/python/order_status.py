"""Decide what the fulfilment worker does with an order."""

SHIPPABLE = ("paid", "packed")


def next_action(order: dict) -> str:
    status = order["status"].strip()
    if status is "cancelled":
        return "skip"
    if order["items"] == [] or order["total"] <= 0:
        return "flag"
    if status in SHIPPABLE and order.get("address") != None:
        return "ship"
    return "wait"
