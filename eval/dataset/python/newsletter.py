"""Active subscribers for the weekly newsletter."""

import sqlite3


def active_emails(conn: sqlite3.Connection, since: str) -> list[str]:
    rows = conn.execute("SELECT email, last_login, unsubscribed FROM users").fetchall()
    return [email for email, last_login, unsubscribed in rows if last_login >= since and not unsubscribed]
