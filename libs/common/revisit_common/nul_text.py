"""Where a request holds the NUL character (U+0000), which no text column can store.

PostgreSQL refuses NUL in every ``text``/``varchar`` value (SQLite keeps it), so a NUL that
reaches a query, whether a path id, a query parameter or a JSON string, fails there as a
server error. The web edge asks these functions first and refuses such input as the
client's mistake. Plain functions over decoded values: no Flask, no parsing of HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NUL = "\x00"
MESSAGE = "must not contain the NUL character (U+0000)"


def nul_names(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """The names of the (name, value) pairs, e.g. query parameters, where either holds a
    NUL, in order and without repeats."""
    found: list[str] = []
    for name, value in pairs:
        if (NUL in name or NUL in value) and name not in found:
            found.append(name)
    return found


def nul_fields(document: Any, where: str = "") -> list[str]:
    """The dotted places (``questions.0.text``) of a parsed JSON document whose string or
    object key holds a NUL (``"<body>"`` for a top-level string). The document is at most
    as deep as the edge lets a JSON body be, so recursing is safe."""
    if isinstance(document, str):
        return [where or "<body>"] if NUL in document else []
    if isinstance(document, dict):
        items: Iterable[tuple[Any, Any]] = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        return []
    found: list[str] = []
    for key, value in items:
        place = f"{where}.{key}" if where else str(key)
        if NUL in str(key):
            found.append(place)
        else:
            found.extend(nul_fields(value, place))
    return found
