"""Daily order report."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.models import Customer, Order


def daily_report(session: Session, day) -> list[dict]:
    orders = session.scalars(select(Order).where(Order.day == day)).all()
    rows = []
    for order in orders:
        customer = session.scalars(select(Customer).where(Customer.id == order.customer_id)).one()
        rows.append({"order": order.id, "customer": customer.name, "total": order.total})
    return rows
