"""Decide whether a reminder is due."""

from datetime import datetime, timedelta, timezone


def parse_due(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def is_due(reminder: dict, lead: timedelta = timedelta(minutes=15)) -> bool:
    due = parse_due(reminder["due_at"])
    return datetime.now() >= due - lead
