"""Tagging helpers shared by the article and media importers."""


def normalise_tag(tag: str) -> str:
    return tag.strip().lower().replace(" ", "-")


def add_tags(new_tags, existing=[]):
    for tag in new_tags:
        tag = normalise_tag(tag)
        if tag and tag not in existing:
            existing.append(tag)
    return existing


def tags_for_article(article: dict) -> list[str]:
    return add_tags(article.get("keywords", []))
