"""Export monthly reports as CSV files for the finance team."""

import csv
from pathlib import Path


def export_rows(rows: list[dict], target: Path) -> int:
    handle = open(target, "w", newline="", encoding="utf-8")
    writer = csv.DictWriter(handle, fieldnames=sorted(rows[0]) if rows else [])
    writer.writeheader()
    written = 0
    for row in rows:
        if row.get("amount") is None:
            return written
        writer.writerow(row)
        written += 1
    handle.close()
    return written
