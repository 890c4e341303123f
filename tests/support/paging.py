"""Reading a list route of the API page by page, as a client follows ``next_cursor``."""

from __future__ import annotations


def every_item(client, path: str, limit: int, **query) -> list[dict]:
    """The items of every page of ``path`` (``limit`` a page), each page answered 200."""
    items, cursor = [], None
    while True:
        page = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, query_string=page)
        assert r.status_code == 200, r.json
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items
