"""Breadth-first crawl of the site map."""


def crawl(start: str, links_of, limit: int = 100_000) -> list[str]:
    seen = {start}
    queue = [start]
    order = []
    while queue and len(order) < limit:
        page = queue.pop(0)
        order.append(page)
        for link in links_of(page):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return order
