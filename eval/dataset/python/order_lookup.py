"""Look up a customer's orders for the support tool."""

import sqlite3

SORT_COLUMNS = {"created": "created_at", "total": "total_cents"}


def orders_for(conn: sqlite3.Connection, customer_id: int, sort: str = "created") -> list[tuple]:
    column = SORT_COLUMNS.get(sort)
    if column is None:
        raise ValueError(f"cannot sort by {sort!r}")
    query = f"SELECT id, total_cents, created_at FROM orders WHERE customer_id = ? ORDER BY {column}"
    return conn.execute(query, (customer_id,)).fetchall()
