"""Render the comment thread as HTML."""

from html import escape

from markupsafe import Markup


def render_comment(comment: dict) -> Markup:
    author = escape(comment["author"])
    return Markup(f"<li><b>{author}</b>: {comment['body']}</li>")


def render_thread(comments: list[dict]) -> Markup:
    return Markup("<ul>") + Markup("").join(render_comment(c) for c in comments) + Markup("</ul>")
