"""Import and export: customers in from a CSV or XLSX file (``POST /customers/import``, with
a dry run that checks and writes nothing), and the API's exports (customers, visits,
complaints, KPIs as CSV or XLSX) passed through as they stream, headers included.

Only what the person's role may do is offered; the API decides anyway."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from ..blueprint import bp
from ..guard import signed_in
from ..i18n import gettext
from ..words import N_
from .common import call, can, page, stream

# What can be exported: the name in the console's URL → its label; the API's path is
# /<name>/export.
EXPORTS = {
    "customers": N_("Customers"),
    "visits": N_("Visits"),
    "complaints": N_("Complaints"),
    "kpis": N_("KPIs"),
}
FORMATS = ("csv", "xlsx")
IMPORT_PATH = "/customers/import"
# The headers of an export that the console passes on to the browser.
PASSED_HEADERS = ("Content-Type", "Content-Disposition", "Content-Length")


def exports() -> list[tuple[str, str]]:
    """(name, label) of the exports the person may download."""
    return [(name, label) for name, label in EXPORTS.items() if can("GET", f"/{name}/export")]


def transfer_page(status: int = 200, **values: Any):
    may_import, allowed = can("POST", IMPORT_PATH), exports()
    if not may_import and not allowed:
        abort(403)
    values.setdefault("dry_run", True)
    return page(
        "console/transfer.html",
        status,
        may_import=may_import,
        exports=allowed,
        formats=FORMATS,
        **values,
    )


@bp.get("/transfer")
@signed_in
def transfer():
    return transfer_page()


@bp.post("/transfer/import")
@signed_in
def import_customers():
    dry_run = request.form.get("dry_run") == "on"
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        problem = gettext("Choose a CSV or XLSX file.")
        return transfer_page(400, problem=problem, dry_run=dry_run)
    answer = call(
        "POST",
        IMPORT_PATH,
        query={"dry_run": "true" if dry_run else "false"},
        files={"file": (upload.stream, upload.filename)},
    )
    if answer.status in (401, 403):
        abort(403)
    if answer.status != 200:
        status = answer.status if 400 <= answer.status < 500 else 502
        return transfer_page(status, problem=answer.problem(), dry_run=dry_run)
    result = answer.body
    # A file with any invalid row writes nothing: the form again, with each row's errors.
    status = 422 if result["errors"] else 200
    return transfer_page(
        status, result=result, checked=dry_run, filename=upload.filename, dry_run=dry_run
    )


@bp.get("/export/<any(customers, visits, complaints, kpis):what>.<any(csv, xlsx):fmt>")
@signed_in
def export(what: str, fmt: str):
    """The API's export of ``what`` in ``fmt``, with the filters of the query (those of the
    list it exports), streamed to the browser as the API streams it."""
    query = {name: value for name, value in request.args.items() if name != "format"}
    answer = stream(f"/{what}/export", {**query, "format": fmt})
    if answer.status != 200:
        for _chunk in answer.chunks:  # read to the end: the call's resources are released
            pass
        abort(answer.status if answer.status in (400, 403, 404, 422, 429) else 502)
    headers = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
    return Response(answer.chunks, status=200, headers=headers)
