"""The errors a use case raises, whatever calls it (a route, an event handler, a job).

They say what went wrong in the domain's words; :mod:`.webapp` turns them into
problem+json in one place (404, 409, 403, 422 with per-field ``errors``). A service's own
error for bad input (a questionnaire, a settings change, a period) subclasses
:class:`Invalid`, so the same mapping covers it. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class UseCaseError(Exception):
    """Base of the errors below (the one class the web app maps)."""


class NotFound(UseCaseError, LookupError):
    """No such thing for this tenant; the message names the thing (``"customer"``)."""


class Conflict(UseCaseError, RuntimeError):
    """The change is not allowed in the current state; the message says why."""


class Forbidden(UseCaseError, PermissionError):
    """The caller may not make this change; the message says why."""


class Invalid(UseCaseError, ValueError):
    """Input the request schema could not judge alone. ``errors`` maps a field (or a
    dotted path) to its messages; ``detail`` is the one-line summary of the response."""

    detail = "invalid fields"

    def __init__(self, errors: Mapping[str, Iterable[str]], detail: str | None = None) -> None:
        self.errors = {key: list(messages) for key, messages in errors.items()}
        if detail is not None:
            self.detail = detail
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))
