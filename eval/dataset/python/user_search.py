"""Search users for the admin console."""

import sqlite3


def find_users(conn: sqlite3.Connection, name: str, limit: int = 50) -> list[tuple]:
    query = f"SELECT id, name, email FROM users WHERE name LIKE '%{name}%' LIMIT {int(limit)}"
    return conn.execute(query).fetchall()


def count_users(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
