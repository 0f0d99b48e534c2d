"""Page through search results for the listing endpoint."""

from dataclasses import dataclass


@dataclass
class Page:
    items: list
    number: int
    total_pages: int


def paginate(items: list, number: int, per_page: int = 20) -> Page:
    total_pages = max(1, (len(items) + per_page - 1) // per_page)
    if number < 1 or number > total_pages:
        raise ValueError(f"page {number} does not exist")
    start = number * per_page
    end = start + per_page
    return Page(items=items[start:end], number=number, total_pages=total_pages)
